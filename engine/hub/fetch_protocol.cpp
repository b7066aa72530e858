// SPDX-License-Identifier: GPL-2.0-or-later
// The btfd-fetch protocol (fetch_protocol.hpp): the schema and both directions.
#include "hub/fetch_protocol.hpp"

#include <unistd.h>

#include <cerrno>
#include <concepts>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "util/fd.hpp"

namespace btfd::hub {
namespace {

// ---------------------------------------------------------------------------
// The schema: how each struct that crosses the boundary is one JSON object.
// Codec<T> turns one C++ type into one JSON value and back; Schema<S>::fields
// lists S's members, and write_object/read_object walk that list, so both
// directions come from the same line per field.

using Json = nlohmann::json;

Error protocol_error(std::string message) { return make_error(Errc::protocol, std::move(message)); }

// What a peer sent, quoted in an error: short and on one line.
std::string clip(std::string_view s, size_t max = 64) {
  std::string out(s.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return out;
}

template <class S>
struct Field {
  const char* name;
  bool required;                                // an unset std::optional member is left out
  void (*put)(const S&, const char* name, Json& object);
  Status (*take)(const Json& value, S& into);  // the reason carries no field name: the caller adds it
};

// Schema<S>::fields: the table of a struct S (specialized below for each).
template <class S>
struct Schema;

// The codec of a struct: its table. Every other kind is a specialization.
template <class T>
struct Codec {
  static Json put(const T& v) {
    Json o = Json::object();
    for (const auto& f : Schema<T>::fields) f.put(v, f.name, o);
    return o;
  }
  static Status take(const Json& j, T* out) {
    if (!j.is_object()) return protocol_error("must be an object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const Field<T>* f = nullptr;
      for (const auto& candidate : Schema<T>::fields)
        if (it.key() == candidate.name) f = &candidate;
      if (!f) return protocol_error("unknown field \"" + clip(it.key()) + "\"");
      if (auto st = f->take(it.value(), *out); !st) return std::move(st).error().wrap(std::string("\"") + f->name + "\"");
    }
    for (const auto& f : Schema<T>::fields)
      if (f.required && !j.contains(f.name)) return protocol_error(std::string("missing field \"") + f.name + "\"");
    return {};
  }
};

template <>
struct Codec<std::string> {
  static Json put(const std::string& s) { return s; }
  static Status take(const Json& j, std::string* out) {
    if (!j.is_string()) return protocol_error("must be a string");
    *out = j.get_ref<const std::string&>();
    return {};
  }
};

template <>
struct Codec<bool> {
  static Json put(bool b) { return b; }
  static Status take(const Json& j, bool* out) {
    if (!j.is_boolean()) return protocol_error("must be true or false");
    *out = j.get<bool>();
    return {};
  }
};

// Whole numbers only, in the member's range: a fraction is refused, not
// rounded. (A number past a double's range, 1e400, never gets here: the
// parser refuses it, so nothing non-finite can be read.)
template <class T>
  requires(std::integral<T> && !std::same_as<T, bool>)
struct Codec<T> {
  static Json put(T v) { return v; }
  static Status take(const Json& j, T* out) {
    if (j.is_number_float()) return protocol_error("must be a whole number");
    if (!j.is_number_integer()) return protocol_error("must be a number");
    bool fits = j.is_number_unsigned() ? std::in_range<T>(j.get<uint64_t>()) : std::in_range<T>(j.get<int64_t>());
    if (!fits) return protocol_error("is out of range");
    *out = j.is_number_unsigned() ? static_cast<T>(j.get<uint64_t>()) : static_cast<T>(j.get<int64_t>());
    return {};
  }
};

// An enum travels as its name; EnumNames<E> gives the name of each value.
template <class E>
struct EnumNames;

template <>
struct EnumNames<Errc> {
  static const char* name(Errc c) { return errc_name(c); }
  static std::optional<Errc> from(std::string_view s) {
    for (int c = static_cast<int>(Errc::invalid_argument); c <= static_cast<int>(Errc::internal); ++c)
      if (s == errc_name(static_cast<Errc>(c))) return static_cast<Errc>(c);
    return std::nullopt;
  }
};

constexpr std::pair<FetchFailure, const char*> kFailureNames[] = {
    {FetchFailure::none, "none"},         {FetchFailure::not_found, "not-found"}, {FetchFailure::transient, "transient"},
    {FetchFailure::fatal, "fatal"},       {FetchFailure::payload, "payload"},     {FetchFailure::local, "local"},
};

template <>
struct EnumNames<FetchFailure> {
  static const char* name(FetchFailure f) {
    for (const auto& entry : kFailureNames)
      if (entry.first == f) return entry.second;
    return "fatal";
  }
  static std::optional<FetchFailure> from(std::string_view s) {
    for (const auto& entry : kFailureNames)
      if (s == entry.second) return entry.first;
    return std::nullopt;
  }
};

template <class E>
  requires std::is_enum_v<E>
struct Codec<E> {
  static Json put(E e) { return EnumNames<E>::name(e); }
  static Status take(const Json& j, E* out) {
    if (!j.is_string()) return protocol_error("must be a string");
    auto e = EnumNames<E>::from(j.get_ref<const std::string&>());
    if (!e) return protocol_error("unknown value \"" + clip(j.get_ref<const std::string&>()) + "\"");
    *out = *e;
    return {};
  }
};

template <class T>
inline constexpr bool kIsOptional = false;
template <class T>
inline constexpr bool kIsOptional<std::optional<T>> = true;

template <auto Member>
struct MemberOf;
template <class S, class T, T S::*Member>
struct MemberOf<Member> {
  using Struct = S;
  using Type = T;
};

// One line of a table: field<&S::member>("name"), or with a check of the
// decoded value, field<&S::member, check>("name") (check: Status(const T&)).
// A std::optional member is optional in the JSON too: unset, it is left out.
template <auto Member, auto Check = nullptr>
constexpr Field<typename MemberOf<Member>::Struct> field(const char* name) {
  using S = typename MemberOf<Member>::Struct;
  using T = typename MemberOf<Member>::Type;
  if constexpr (kIsOptional<T>) {
    using V = typename T::value_type;
    return {name, false,
            [](const S& s, const char* n, Json& o) {
              if (s.*Member) o[n] = Codec<V>::put(*(s.*Member));
            },
            [](const Json& j, S& s) -> Status {
              V v{};
              BTFD_TRY_VOID(Codec<V>::take(j, &v));
              if constexpr (!std::is_null_pointer_v<decltype(Check)>) BTFD_TRY_VOID(Check(v));
              s.*Member = std::move(v);
              return {};
            }};
  } else {
    return {name, true, [](const S& s, const char* n, Json& o) { o[n] = Codec<T>::put(s.*Member); },
            [](const Json& j, S& s) -> Status {
              T v{};
              BTFD_TRY_VOID(Codec<T>::take(j, &v));
              if constexpr (!std::is_null_pointer_v<decltype(Check)>) BTFD_TRY_VOID(Check(v));
              s.*Member = std::move(v);
              return {};
            }};
  }
}

Status known_auth(const std::string& auth) {
  if (auth.empty() || auth == "bearer" || auth == "basic") return {};
  return protocol_error("must be \"\", \"bearer\" or \"basic\"");
}

Status known_kind(const std::string& kind) {
  if (kind == kKindArchive || kind == kKindDebuginfo) return {};
  return protocol_error("must be \"archive\" or \"debuginfo\"");
}

// The tables. A leaf struct comes before a struct that holds it.

template <>
struct Schema<DownloadLimits> {
  static constexpr Field<DownloadLimits> fields[] = {
      field<&DownloadLimits::connect_timeout_ms>("connect_timeout_ms"),
      field<&DownloadLimits::total_timeout_ms>("total_timeout_ms"),
      field<&DownloadLimits::low_speed_time_s>("low_speed_time_s"),
      field<&DownloadLimits::max_bytes>("max_bytes"),
      field<&DownloadLimits::max_redirects>("max_redirects"),
  };
};

template <>
struct Schema<ExtractLimits> {
  static constexpr Field<ExtractLimits> fields[] = {
      field<&ExtractLimits::max_output_bytes>("max_output_bytes"),
      field<&ExtractLimits::max_entries>("max_entries"),
  };
};

// Paths and host names only: a credential is read by the helper from its
// file, so it never crosses the boundary at all.
template <>
struct Schema<Transport> {
  static constexpr Field<Transport> fields[] = {
      field<&Transport::proxy>("proxy"),
      field<&Transport::no_proxy>("no_proxy"),
      field<&Transport::ca_file>("ca_file"),
      field<&Transport::client_cert>("client_cert"),
      field<&Transport::client_key>("client_key"),
      field<&Transport::auth, known_auth>("auth"),
      field<&Transport::auth_file>("auth_file"),
      field<&Transport::proxy_auth_file>("proxy_auth_file"),
  };
};

template <>
struct Schema<AttemptRequest> {
  static constexpr Field<AttemptRequest> fields[] = {
      field<&AttemptRequest::kind, known_kind>("kind"),
      field<&AttemptRequest::url>("url"),
      field<&AttemptRequest::release>("release"),
      field<&AttemptRequest::download>("download"),
      field<&AttemptRequest::extract>("extract"),
      field<&AttemptRequest::temp_dir>("temp_dir"),
      field<&AttemptRequest::sums_url>("sums_url"),
      field<&AttemptRequest::sums_entry>("sums_entry"),
      field<&AttemptRequest::transport>("transport"),
      field<&AttemptRequest::sums_cache>("sums_cache"),
  };
};

template <>
struct Schema<HelperRequest> {
  static constexpr Field<HelperRequest> fields[] = {
      field<&HelperRequest::parent>("parent"),
      field<&HelperRequest::attempt>("attempt"),
  };
};

template <>
struct Schema<Progress> {
  static constexpr Field<Progress> fields[] = {
      field<&Progress::downloaded>("downloaded"),
      field<&Progress::total>("total"),
  };
};

template <>
struct Schema<AttemptResult> {
  static constexpr Field<AttemptResult> fields[] = {
      field<&AttemptResult::downloaded>("downloaded"),
      field<&AttemptResult::size>("size"),
      field<&AttemptResult::checksum_verified>("checksum_verified"),
  };
};

template <>
struct Schema<Error> {
  static constexpr Field<Error> fields[] = {
      field<&Error::code>("code"),
      field<&Error::sys_errno>("errno"),
      field<&Error::message>("message"),
  };
};

template <>
struct Schema<FailReport> {
  static constexpr Field<FailReport> fields[] = {
      field<&FailReport::error>("error"),
      field<&FailReport::failure>("failure"),
  };
};

// No document of the protocol nests deeper than 3; a deeper value is not
// even kept while parsing.
constexpr int kMaxDepth = 8;

// text as one JSON value, refusing a name given twice in one object (which
// "the last one wins" would otherwise settle silently) and deep nesting.
Result<Json> parse_json(std::string_view text) {
  std::vector<std::unordered_set<std::string>> keys;  // one per open object
  std::string duplicate;
  bool too_deep = false;
  auto cb = [&](int depth, Json::parse_event_t ev, Json& parsed) {
    using E = Json::parse_event_t;
    if (depth > kMaxDepth) {
      too_deep = true;
      return false;
    }
    if (ev == E::object_start) keys.emplace_back();
    else if (ev == E::object_end && !keys.empty()) keys.pop_back();
    else if (ev == E::key && !keys.empty() && !keys.back().insert(parsed.get_ref<const std::string&>()).second &&
             duplicate.empty())
      duplicate = parsed.get_ref<const std::string&>();
    return true;
  };
  // Thrown only to say where and why the text is not JSON (a number past a
  // double's range included); caught right here.
  try {
    Json j = Json::parse(text.begin(), text.end(), cb);
    if (too_deep) return protocol_error("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (!duplicate.empty()) return protocol_error("names \"" + clip(duplicate) + "\" twice in one object");
    return j;
  } catch (const Json::exception& e) {
    return protocol_error("not valid JSON: " + clip(e.what(), 256));
  }
}

// The whole of text as a T, or a named error; nothing in it throws past here.
template <class T>
Result<T> decode(const Json& j) {
  T out{};
  try {
    BTFD_TRY_VOID(Codec<T>::take(j, &out));
  } catch (const Json::exception& e) {
    return protocol_error(e.what());
  }
  return out;
}

// Report records: one name per kind, one row per kind for the reader.
constexpr const char* kProgressRecord = "progress";
constexpr const char* kDoneRecord = "done";
constexpr const char* kFailRecord = "fail";

template <class T>
Result<ReportRecord> take_record(const Json& j) {
  BTFD_TRY(T v, decode<T>(j));
  return ReportRecord(std::move(v));
}

struct RecordKind {
  const char* name;
  Result<ReportRecord> (*take)(const Json&);
};
constexpr RecordKind kRecordKinds[] = {
    {kProgressRecord, take_record<Progress>},
    {kDoneRecord, take_record<AttemptResult>},
    {kFailRecord, take_record<FailReport>},
};

template <class T>
std::string write_record(const char* kind, const T& v) {
  Json line = Json::object();
  line[kind] = Codec<T>::put(v);
  // Never throws: a message's bytes that are not UTF-8 become U+FFFD.
  return line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace

Result<std::string> format_request(const HelperRequest& req) {
  try {
    return Codec<HelperRequest>::put(req).dump();
  } catch (const Json::exception& e) {  // a string that is not UTF-8 (type_error 316)
    return make_error(Errc::invalid_argument, std::string("the fetch helper's request cannot be written: ") + e.what());
  }
}

Result<HelperRequest> parse_request(std::string_view text) {
  if (text.size() > kMaxRequestBytes)
    return protocol_error("request larger than " + std::to_string(kMaxRequestBytes) + " bytes");
  BTFD_TRY(Json j, parse_json(text));
  auto req = decode<HelperRequest>(j);
  if (!req) return std::move(req).error().wrap("request");
  if (req->attempt.url.empty() || req->attempt.release.empty())
    return protocol_error("request: \"url\" and \"release\" must not be empty");
  return req;
}

Result<HelperRequest> read_request(int fd) {
  auto bytes = read_all(fd, kMaxRequestBytes);
  if (!bytes && bytes.error().code == Errc::too_large)
    return protocol_error("request larger than " + std::to_string(kMaxRequestBytes) + " bytes");
  if (!bytes) return std::move(bytes).error().wrap("cannot read the request");
  return parse_request(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

std::string format_progress(const Progress& p) { return write_record(kProgressRecord, p); }

std::string format_done(const AttemptResult& r) { return write_record(kDoneRecord, r); }

std::string format_fail(const Error& e, FetchFailure failure) {
  // Bounded, so that the line is (kMaxReportLine even with every byte escaped),
  // and on one line in the daemon's log.
  FailReport r{e, failure};
  if (r.error.message.size() > 1024) r.error.message.resize(1024);
  for (char& c : r.error.message)
    if (c == '\n' || c == '\r') c = ' ';
  return write_record(kFailRecord, r);
}

Result<ReportRecord> parse_report_line(std::string_view line) {
  if (line.size() > kMaxReportLine)
    return protocol_error("a report line is longer than " + std::to_string(kMaxReportLine) + " bytes");
  BTFD_TRY(Json j, parse_json(line));
  if (!j.is_object() || j.size() != 1) return protocol_error("a report line must be an object with one member");
  for (const auto& kind : kRecordKinds)
    if (j.begin().key() == kind.name) {
      auto r = kind.take(j.begin().value());
      if (!r) return std::move(r).error().wrap(std::string("\"") + kind.name + "\"");
      return r;
    }
  return protocol_error("unknown report \"" + clip(j.begin().key()) + "\"");
}

}  // namespace btfd::hub

// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/fetch_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "btfd-config.h"
#include "hub/btf_check.hpp"
#include "util/fd.hpp"

extern char** environ;

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

// ---------------------------------------------------------------------------
// The daemon's side: one try in one child.

std::mutex g_running_mu;
std::set<pid_t> g_running;  // helpers not yet reaped: a pid here cannot have been reused
bool g_cancelled = false;   // after cancel_running_helpers, no new helper starts

// The request, written whole into a memfd for the child's stdin.
Result<UniqueFd> request_fd(const AttemptRequest& req) {
  BTFD_TRY(std::string text, format_request(HelperRequest{::getpid(), req}));
  UniqueFd mem(::memfd_create("btfd-fetch-request", MFD_CLOEXEC));
  if (!mem) return sys_error(errno, "cannot create the fetch helper's request");
  BTFD_TRY_VOID(write_all(mem.get(), text));
  if (::lseek(mem.get(), 0, SEEK_SET) < 0) return sys_error(errno, "cannot rewind the fetch helper's request");
  return mem;
}

struct Child {
  pid_t pid = -1;
  UniqueFd report;  // the read end of its fd 4
};

// Starts the helper with the request as stdin, the output as fd 3 and a
// report pipe as fd 4, and counts it as running.
Result<Child> spawn_helper(const std::string& helper, int request, int out_fd) {
  {
    std::lock_guard lock(g_running_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "downloads are cancelled: btfd is stopping");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return sys_error(errno, "cannot create a pipe for the fetch helper");
  Child child;
  child.report = UniqueFd(pipe_fds[0]);
  UniqueFd report_w(pipe_fds[1]);
  char* argv[] = {const_cast<char*>(helper.c_str()), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  // dup2 onto 0, 3 and 4 clears close-on-exec there; every other descriptor
  // of ours is close-on-exec and closefrom makes sure of it.
  posix_spawn_file_actions_adddup2(&fa, request, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 3);
  posix_spawn_file_actions_adddup2(&fa, report_w.get(), 4);
  posix_spawn_file_actions_addclosefrom_np(&fa, 5);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // The daemon blocks SIGTERM & co. for its event loop; the child must not inherit that.
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int err = posix_spawn(&child.pid, helper.c_str(), &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err) return sys_error(err, "cannot start the fetch helper \"" + helper + "\"");
  std::lock_guard lock(g_running_mu);
  g_running.insert(child.pid);
  return child;
}

// What the child reported. A fail record wins over a done record.
struct Report {
  std::optional<AttemptResult> done;
  std::optional<FailReport> failed;
  std::optional<Error> malformed;  // the first line that broke the protocol; later lines are not read
  bool timed_out = false;
};

void take_line(std::string_view line, const ProgressFn& progress, Report* r) {
  auto record = parse_report_line(line);
  if (!record) {
    r->malformed = std::move(record).error();
    return;
  }
  if (auto* p = std::get_if<Progress>(&*record)) {
    if (progress) progress(*p);
  } else if (auto* done = std::get_if<AttemptResult>(&*record)) {
    r->done = *done;
  } else {
    r->failed = std::get<FailReport>(std::move(*record));
  }
}

// Reads report lines until the child closes fd 4, the deadline passes or a
// line is longer than the protocol allows.
Report read_reports(int fd, std::chrono::steady_clock::time_point deadline, const ProgressFn& progress) {
  Report report;
  std::string buf;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      report.timed_out = true;
      break;
    }
    struct pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char chunk[4096];
    ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    buf.append(chunk, static_cast<size_t>(got));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      if (!report.malformed) take_line(std::string_view(buf).substr(0, nl), progress, &report);
      buf.erase(0, nl + 1);
    }
    // A misbehaving child cannot make us buffer more than one line.
    if (buf.size() > kMaxReportLine) {
      if (!report.malformed)
        report.malformed = protocol_error("a report line is longer than " + std::to_string(kMaxReportLine) + " bytes");
      break;
    }
  }
  return report;
}

// Waits for the child until the deadline, then kills it; leaves g_running.
// Reaping and leaving g_running happen under one lock, so that
// cancel_running_helpers never signals a pid that was reaped (and reused).
// Sets *timed_out when the child had to be killed for lingering.
int reap(pid_t pid, std::chrono::steady_clock::time_point deadline, bool* timed_out) {
  int status = 0;
  for (;;) {
    {
      std::lock_guard lock(g_running_mu);
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      bool late = w == 0 && std::chrono::steady_clock::now() >= deadline;
      if (late) {
        *timed_out = true;
        ::kill(pid, SIGKILL);
        while ((w = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        }
      }
      if (w == pid || (w < 0 && errno != EINTR)) {
        g_running.erase(pid);
        return status;
      }
    }
    ::usleep(5000);
  }
}

// The try's result from how the child ended and what it reported; a done
// report is checked against the output, not taken on its word.
Result<AttemptResult> judge(const AttemptRequest& req, int out_fd, int status, Report report, FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  if (report.timed_out) return make_error(Errc::timeout, "the fetch helper did not finish \"" + req.url + "\" in time");
  if (report.malformed)
    return std::move(*report.malformed).wrap("the fetch helper sent a malformed report for \"" + req.url + "\"");
  {
    std::lock_guard lock(g_running_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "download of \"" + req.url + "\" cancelled: btfd is stopping");
  }
  if (WIFSIGNALED(status)) {
    // Most likely a parser fell over on what the mirror sent.
    *failure = FetchFailure::payload;
    return make_error(Errc::corrupt, "the fetch helper died of signal " + std::to_string(WTERMSIG(status)) +
                                         " while fetching \"" + req.url + "\"");
  }
  if (report.failed) {
    *failure = report.failed->failure;
    return std::move(report.failed->error);
  }
  if (!report.done)
    return make_error(Errc::internal, "the fetch helper exited (status " + std::to_string(WEXITSTATUS(status)) +
                                          ") without a valid report for \"" + req.url + "\"");
  // The child is where hostile input is parsed; its word is not taken for the
  // output. Checking it again here is cheap next to the download.
  *failure = FetchFailure::payload;
  BTFD_TRY(uint64_t written, file_size(out_fd));
  if (written != report.done->size)
    return make_error(Errc::corrupt, "the fetch helper reported " + std::to_string(report.done->size) +
                                         " bytes of BTF but wrote " + std::to_string(written));
  if (auto st = check_kernel_btf_fd(out_fd, req.extract.max_output_bytes); !st)
    return std::move(st).error().wrap("output of the fetch helper for \"" + req.url + "\"");
  *failure = FetchFailure::none;
  return *report.done;
}

Result<AttemptResult> run_helper(const std::string& helper, std::chrono::milliseconds grace, const AttemptRequest& req,
                                 int out_fd, const ProgressFn& progress, FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  BTFD_TRY(UniqueFd request, request_fd(req));
  BTFD_TRY(Child child, spawn_helper(helper, request.get(), out_fd));
  // The child enforces the transfer limits itself; this bound only catches a
  // child that hangs outside them.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.download.total_timeout_ms) + grace;
  Report report = read_reports(child.report.get(), deadline, progress);
  if (report.timed_out || report.malformed) ::kill(child.pid, SIGKILL);
  // A child that closed its report but lingers gets until the deadline too.
  int status = reap(child.pid, deadline, &report.timed_out);
  return judge(req, out_fd, status, std::move(report), failure);
}

}  // namespace

void cancel_running_helpers() {
  std::lock_guard lock(g_running_mu);
  g_cancelled = true;
  for (pid_t pid : g_running) ::kill(pid, SIGKILL);
}

std::string default_fetch_helper() {
  if (const char* env = std::getenv("BTFD_FETCH_HELPER"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.erase(dir.rfind('/') + 1);
    if (::access((dir + "btfd-fetch").c_str(), X_OK) == 0) return dir + "btfd-fetch";
  }
  return BTFD_FETCH_HELPER;
}

AttemptFn fetch_helper_attempt(std::string helper_path, std::chrono::milliseconds grace) {
  return [helper = std::move(helper_path), grace](const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                                                  FetchFailure* failure) {
    return run_helper(helper, grace, req, out_fd, progress, failure);
  };
}

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

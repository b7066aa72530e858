// SPDX-License-Identifier: GPL-2.0-or-later
#include "service/stats.hpp"

#include <cctype>
#include <sstream>

#include "util/fd.hpp"
#include <string_view>

namespace btfd::server {

namespace {
// A Prometheus label value: backslash, double quote and newline escaped, so no
// value can end the label or the line.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}
}  // namespace

void Stats::request(const char* method, const char* outcome, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{method, outcome}];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  ++latency_[b];
  latency_sum_ += seconds;
  ++latency_count_;
}

nlohmann::json Stats::to_json() const {
  std::lock_guard lock(mu_);
  nlohmann::json req = nlohmann::json::object();
  for (const auto& [k, n] : requests_) req[k.first][k.second] = n;
  nlohmann::json hist = nlohmann::json::array();
  for (size_t i = 0; i < latency_.size(); ++i)
    hist.push_back({{"le", i < kBuckets.size() ? nlohmann::json(kBuckets[i]) : nlohmann::json("+Inf")},
                    {"count", latency_[i]}});
  return {{"requests", req},
          {"cache", {{"hits", hits.load()}, {"misses", misses.load()}, {"minimized_hits", minimized_hits.load()}}},
          {"sources", {{"native", native.load()}, {"hub", hub_fetches.load()}, {"minimized", minimized.load()}}},
          {"hub_bytes", hub_bytes.load()},
          {"coalesced", coalesced.load()},
          {"limits", {{"refused_connections", refused_connections.load()}, {"refused_descriptors", refused_fds.load()},
                      {"refused_calls", refused_calls.load()}, {"dropped_clients", dropped_clients.load()}}},
          {"prefetch", {{"runs", prefetches.load()}, {"failures", prefetch_failures.load()},
                        {"kernels_seen", upgrades_seen.load()}}},
          {"latency_seconds", {{"buckets", hist}, {"sum", latency_sum_}, {"count", latency_count_}}}};
}

std::string Stats::to_prometheus(const nlohmann::json& extra) const {
  std::ostringstream o;
  nlohmann::json j = to_json();
  o << "# HELP btfd_requests_total Varlink requests by method and outcome.\n# TYPE btfd_requests_total counter\n";
  for (auto& [method, outcomes] : j["requests"].items())
    for (auto& [outcome, n] : outcomes.items())
      o << "btfd_requests_total{method=\"" << label_value(method) << "\",outcome=\"" << label_value(outcome) << "\"} "
        << n.get<uint64_t>() << "\n";
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n" << name << " " << v << "\n";
  };
  counter("btfd_cache_hits_total", "Kernel BTF answered from the cache.", hits.load());
  counter("btfd_cache_misses_total", "Kernel BTF not in the cache.", misses.load());
  counter("btfd_native_total", "Kernel BTF taken from the running kernel.", native.load());
  counter("btfd_hub_fetches_total", "Kernel BTF fetched from a hub mirror.", hub_fetches.load());
  counter("btfd_hub_bytes_total", "Bytes downloaded from hub mirrors.", hub_bytes.load());
  counter("btfd_minimized_total", "Minimized BTF computed.", minimized.load());
  counter("btfd_prefetch_total", "Prefetch runs.", prefetches.load());
  counter("btfd_prefetch_failures_total", "Prefetch runs that failed.", prefetch_failures.load());
  counter("btfd_refused_connections_total", "Connections refused over a connection budget.", refused_connections.load());
  counter("btfd_refused_descriptors_total", "Clients cut off over the descriptor budget.", refused_fds.load());
  counter("btfd_refused_calls_total", "Calls refused over the call budget (MaxCallsPerUser=, MaxCalls=).",
          refused_calls.load());
  counter("btfd_dropped_clients_total", "Clients dropped for not reading replies or sending too slowly.", dropped_clients.load());
  o << "# HELP btfd_request_duration_seconds Request latency.\n# TYPE btfd_request_duration_seconds histogram\n";
  uint64_t cum = 0;
  for (auto& b : j["latency_seconds"]["buckets"]) {
    cum += b["count"].get<uint64_t>();
    std::string le = b["le"].is_string() ? "+Inf" : std::to_string(b["le"].get<double>());
    o << "btfd_request_duration_seconds_bucket{le=\"" << le << "\"} " << cum << "\n";
  }
  o << "btfd_request_duration_seconds_sum " << j["latency_seconds"]["sum"].get<double>() << "\n";
  o << "btfd_request_duration_seconds_count " << j["latency_seconds"]["count"].get<uint64_t>() << "\n";
  // Metrics the server adds (held resources, per mirror): {name: {type,
  // help, value}}, value a number or {mirror label: number}.
  for (auto& [name, m] : extra.items()) {
    const nlohmann::json& v = m.contains("value") ? m["value"] : m;
    std::string type = m.value("type", "gauge"), help = m.value("help", "");
    if (!help.empty()) o << "# HELP " << name << " " << help << "\n";
    o << "# TYPE " << name << " " << type << "\n";
    if (v.is_object()) {
      for (auto& [label, val] : v.items())
        o << name << "{mirror=\"" << label_value(label) << "\"} " << val.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      o << name << " " << v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
  return o.str();
}

}  // namespace btfd::server

namespace btfd::server {

namespace {
// Names btfd itself writes: method and outcome keys are short identifiers.
bool plain_key(const std::string& k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) return false;
  return true;
}
}  // namespace

Status Stats::save(const std::string& path) const {
  std::string text = to_json().dump();
  return write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0644);
}

Status Stats::load(const std::string& path) {
  auto text = read_text_file(path, 1 << 20);
  if (!text) return text.error().code == Errc::not_found ? Status() : Status(std::move(text).error());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::corrupt, "\"" + path + "\" is not JSON");
  auto num = [&](const nlohmann::json& o, const char* a, const char* b) -> uint64_t {
    if (!o.is_object() || !o.contains(a)) return 0;
    const auto& x = o[a];
    if (b) return x.is_object() && x.contains(b) && x[b].is_number_unsigned() ? x[b].get<uint64_t>() : 0;
    return x.is_number_unsigned() ? x.get<uint64_t>() : 0;
  };
  hits += num(j, "cache", "hits");
  misses += num(j, "cache", "misses");
  minimized_hits += num(j, "cache", "minimized_hits");
  native += num(j, "sources", "native");
  hub_fetches += num(j, "sources", "hub");
  minimized += num(j, "sources", "minimized");
  hub_bytes += num(j, "hub_bytes", nullptr);
  coalesced += num(j, "coalesced", nullptr);
  prefetches += num(j, "prefetch", "runs");
  prefetch_failures += num(j, "prefetch", "failures");
  upgrades_seen += num(j, "prefetch", "kernels_seen");
  refused_connections += num(j, "limits", "refused_connections");
  refused_fds += num(j, "limits", "refused_descriptors");
  refused_calls += num(j, "limits", "refused_calls");
  dropped_clients += num(j, "limits", "dropped_clients");
  std::lock_guard lock(mu_);
  if (j.contains("requests") && j["requests"].is_object())
    for (const auto& [method, outcomes] : j["requests"].items()) {
      if (!plain_key(method) || !outcomes.is_object()) continue;
      for (const auto& [outcome, n] : outcomes.items())
        if (plain_key(outcome) && n.is_number_unsigned()) requests_[{method, outcome}] += n.get<uint64_t>();
    }
  if (j.contains("latency_seconds") && j["latency_seconds"].is_object()) {
    const auto& l = j["latency_seconds"];
    if (l.contains("buckets") && l["buckets"].is_array() && l["buckets"].size() == latency_.size())
      for (size_t i = 0; i < latency_.size(); ++i)
        if (l["buckets"][i].is_object() && l["buckets"][i].contains("count") &&
            l["buckets"][i]["count"].is_number_unsigned())
          latency_[i] += l["buckets"][i]["count"].get<uint64_t>();
    if (l.contains("sum") && l["sum"].is_number()) latency_sum_ += l["sum"].get<double>();
    if (l.contains("count") && l["count"].is_number_unsigned()) latency_count_ += l["count"].get<uint64_t>();
  }
  return {};
}

}  // namespace btfd::server

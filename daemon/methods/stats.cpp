// SPDX-License-Identifier: GPL-2.0-or-later
// io.btfd.Stats: counters, what clients make btfd hold, per-mirror health;
// with prometheus=true also as the Prometheus text exposition.
#include "methods/methods.hpp"
#include "varlink/params.hpp"

namespace btfd::server::methods {

using nlohmann::json;

namespace {
struct Params {
  bool prometheus = false;
};
const Binding<Params> kParams[] = {bind<&Params::prometheus>("prometheus")};

json gauge(const char* help, json v) { return json{{"type", "gauge"}, {"help", help}, {"value", std::move(v)}}; }

// Per mirror, labelled by its base URL (since btfd started): across a fleet,
// which mirror answers, lacks kernels, fails or is skipped.
struct PerMirror {
  const char* metric;
  const char* field;
  const char* type;
  const char* help;
};
constexpr PerMirror kPerMirror[] = {
    {"btfd_mirror_requests_total", "requests", "counter", "Requests sent to the mirror."},
    {"btfd_mirror_not_found_total", "not_found", "counter", "Kernels the mirror does not have."},
    {"btfd_mirror_errors_total", "errors", "counter", "Requests that failed (not counting not found)."},
    {"btfd_mirror_timeouts_total", "timeouts", "counter", "Requests that timed out or stalled."},
    {"btfd_mirror_skipped_total", "skipped", "counter", "Requests not sent while the mirror's circuit was open."},
    {"btfd_mirror_bytes_total", "bytes", "counter", "Bytes downloaded from the mirror."},
    {"btfd_mirror_healthy", "healthy", "gauge", "1 when the mirror is asked, 0 while it is skipped or broken."}};

std::string prometheus_text(Server& s, const json& stats) {
  const json& held = stats["held"];
  json metrics = {
      {"btfd_hot_kernels_bytes", gauge("Parsed kernel BTF kept in memory.", s.service().hot_bytes())},
      {"btfd_connections", gauge("Client connections open.", s.connections())},
      {"btfd_held_descriptors", gauge("Descriptors clients passed that btfd holds.", held["descriptors"])},
      {"btfd_held_object_bytes", gauge("Object bytes held for calls.", held["object_bytes"])},
      {"btfd_calls", gauge("Calls queued or running.", held["calls"])},
      {"btfd_queued_reply_bytes", gauge("Reply bytes clients have not read.", held["reply_bytes"])}};
  for (const auto& pm : kPerMirror) metrics[pm.metric] = {{"type", pm.type}, {"help", pm.help}, {"value", json::object()}};
  for (const auto& m : stats["mirrors"]) {
    for (const auto& pm : kPerMirror) {
      const json& v = m.contains(pm.field) ? m[pm.field] : json(0);
      metrics[pm.metric]["value"][m.value("base", "")] = v.is_boolean() ? json(v.get<bool>() ? 1 : 0) : v;
    }
  }
  return s.stats().to_prometheus(metrics);
}
}  // namespace

ParamTypes stats_params() { return binding_types<Params>(kParams); }

void stats(Server& s, Request& r) {
  Params p = decode<Params>(r.params, kParams);
  json out = {{"stats", s.stats().to_json()}};
  out["stats"]["mirrors"] = s.service().mirror_stats();
  out["stats"]["held"] = s.held();
  if (p.prometheus) out["text"] = prometheus_text(s, out["stats"]);
  s.answer(r.call, std::move(out));
}

}  // namespace btfd::server::methods

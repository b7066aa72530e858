// SPDX-License-Identifier: LGPL-2.1-or-later
// The io.btfd interface as data (interface.hpp says what is made of it).
// Field docs are what GetInterfaceDescription shows a client: they say what a
// caller may send and what it gets back, limits included.
#include "proto/interface.hpp"

namespace btfd::proto::idl {
namespace {

Interface make_btfd_interface() {
  Interface i;
  i.name = "io.btfd";
  i.doc = "BTF for running and future kernels, minimized for CO-RE objects on request.";
  i.types.push_back({"Kernel", "Which kernel. Omitted fields default to this host's. btfd maps os-release\nvalues to the btfhub-archive key (rhel 8.4 -> rhel/8, amzn 2018.03 -> amzn/1,\ndebian buster -> debian/10); replies name kernels by that key.", {
       {"distro", "?string", "os-release ID, e.g. \"rhel\""},
       {"version", "?string", "os-release VERSION_ID, e.g. \"8.4\", or the archive's, e.g. \"8\""},
       {"arch", "?string", "Architecture as uname or the archive names it: x86_64, aarch64 or arm64, ..."},
       {"release", "?string", "uname -r"},
      }});
  i.methods.push_back({"GetBtf", "BTF for a kernel (default: this host), minimized for the objects if any are given.\nObjects are passed as file descriptors beside the call (SCM_RIGHTS); the\nreply's BTF is an fd beside the reply. Called with \"more\", a download first\nstreams progress replies carrying only state, downloaded and total (shown\nonly while no earlier call's reply is due); the last reply is the answer.", Access::anyone, {
       {"kernel", "?Kernel", "The kernel; null means this host."},
       {"objects", "?[]int", "Indexes into the fds sent with this call, one per BPF object."},
       {"names", "?[]string", "The objects' file names (base names), in the order of objects, at most one\nper object and 255 bytes each; remembered for ListKernels, nothing else."},
       {"refresh", "?bool", "Ask the hub again even if it said \"not in hub\" before (a cached kernel is\nstill answered from the cache). Counts against the caller's hub budget."},
       {"digests", "?[]string", "Instead of objects: the sha256 (hex) of each object, which this user sent\nbefore. Answered from the cache only: BTF minimized for exactly these\nobjects, each remembered as sent by the caller's uid; otherwise the error\nObjectsNeeded and the caller sends the objects. Saves sending and hashing\nthem again (an agent starting again). Not with objects or names."},
       {"report", "?bool", "Include the relocation report in a minimized answer (default true); a\nclient that never reads it (libbtfd's helpers) saves building, sending and\nparsing it."},
       {"compat", "?string", "A compatibility level: the BTF (full or minimized) rewritten so that a reader\nof that level parses it, type ids kept (docs/protocol.md, \"BTF for older\nreaders\"): a kernel release (\"5.13\", \"5.10.0-28-amd64\"; 5.0 or later) or an\nalias (\"cilium-ebpf-0.9\"). Absent or \"\": the bytes unchanged. An unknown\nlevel is InvalidParameter, its message listing the known ones."},
       {"modules", "?[]string", "Kernel modules (names as modprobe takes them: [A-Za-z0-9_-], at most 64\nbytes, at most 16) whose split BTF over the kernel's full BTF is wanted too,\ngenerated from the host's installed module debug files; not with objects."},
      }, {
       {"fd", "?int", "The fields up to \"kernel\" are on the answer, always; they are optional\nonly because progress replies (calls with \"more\") carry just \"state\",\n\"downloaded\" and \"total\".\nIndex of the BTF's fd among the fds sent with this reply (always 0)."},
       {"path", "?string", "Path of the immutable cache file holding the same bytes; absent with \"compat\"."},
       {"sha256", "?string", "sha256 of the BTF, hex."},
       {"size", "?int", "Size in bytes."},
       {"source", "?string", "Where the kernel's BTF came from: native, hub, file or debuginfo (generated\nby pahole from the kernel's own debug info; ListKernels' origin says which)."},
       {"cached", "?bool", "True when nothing had to be fetched or computed."},
       {"exact", "?bool", "False when a site alias (btfd.conf [Distro] Alias=) served another\ndistro's kernel for the one requested."},
       {"minimized", "?bool", "True when the BTF is minimized for the objects."},
       {"kernel", "?Kernel", "The kernel the BTF describes."},
       {"modules", "?[]object", "One per module asked for, in order: name, fd (its split BTF's index among\nthe reply's fds; libbpf reads it with btf__parse_split over the kernel's BTF),\nsize, sha256, origin (pahole, the debug file, its build-id) and cached."},
       {"relocations", "?object", "The relocation report when minimized and asked for (\"report\"), each string once (bounded by\n[Limits] MaxReportBytes=): strings, and per relocation [object, section,\nrelo, insn, kind, local, target, candidates, matches, ambiguity?], names\nas indexes into strings (target -1: no match, -2: needs no kernel type)."},
       {"compat", "?string", "The compatibility level the BTF was rewritten for (as asked, release trimmed to\nX.Y); absent when not asked. \"path\" is then absent: no cache file holds these bytes."},
       {"state", "?string", "\"progress\" on progress replies (calls with \"more\"); absent on the answer."},
       {"downloaded", "?int", "Bytes downloaded so far (progress replies)."},
       {"total", "?int", "Total bytes to download, 0 if unknown (progress replies)."},
      }});
  i.methods.push_back({"ListKernels", "Cached kernels, minimized entries and remembered objects.", Access::anyone, {}, {
       {"kernels", "[]object", "Full kernel BTF entries."},
       {"minimized", "[]object", "Minimized BTF entries."},
       {"objects", "[]object", "Objects clients asked about, kept to pre-minimize new kernels: sha256,\nsize, last_requested and name (the file name a client last gave, or \"\")."},
      }});
  i.methods.push_back({"Prefetch", "Fetch a kernel's BTF ahead of time and pre-minimize it for recent objects.\nNeeds root, the configured group or the admin socket. Called with \"more\", it\nstreams progress (shown only while no earlier call's reply is due).", Access::privileged, {
       {"kernel", "?Kernel", "The kernel; omitted fields default to this host's."},
       {"pin", "?bool", "Pin the entry so eviction keeps it (default true)."},
      }, {
       {"state", "string", "\"progress\" on intermediate replies, \"done\" on the last."},
       {"downloaded", "?int", "Bytes downloaded so far (progress replies)."},
       {"total", "?int", "Total bytes to download, 0 if unknown (progress replies)."},
       {"result", "?object", "What was done (last reply)."},
      }});
  i.methods.push_back({"Status", "Daemon version, uptime, host identity, cache use and mirror health.", Access::anyone, {}, {
       {"status", "object", "Everything, as one object."},
      }});
  i.methods.push_back({"Stats", "Counters and the latency histogram; with prometheus=true also as text.", Access::anyone, {
       {"prometheus", "?bool", "Include the Prometheus text exposition."},
      }, {
       {"stats", "object", "Counters as JSON."},
       {"text", "?string", "Prometheus text format, when asked for."},
      }});
  i.methods.push_back({"Refresh", "What btfd-refresh.timer runs: fetch BTF for every installed kernel that has none\nof its own and is not cached, asking the hub again even where it said \"not in hub\"\nbefore; then release pins of kernels booted past. Needs root or the configured group.", Access::privileged, {}, {
       {"kernels", "[]object", "One entry per installed kernel: kernel, outcome (\"native\", \"cached\", \"fetched\",\n\"generated\" (from debug info), \"not-in-hub\", \"error\" or \"skipped\") and, for the last ones, message."},
       {"unpinned", "int", "Kernels whose pin was released."},
       {"verified", "object", "What re-hashing the cache found (as Verify's reply)."},
      }});
  i.methods.push_back({"GarbageCollect", "Evict to the cache budget and drop unreferenced blobs. Needs root or the configured group.", Access::privileged, {}, {
       {"removed_entries", "int", "Index entries removed."},
       {"removed_blobs", "int", "Blob files removed."},
       {"freed_bytes", "int", "Bytes freed."},
       {"forgotten_not_in_hub", "int", "\"Not in hub\" entries forgotten (all of them: the next miss asks again)."},
      }});
  i.methods.push_back({"Verify", "Re-hash every cached blob against its recorded sha256; damaged ones are\ndropped (and fetched again when next asked for). Needs root or the configured group.", Access::privileged, {}, {
       {"checked", "int", "Blobs hashed."},
       {"corrupt", "int", "Blobs found damaged (or missing) and dropped."},
       {"bytes", "int", "Bytes hashed."},
      }});
  i.methods.push_back({"ImportBundle", "Fill the cache from a bundle (btfctl gen --bundle, docs/bundle.md) on a host\nwithout a hub: its minimized BTFs become cache entries for the objects it was\nmade for, so GetBtf with those objects is a cache hit (source \"bundle\"). The\nbundle is checked whole before anything is stored. Needs root or the configured group.", Access::privileged, {
       {"bundle", "int", "Index of the bundle's descriptor among the call's descriptors (a regular\nfile or memfd; btfd never opens paths). At most 1 GiB."},
      }, {
       {"kernels", "int", "Kernels in the bundle."},
       {"blobs", "int", "Distinct BTFs (identical ones are stored once)."},
       {"objects", "[]string", "sha256 (hex) of each object the bundle was made for."},
       {"entries", "int", "Cache entries written (per kernel: the object set and each object alone)."},
      }});
  i.errors.push_back({"KernelNotInHub", "No mirror has BTF for this kernel (cached as a miss for a while).", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"HubUnreachable", "No mirror could be reached or each timed out; not cached as a miss: retry later.", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"HubRejected", "A mirror answered with something btfd refuses: a redirect it does not follow, an\narchive not matching the mirror's SHA256SUMS, an archive or BTF failing\nvalidation or over the size cap. Nothing is stored.", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"InvalidObject", "An object is not a valid BPF ELF with BTF, its relocations cannot be resolved,\nor it could not be read (a pipe that did not deliver it whole in time). object\nis the object's index in the call's objects; the message begins \"object #N\".", {
       {"message", "string", ""},
       {"object", "?int", ""},
      }});
  i.errors.push_back({"ObjectsNeeded", "GetBtf with \"digests\": btfd cannot answer from its cache alone (no BTF\nminimized for exactly these objects, or an object it does not remember this\nuser sending). Send the objects themselves. object: the first such object's\nindex, when it is one object.", {
       {"message", "string", ""},
       {"object", "?int", ""},
      }});
  i.errors.push_back({"InvalidKernel", "The kernel identity is malformed.", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"PermissionDenied", "The caller may not use this method.", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"TooLarge", "A limit was exceeded (object size, objects per request or per client, message\nsize); the message names the limit. object: as in InvalidObject, when the\nlimit is one object's.", {
       {"message", "string", ""},
       {"object", "?int", ""},
      }});
  i.errors.push_back({"Busy", "A budget is used up: connections (per user or in total), descriptors held,\nobject bytes held, calls in flight on the connection, or hub lookups per\nminute for this user. Retry later.", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"StoreError", "The cache could not be read or written (disk full, read-only, damaged).", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"InvalidBundle", "ImportBundle: the bundle is damaged, truncated, of an unknown format version\nor not a bundle, or one of its BTFs fails validation. Nothing is stored.", {
       {"message", "string", ""},
      }});
  i.errors.push_back({"Internal", "A bug.", {
       {"message", "string", ""},
      }});
  return i;
}

Interface make_service_interface() {
  Interface i;
  i.name = "org.varlink.service";
  i.doc = "The Varlink service interface.";
  i.methods.push_back({"GetInfo", "What this service is and which interfaces it implements.", Access::anyone, {}, {
       {"vendor", "string", ""},
       {"product", "string", ""},
       {"version", "string", ""},
       {"url", "string", ""},
       {"interfaces", "[]string", ""},
      }});
  i.methods.push_back({"GetInterfaceDescription", "The description of one of those interfaces.", Access::anyone, {
       {"interface", "string", ""},
      }, {
       {"description", "string", ""},
      }});
  i.errors.push_back({"InterfaceNotFound", "", {
       {"interface", "string", ""},
      }});
  i.errors.push_back({"MethodNotFound", "", {
       {"method", "string", ""},
      }});
  i.errors.push_back({"MethodNotImplemented", "", {
       {"method", "string", ""},
      }});
  i.errors.push_back({"InvalidParameter", "", {
       {"parameter", "string", ""},
      }});
  i.errors.push_back({"PermissionDenied", "", {}});
  i.errors.push_back({"ExpectedMore", "", {}});
  return i;
}

}  // namespace

const Type* Interface::type(std::string_view n) const {
  for (const auto& t : types)
    if (n == t.name) return &t;
  return nullptr;
}

const Method* Interface::method(std::string_view n) const {
  for (const auto& m : methods)
    if (n == m.name) return &m;
  return nullptr;
}

const Interface& btfd_interface() {
  static const Interface i = make_btfd_interface();
  return i;
}

const Interface& service_interface() {
  static const Interface i = make_service_interface();
  return i;
}

const std::vector<const Interface*>& interfaces() {
  static const std::vector<const Interface*> all = {&service_interface(), &btfd_interface()};
  return all;
}

const Interface* find_interface(std::string_view name) {
  for (const Interface* i : interfaces())
    if (name == i->name) return i;
  return nullptr;
}

std::optional<MethodRef> find_method(std::string_view full_name) {
  size_t dot = full_name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const Interface* i = find_interface(full_name.substr(0, dot));
  if (!i) return std::nullopt;
  const Method* m = i->method(full_name.substr(dot + 1));
  if (!m) return std::nullopt;
  return MethodRef{i, m};
}

}  // namespace btfd::proto::idl

// SPDX-License-Identifier: GPL-2.0-or-later
#include "server/interface.hpp"

namespace btfd::server {

const char kInterfaceDescription[] = R"(# BTF for running and future kernels, minimized for CO-RE objects on request.
interface io.btfd

# Which kernel. Omitted fields default to this host's. btfd maps os-release
# values to the btfhub-archive key (rhel 8.4 -> rhel/8, amzn 2018.03 -> amzn/1,
# debian buster -> debian/10); replies name kernels by that key.
type Kernel (
  # os-release ID, e.g. "rhel"
  distro: ?string,
  # os-release VERSION_ID, e.g. "8.4", or the archive's, e.g. "8"
  version: ?string,
  # Architecture as uname or the archive names it: x86_64, aarch64 or arm64, ...
  arch: ?string,
  # uname -r
  release: ?string
)

# BTF for a kernel (default: this host), minimized for the objects if any are given.
# Objects are passed as file descriptors beside the call (SCM_RIGHTS); the
# reply's BTF is an fd beside the reply. Called with "more", a download first
# streams progress replies carrying only state, downloaded and total (shown
# only while no earlier call's reply is due); the last reply is the answer.
method GetBtf(
  # The kernel; null means this host.
  kernel: ?Kernel,
  # Indexes into the fds sent with this call, one per BPF object.
  objects: ?[]int,
  # The objects' file names (base names), in the order of objects, at most one
  # per object and 255 bytes each; remembered for ListKernels, nothing else.
  names: ?[]string,
  # Ask the hub again even if it said "not in hub" before (a cached kernel is
  # still answered from the cache). Counts against the caller's hub budget.
  refresh: ?bool
) -> (
  # The fields up to "kernel" are on the answer, always; they are optional
  # only because progress replies (calls with "more") carry just "state",
  # "downloaded" and "total".
  # Index of the BTF's fd among the fds sent with this reply (always 0).
  fd: ?int,
  # Path of the immutable cache file holding the same bytes.
  path: ?string,
  # sha256 of the BTF, hex.
  sha256: ?string,
  # Size in bytes.
  size: ?int,
  # Where the kernel's BTF came from: native, hub or file.
  source: ?string,
  # True when nothing had to be fetched or computed.
  cached: ?bool,
  # False when a site alias (btfd.conf [Distro] Alias=) served another
  # distro's kernel for the one requested.
  exact: ?bool,
  # True when the BTF is minimized for the objects.
  minimized: ?bool,
  # The kernel the BTF describes.
  kernel: ?Kernel,
  # The relocation report when minimized, each string once (bounded by
  # [Limits] MaxReportBytes=): strings, and per relocation [object, section,
  # relo, insn, kind, local, target, candidates, matches, ambiguity?], names
  # as indexes into strings (target -1: no match, -2: needs no kernel type).
  relocations: ?object,
  # "progress" on progress replies (calls with "more"); absent on the answer.
  state: ?string,
  # Bytes downloaded so far (progress replies).
  downloaded: ?int,
  # Total bytes to download, 0 if unknown (progress replies).
  total: ?int
)

# Cached kernels, minimized entries and remembered objects.
method ListKernels() -> (
  # Full kernel BTF entries.
  kernels: []object,
  # Minimized BTF entries.
  minimized: []object,
  # Objects clients asked about, kept to pre-minimize new kernels: sha256,
  # size, last_requested and name (the file name a client last gave, or "").
  objects: []object
)

# Fetch a kernel's BTF ahead of time and pre-minimize it for recent objects.
# Needs root, the configured group or the admin socket. Called with "more", it
# streams progress (shown only while no earlier call's reply is due).
method Prefetch(
  # The kernel; omitted fields default to this host's.
  kernel: ?Kernel,
  # Pin the entry so eviction keeps it (default true).
  pin: ?bool
) -> (
  # "progress" on intermediate replies, "done" on the last.
  state: string,
  # Bytes downloaded so far (progress replies).
  downloaded: ?int,
  # Total bytes to download, 0 if unknown (progress replies).
  total: ?int,
  # What was done (last reply).
  result: ?object
)

# Daemon version, uptime, host identity, cache use and mirror health.
method Status() -> (
  # Everything, as one object.
  status: object
)

# Counters and the latency histogram; with prometheus=true also as text.
method Stats(
  # Include the Prometheus text exposition.
  prometheus: ?bool
) -> (
  # Counters as JSON.
  stats: object,
  # Prometheus text format, when asked for.
  text: ?string
)

# What btfd-refresh.timer runs: fetch BTF for every installed kernel that has none
# of its own and is not cached, asking the hub again even where it said "not in hub"
# before; then release pins of kernels booted past. Needs root or the configured group.
method Refresh() -> (
  # One entry per installed kernel: kernel, outcome ("native", "cached", "fetched",
  # "not-in-hub", "error" or "skipped") and, for the last ones, message.
  kernels: []object,
  # Kernels whose pin was released.
  unpinned: int,
  # What re-hashing the cache found (as Verify's reply).
  verified: object
)

# Evict to the cache budget and drop unreferenced blobs. Needs root or the configured group.
method GarbageCollect() -> (
  # Index entries removed.
  removed_entries: int,
  # Blob files removed.
  removed_blobs: int,
  # Bytes freed.
  freed_bytes: int
)

# Re-hash every cached blob against its recorded sha256; damaged ones are
# dropped (and fetched again when next asked for). Needs root or the configured group.
method Verify() -> (
  # Blobs hashed.
  checked: int,
  # Blobs found damaged (or missing) and dropped.
  corrupt: int,
  # Bytes hashed.
  bytes: int
)

# Fill the cache from a bundle (btfctl gen --bundle, docs/bundle.md) on a host
# without a hub: its minimized BTFs become cache entries for the objects it was
# made for, so GetBtf with those objects is a cache hit (source "bundle"). The
# bundle is checked whole before anything is stored. Needs root or the configured group.
method ImportBundle(
  # Index of the bundle's descriptor among the call's descriptors (a regular
  # file or memfd; btfd never opens paths). At most 1 GiB.
  bundle: int
) -> (
  # Kernels in the bundle.
  kernels: int,
  # Distinct BTFs (identical ones are stored once).
  blobs: int,
  # sha256 (hex) of each object the bundle was made for.
  objects: []string,
  # Cache entries written (per kernel: the object set and each object alone).
  entries: int
)

# No mirror has BTF for this kernel (cached as a miss for a while).
error KernelNotInHub (message: string)
# No mirror could be reached or each timed out; not cached as a miss: retry later.
error HubUnreachable (message: string)
# A mirror answered with something btfd refuses: a redirect it does not follow, an
# archive not matching the mirror's SHA256SUMS, an archive or BTF failing
# validation or over the size cap. Nothing is stored.
error HubRejected (message: string)
# An object is not a valid BPF ELF with BTF, its relocations cannot be resolved,
# or it could not be read (a pipe that did not deliver it whole in time). object
# is the object's index in the call's objects; the message begins "object #N".
error InvalidObject (message: string, object: ?int)
# The kernel identity is malformed.
error InvalidKernel (message: string)
# The caller may not use this method.
error PermissionDenied (message: string)
# A limit was exceeded (object size, objects per request or per client, message
# size); the message names the limit. object: as in InvalidObject, when the
# limit is one object's.
error TooLarge (message: string, object: ?int)
# A budget is used up: connections (per user or in total), descriptors held,
# object bytes held, calls in flight on the connection, or hub lookups per
# minute for this user. Retry later.
error Busy (message: string)
# The cache could not be read or written (disk full, read-only, damaged).
error StoreError (message: string)
# ImportBundle: the bundle is damaged, truncated, of an unknown format version
# or not a bundle, or one of its BTFs fails validation. Nothing is stored.
error InvalidBundle (message: string)
# A bug.
error Internal (message: string)
)";

const char kServiceInterfaceDescription[] = R"(# The Varlink service interface.
interface org.varlink.service

# What this service is and which interfaces it implements.
method GetInfo() -> (vendor: string, product: string, version: string, url: string, interfaces: []string)

# The description of one of those interfaces.
method GetInterfaceDescription(interface: string) -> (description: string)

error InterfaceNotFound (interface: string)
error MethodNotFound (method: string)
error MethodNotImplemented (method: string)
error InvalidParameter (parameter: string)
error PermissionDenied ()
error ExpectedMore ()
)";

}  // namespace btfd::server

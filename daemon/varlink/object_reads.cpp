// SPDX-License-Identifier: GPL-2.0-or-later
// Reading a call's objects (GetBtf's). A client decides how fast its pipe
// delivers, so pipes and sockets are read here on the loop, without blocking,
// under one deadline for all the call's objects; a worker only ever sees bytes
// or a regular file that cannot stall (a memfd, tmpfs). Any other regular file
// (ext4, NFS, an overlay over FUSE: a server that stops answering stalls the
// read, in the kernel, for ever) is read on a reader thread of its own under
// the same deadline; a stalled one keeps its own copy of the descriptor until
// its read returns, and such threads are bounded per UID and in all. Bytes held for objects are budgeted
// per UID and in total from the moment they are read until the call ends.
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <thread>

#include "btf/utf8.hpp"
#include "varlink/connection.hpp"
#include "util/log.hpp"

namespace btfd::server {

using nlohmann::json;
namespace errors = proto::errors;

namespace {
// A FUSE file's reads are answered by whoever mounted it: possibly the client,
// possibly never. Such a read cannot be bounded, so it is not started.
constexpr long kFuseMagic = 0x65735546;
constexpr unsigned long kTmpfsMagic = 0x01021994;
constexpr unsigned long kRamfsMagic = 0x858458f6;

// Whether reading fd is only a copy from memory: a memfd (it has seals) or a
// file on tmpfs/ramfs. Everything else may wait on a device or a server.
bool cannot_stall(int fd) {
  if (::fcntl(fd, F_GET_SEALS) >= 0) return true;
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  auto type = static_cast<unsigned long>(fs.f_type);
  return type == kTmpfsMagic || type == kRamfsMagic;
}

// A client's name for its object, as btfd keeps and shows it: the part after
// the last '/', control characters (C0, C1, bidi) replaced, valid UTF-8 (the length was
// bounded by the dispatcher). Client bytes: never trusted to be printable.
std::string printable_base_name(std::string_view name) {
  if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  return btf::printable_utf8(name);
}
}  // namespace

void Server::read_objects(Call call, std::vector<UniqueFd> fds, std::vector<std::string> names, ObjectsRead done) {
  auto p = std::make_unique<PendingObjects>();
  p->server = this;
  p->id = next_id_++;
  p->call = call;
  p->done = std::move(done);
  // The call keeps these descriptors open until it ends: count them for it
  // (its cost handle gives them back).
  if (auto e = take_fds(call, fds.size())) return fail(call, *e);
  PendingObjects& pr = *p;
  pending_objects_.emplace(p->id, std::move(p));
  size_t i = 0;
  // Messages about an object leave its name to fail(): "object #N: ...".
  auto refuse = [&](Errc code, const std::string& message) {
    object_read_done(pr, make_error(code, message).about_object(static_cast<int>(i)));
  };
  pr.objects.resize(fds.size());
  pr.slots.resize(fds.size());
  for (i = 0; i < fds.size(); ++i) {
    ClientObject& o = pr.objects[i];
    if (i < names.size()) o.name = printable_base_name(names[i]);
    o.uid = call.uid;
    struct stat st {};
    if (::fstat(fds[i].get(), &st) < 0) return refuse(Errc::invalid_argument, "cannot fstat it");
    if (S_ISREG(st.st_mode)) {
      struct statfs fs {};
      if (::fstatfs(fds[i].get(), &fs) == 0 && fs.f_type == kFuseMagic)
        return refuse(Errc::invalid_argument, "on a FUSE file system, which btfd does not read from");
      auto size = static_cast<uint64_t>(st.st_size);
      // /proc and sysfs files say 0 and then deliver bytes: not an object.
      if (size == 0)
        return refuse(Errc::invalid_argument, "empty, or not a regular file with a size (a /proc or sysfs "
                                                     "file?): pass an object file, a memfd or a pipe");
      if (size > cfg_.max_object_size)
        return refuse(Errc::too_large, std::to_string(size) + " bytes; btfd takes at most " +
                                           std::to_string(cfg_.max_object_size) + " per object");
      if (auto e = take_object_bytes(pr.call, size)) return object_read_done(pr, std::move(e));
      o.size_limit = size;
      o.fd = std::move(fds[i]);
      if (!cannot_stall(o.fd.get())) {
        pr.slots[i].done = false;
        pr.slots[i].file = true;
        ++pr.remaining;
      }
      continue;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
      return refuse(Errc::invalid_argument, "neither a regular file nor a pipe");
    int flags = ::fcntl(fds[i].get(), F_GETFL);
    if (flags < 0 || ::fcntl(fds[i].get(), F_SETFL, flags | O_NONBLOCK) < 0)
      return refuse(Errc::invalid_argument, "cannot make it non-blocking");
    o.fd = std::move(fds[i]);
    if (sd_event_add_io(event_, &pr.slots[i].src, o.fd.get(), EPOLLIN, on_object_io, &pr) < 0)
      return refuse(Errc::internal, "cannot watch it");
    pr.slots[i].done = false;
    ++pr.remaining;
  }
  if (pr.remaining == 0) return object_read_done(pr, std::nullopt);
  bool files = false;
  for (auto& s : pr.slots) files = files || s.file;
  if (files) {
    auto held = file_readers_.find(call.uid);
    unsigned mine = held == file_readers_.end() ? 0 : held->second;
    std::string why;
    if (mine >= kFileReadersPerUid)
      why = "uid " + std::to_string(call.uid) + " has " + std::to_string(mine) +
            " object files being read already (a stalled file system?); retry, or pass objects as memfds";
    else if (file_readers_total_ >= kFileReaders)
      why = "btfd is reading " + std::to_string(file_readers_total_) +
            " object files already (a stalled file system?); retry, or pass objects as memfds";
    if (!why.empty()) return object_read_done(pr, make_error(Errc::busy, why));
    const uint64_t id = pr.id;  // a failed start answers the call and frees pr
    start_file_reads(pr);
    if (pending_objects_.find(id) == pending_objects_.end()) return;  // failed to start: answered
  }
  uint64_t now = 0;
  sd_event_now(event_, CLOCK_MONOTONIC, &now);
  sd_event_add_time(event_, &pr.deadline, CLOCK_MONOTONIC, now + cfg_.object_read_sec * 1000000ull, 100000,
                    on_object_deadline, &pr);
}

int Server::on_object_io(sd_event_source* src, int fd, uint32_t, void* pending) {
  auto* p = static_cast<PendingObjects*>(pending);
  Server* self = p->server;
  size_t i = 0;
  while (i < p->slots.size() && p->slots[i].src != src) ++i;
  if (i == p->slots.size()) return 0;
  ClientObject& o = p->objects[i];
  std::optional<Error> error;
  bool eof = false;
  try {
    uint8_t buf[64 * 1024];
    // A bounded amount per wakeup, so one fast pipe cannot hold the loop.
    for (int round = 0; round < 16 && !eof && !error; ++round) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) {
        error = make_error(Errc::invalid_argument, std::string("read failed: ") + std::strerror(errno)).about_object(static_cast<int>(i));
      } else if (n == 0) {
        eof = true;
      } else if (o.bytes.size() + static_cast<size_t>(n) > self->cfg_.max_object_size) {
        error = make_error(Errc::too_large, "larger than " + std::to_string(self->cfg_.max_object_size) +
                                                " bytes, btfd's limit per object").about_object(static_cast<int>(i));
      } else if (!(error = self->take_object_bytes(p->call, static_cast<uint64_t>(n)))) {
        o.bytes.insert(o.bytes.end(), buf, buf + n);
      }
    }
  } catch (const std::exception& e) {
    error = make_error(Errc::internal, std::string("reading an object: ") + e.what());
  }
  if (error) {
    // Only an error about this object names it (not the per-client total).
    self->object_read_done(*p, std::move(error));
    return 0;
  }
  if (eof) {
    sd_event_source_disable_unref(p->slots[i].src);
    p->slots[i].src = nullptr;
    p->slots[i].done = true;
    o.loaded = true;
    o.fd.reset();
    if (--p->remaining == 0) self->object_read_done(*p, std::nullopt);
  }
  return 0;
}

// Hands the call's files that may stall to one reader thread (its own copies
// of the descriptors). The loop keeps the call's deadline; the thread reports
// back through the pool's post queue, however late.
void Server::start_file_reads(PendingObjects& p) {
  struct Job {
    size_t index;
    UniqueFd fd;
    uint64_t limit;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < p.slots.size(); ++i) {
    if (!p.slots[i].file) continue;
    UniqueFd copy(::fcntl(p.objects[i].fd.get(), F_DUPFD_CLOEXEC, 0));
    if (!copy) return object_read_done(p, make_error(Errc::busy, "btfd is out of descriptors; retry"));
    jobs.push_back({i, std::move(copy), p.objects[i].size_limit});
  }
  uid_t uid = p.call.uid;
  try {
    std::thread([link = reader_link_, id = p.id, uid, jobs = std::move(jobs)]() mutable {
      std::vector<FileRead> reads;
      for (auto& j : jobs) {
        FileRead r;
        r.index = j.index;
        try {
          auto bytes = pread_all(j.fd.get(), j.limit);
          if (bytes) r.bytes = std::move(bytes).value();
          else r.error = std::move(bytes).error();
        } catch (const std::exception& e) {
          r.error = make_error(Errc::internal, e.what());
        }
        j.fd.reset();
        bool failed = r.error.has_value();
        reads.push_back(std::move(r));
        if (failed) break;
      }
      jobs.clear();
      std::lock_guard lock(link->mu);
      if (!link->server) return;
      Server* self = link->server;
      self->pool_->post([self, id, uid, reads = std::move(reads)]() mutable {
        self->file_reads_done(id, uid, std::move(reads));
      });
    }).detach();
  } catch (const std::exception&) {
    return object_read_done(p, make_error(Errc::busy, "btfd cannot start a reader thread now; retry"));
  }
  ++file_readers_[uid];
  ++file_readers_total_;
}

void Server::file_reads_done(uint64_t pending_id, uid_t uid, std::vector<FileRead> reads) {
  if (auto it = file_readers_.find(uid); it != file_readers_.end() && --it->second == 0) file_readers_.erase(it);
  --file_readers_total_;
  auto it = pending_objects_.find(pending_id);
  if (it == pending_objects_.end()) return;  // the call ended (its deadline, its client gone)
  PendingObjects& p = *it->second;
  for (auto& r : reads) {
    ClientObject& o = p.objects[r.index];
    if (r.error) {
      std::string message = r.error->code == Errc::too_large ? "grew while btfd was reading it" : r.error->message;
      return object_read_done(p, make_error(Errc::invalid_argument, message).about_object(static_cast<int>(r.index)));
    }
    o.bytes = std::move(r.bytes);
    o.loaded = true;
    o.fd.reset();
    p.slots[r.index].done = true;
    --p.remaining;
  }
  if (p.remaining == 0) object_read_done(p, std::nullopt);
}

int Server::on_object_deadline(sd_event_source*, uint64_t, void* pending) {
  auto* p = static_cast<PendingObjects*>(pending);
  size_t first = 0;
  while (first < p->slots.size() && p->slots[first].done) ++first;
  if (first >= p->objects.size()) first = 0;
  const std::string within = std::to_string(p->server->cfg_.object_read_sec) + " s";
  std::string message = p->slots[first].file ? "not readable within " + within + " (a stalled file system?)"
                                             : "not read whole within " + within + " (a pipe must deliver the object and close)";
  p->server->object_read_done(*p, make_error(Errc::invalid_argument, message).about_object(static_cast<int>(first)));
  return 0;
}

// Ends the reading phase: on error the call is answered and everything it
// held is given back; otherwise the objects (and what they hold) go on.
void Server::object_read_done(PendingObjects& p, std::optional<Error> error) {
  auto it = pending_objects_.find(p.id);
  if (it == pending_objects_.end()) return;
  std::unique_ptr<PendingObjects> owned = std::move(it->second);
  pending_objects_.erase(it);
  if (error) return fail(owned->call, *error);  // owned goes: what the call held with it
  owned->done(std::move(owned->call), std::move(owned->objects));
}

// The connection closed: its calls still reading objects end here, and their
// cost handles give back what they held.
void Server::cancel_pending_objects(uint64_t conn_id) {
  std::vector<uint64_t> ids;
  for (auto& [id, p] : pending_objects_)
    if (p->call.conn == conn_id) ids.push_back(id);
  for (uint64_t id : ids) pending_objects_.erase(id);
}

}  // namespace btfd::server

// SPDX-License-Identifier: GPL-2.0-or-later
// libbtfd benchmark (not a test): a warm btfd_ensure_core_btf_for_file (btfd
// has minimized for this object before: a cache hit) against hashing the same
// object once in the same process (SHA-256 of its bytes, already in memory),
// the least any cache keyed by the object's content has to do. Pairs in
// alternating order. Also prints, for context, the same call without an object
// and btfd_ensure_core_btf_for_mem.
// BTFD_FORCE=1 is set here, so that libbtfd asks btfd on a host with BTF too.
// usage: bench-ensure SOCKET OBJECT [PAIRS]
#include <bpf/libbpf.h>
#include <btfd/libbtfd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../common/pairs.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

using Clock = std::chrono::steady_clock;

namespace {

// Seconds one call of f takes; f returns a libbtfd status.
template <typename F>
double timed(F&& f, int* err) {
  auto a = Clock::now();
  *err = f();
  return std::chrono::duration<double>(Clock::now() - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s SOCKET OBJECT [PAIRS]\n", argv[0]);
    return 2;
  }
  const char* object = argv[2];
  int pairs = argc > 3 ? std::atoi(argv[3]) : 200;
  ::setenv("BTFD_FORCE", "1", 1);
  struct btfd_core_opts core {};
  core.sz = sizeof core;
  core.socket_path = argv[1];
  auto bytes = btfd::read_file(object, 1 << 30);
  if (!bytes) {
    std::fprintf(stderr, "%s: %s\n", object, bytes.error().message.c_str());
    return 1;
  }
  int err = 0;
  auto ensure_file = [&] {
    LIBBPF_OPTS(bpf_object_open_opts, opts);
    int e = btfd_ensure_core_btf_for_file(&opts, object, &core);
    if (!e && !opts.btf_custom_path) e = -ENOENT;  // nothing was asked of btfd
    btfd_clean_core_btf(&opts);
    return e;
  };
  auto ensure_mem = [&] {
    LIBBPF_OPTS(bpf_object_open_opts, opts);
    int e = btfd_ensure_core_btf_for_mem(&opts, bytes->data(), bytes->size(), &core);
    btfd_clean_core_btf(&opts);
    return e;
  };
  auto ensure_plain = [&] {
    // btfd_ensure_core_btf() has no core opts: the socket comes from $BTFD_SOCKET.
    LIBBPF_OPTS(bpf_object_open_opts, opts);
    int e = btfd_ensure_core_btf(&opts);
    btfd_clean_core_btf(&opts);
    return e;
  };
  volatile uint8_t sink = 0;
  auto hash = [&] {
    sink = sink + btfd::sha256(*bytes)[0];
    return 0;
  };
  ::setenv("BTFD_SOCKET", argv[1], 1);
  // The first call minimizes (cold); the figure is about the ones after it.
  double cold = timed(ensure_file, &err);
  if (err) {
    std::fprintf(stderr, "btfd_ensure_core_btf_for_file: %s\n", btfd_strerror(err));
    return 1;
  }
  std::vector<double> ours, ref, mem, plain;
  for (int p = 0; p < pairs; ++p) {
    for (int k = 0; k < 2; ++k) {
      if ((p + k) % 2 == 0)
        ours.push_back(timed(ensure_file, &err));
      else
        ref.push_back(timed(hash, &err));
      if (err) {
        std::fprintf(stderr, "btfd_ensure_core_btf_for_file: %s\n", btfd_strerror(err));
        return 1;
      }
    }
    mem.push_back(timed(ensure_mem, &err));
    if (!err) plain.push_back(timed(ensure_plain, &err));
    if (err) {
      std::fprintf(stderr, "btfd_ensure_core_btf*: %s\n", btfd_strerror(err));
      return 1;
    }
  }
  std::string base(object);
  base = base.substr(base.rfind('/') + 1);
  std::printf("object %s, %zu bytes; first (cold) call %.1f ms\n", base.c_str(), bytes->size(), cold * 1e3);
  std::printf("  btfd_ensure_core_btf_for_mem: %s\n", bench::show(bench::spread(mem), bench::kUs).c_str());
  std::printf("  btfd_ensure_core_btf (no object): %s\n",
              bench::show(bench::spread(plain), bench::kUs).c_str());
  char name[256];
  std::snprintf(name, sizeof name, "warm btfd_ensure_core_btf_for_file, %s (%zu KB), vs its SHA-256",
                base.c_str(), bytes->size() / 1024);
  bench::print_figure(name, ours, ref, bench::kUs, {true, 2});
  return 0;
}

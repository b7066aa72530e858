// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// A process that may start threads but never another process (a seccomp
// filter on fork, vfork and clone without CLONE_THREAD). btfd-fetch, which
// parses what a mirror sends, puts itself under it before it reads anything:
// however that parsing is subverted, once btfd has reaped it no process is
// left holding its output file, so btfd can read that file in place (no
// copy) and be sure that what it checked and hashed is what it stores.

#include "util/result.hpp"

namespace btfd {

// Whether this build knows the seccomp numbers of its architecture. Where it
// does not, forbid_new_processes() fails as unsupported, and btfd reads a
// helper's output through a private copy instead.
#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || \
    (defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) || defined(__s390x__) || \
    (defined(__riscv) && __riscv_xlen == 64) || (defined(__arm__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
inline constexpr bool kCanForbidNewProcesses = true;
#else
inline constexpr bool kCanForbidNewProcesses = false;
#endif

// From here on this process and its threads (those that exist now are not
// covered: call it before starting any) cannot create a process: fork and
// vfork fail with EPERM, as does clone without CLONE_THREAD; clone3 fails
// with ENOSYS, so that the C library starts threads with clone. Sets
// no_new_privs (required for an unprivileged filter; it also never drops).
// Irrevocable. Sanitizer builds also allow clones that share the address
// space (LeakSanitizer's tracer is one): not a program, and not shipped.
Status forbid_new_processes();

}  // namespace btfd

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/no_new_processes.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <vector>

namespace btfd {
namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define BTFD_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BTFD_SANITIZED 1
#endif

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#elif defined(__i386__)
constexpr uint32_t kArch = AUDIT_ARCH_I386;
#elif defined(__powerpc64__)
constexpr uint32_t kArch = AUDIT_ARCH_PPC64LE;
#elif defined(__s390x__)
constexpr uint32_t kArch = AUDIT_ARCH_S390X;
#elif defined(__riscv)
constexpr uint32_t kArch = AUDIT_ARCH_RISCV64;
#elif defined(__arm__)
constexpr uint32_t kArch = AUDIT_ARCH_ARM;
#else
constexpr uint32_t kArch = 0;
#endif

// clone's flags are its first argument, but its second on s390; the filter
// reads their low 32 bits (CLONE_THREAD and CLONE_VM are there).
#if defined(__s390x__)
constexpr size_t kFlagsArg = 1;
#else
constexpr size_t kFlagsArg = 0;
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr uint32_t kFlagsLow = offsetof(seccomp_data, args) + 8 * kFlagsArg;
#else
constexpr uint32_t kFlagsLow = offsetof(seccomp_data, args) + 8 * kFlagsArg + 4;
#endif

sock_filter stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return BPF_JUMP(code, k, jt, jf); }

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;

std::vector<sock_filter> program() {
  std::vector<sock_filter> p;
  // Another architecture's calling convention (i386 calls from x86-64, say)
  // would bypass the numbers below: none of its calls are allowed.
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  p.push_back(stmt(BPF_RET | BPF_K, kEperm));
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
  // x32 numbers (bit 30) reach the same calls under other numbers.
  p.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kEperm));
#endif
  // clone3's flags sit in memory the filter cannot read: ENOSYS makes the C
  // library fall back to clone, whose flags it can.
#ifdef SYS_clone3
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kEnosys));
#endif
#ifdef SYS_fork
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kEperm));
#endif
#ifdef SYS_vfork
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kEperm));
#endif
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0));
  p.push_back(stmt(BPF_RET | BPF_K, kAllow));
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, kFlagsLow));
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kAllow));
#ifdef BTFD_SANITIZED
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, CLONE_VM, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kAllow));
#endif
  p.push_back(stmt(BPF_RET | BPF_K, kEperm));
  return p;
}

}  // namespace

Status forbid_new_processes() {
  if constexpr (!kCanForbidNewProcesses)
    return make_error(Errc::unsupported, "forbidding new processes is not built for this architecture");
  std::vector<sock_filter> p = program();
  sock_fprog prog{static_cast<unsigned short>(p.size()), p.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error(errno, "cannot set no_new_privs");
  // prctl, not the seccomp() call: systemd's @system-service allows the one,
  // not the other.
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
    return sys_error(errno, "cannot install the seccomp filter that forbids new processes");
  return {};
}

}  // namespace btfd

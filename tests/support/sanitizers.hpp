// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// BTFD_TEST_SANITIZED: defined when this test is built with AddressSanitizer
// (gcc says so with __SANITIZE_ADDRESS__, clang with __has_feature), whose
// allocator and helper threads some checks must expect.

#if defined(__SANITIZE_ADDRESS__)
#define BTFD_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BTFD_TEST_SANITIZED 1
#endif
#endif

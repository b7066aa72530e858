// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Expected failures travel as values: a Result<T> holds either a T or an Error.
// Exceptions are reserved for fatal start-up problems caught in main().

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace btfd {

enum class Errc {
  invalid_argument = 1,  // caller passed something malformed
  not_found,             // no such entry / file
  io,                    // an I/O call failed (errno in sys_errno)
  corrupt,               // data failed validation (bad digest, bad BTF, bad archive)
  no_space,              // ENOSPC / quota / budget exhausted
  permission,            // EACCES / EPERM / EROFS / policy refusal
  timeout,               // a deadline passed
  unreachable,           // network peer could not be reached
  not_in_hub,            // every mirror answered "no such file"
  too_large,             // a size limit was exceeded
  unsupported,           // valid but not handled (e.g. foreign endianness)
  ambiguous,             // CO-RE relocation ambiguity
  busy,                  // resource busy / limit of concurrent work reached
  cancelled,             // work was cancelled (shutdown)
  protocol,              // peer violated the wire protocol
  internal,              // a bug: should not happen
};

const char* errc_name(Errc code) noexcept;

// What a failure is about, set where that is known (a module's boundary):
// the one mapping to a wire error (proto::error_name) reads it instead of
// guessing from codes or messages. A store that is full and a mirror that is
// down are both "I/O" to the code below them, and must not look alike above.
enum class Domain : unsigned char {
  none,     // decided by the code alone
  request,  // the call's own parameters
  object,   // one of the client's objects (Error::object says which)
  kernel,   // the kernel identity asked for
  hub,      // a mirror's answer or the way to it
  store,    // the cache on disk
  bundle,   // a bundle being imported
};

struct Error {
  Errc code = Errc::internal;
  int sys_errno = 0;  // 0 unless an OS call failed
  std::string message;
  Domain domain = Domain::none;
  // The index of the input object the failure is about (among the objects
  // given to the function that failed; callers that reorder objects map it
  // back), or -1.
  int object = -1;

  // Sets the domain unless a deeper layer already did (a full disk met while
  // downloading stays the store's).
  Error&& in(Domain d) && {
    if (domain == Domain::none) domain = d;
    return std::move(*this);
  }
  Error&& about_object(int index) && {
    domain = Domain::object;
    if (object < 0) object = index;
    return std::move(*this);
  }

  // Prefix the message with context, e.g. the path being processed.
  Error&& wrap(std::string_view context) && {
    message = std::string(context) + ": " + message;
    return std::move(*this);
  }
};

Error make_error(Errc code, std::string message);
// Builds "<message>: <strerror(err)>" and maps errno to a fitting Errc.
Error sys_error(int err, std::string message);
Errc errc_from_errno(int err) noexcept;

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { assert(failed_); return error_; }
  Error&& error() && { assert(failed_); return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace btfd

// Propagate an error to the caller: BTFD_TRY(auto x, f()); or BTFD_TRY_VOID(g());
#define BTFD_CONCAT_(a, b) a##b
#define BTFD_CONCAT(a, b) BTFD_CONCAT_(a, b)
#define BTFD_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                   \
  if (!tmp.ok()) return std::move(tmp).error(); \
  decl = std::move(tmp).value()
#define BTFD_TRY(decl, expr) BTFD_TRY_IMPL(BTFD_CONCAT(btfd_try_, __LINE__), decl, expr)
#define BTFD_TRY_VOID(expr)                                   \
  do {                                                        \
    auto btfd_try_status_ = (expr);                           \
    if (!btfd_try_status_.ok()) return std::move(btfd_try_status_).error(); \
  } while (0)

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/result.hpp"

#include <cerrno>
#include <cstring>

namespace btfd {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid-argument";
    case Errc::not_found: return "not-found";
    case Errc::io: return "io";
    case Errc::corrupt: return "corrupt";
    case Errc::no_space: return "no-space";
    case Errc::permission: return "permission";
    case Errc::timeout: return "timeout";
    case Errc::unreachable: return "unreachable";
    case Errc::not_in_hub: return "not-in-hub";
    case Errc::too_large: return "too-large";
    case Errc::unsupported: return "unsupported";
    case Errc::ambiguous: return "ambiguous";
    case Errc::busy: return "busy";
    case Errc::cancelled: return "cancelled";
    case Errc::protocol: return "protocol";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

Errc errc_from_errno(int err) noexcept {
  switch (err) {
    case ENOENT: return Errc::not_found;
    case ENOSPC:
    case EDQUOT: return Errc::no_space;
    case EACCES:
    case EPERM:
    case EROFS: return Errc::permission;
    case ETIMEDOUT: return Errc::timeout;
    case E2BIG:
    case EFBIG:
    case EMSGSIZE: return Errc::too_large;
    case EINVAL: return Errc::invalid_argument;
    case EBUSY:
    case EAGAIN: return Errc::busy;
    case ECANCELED: return Errc::cancelled;
    case EOPNOTSUPP: return Errc::unsupported;
    default: return Errc::io;
  }
}

Error make_error(Errc code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

Error sys_error(int err, std::string message) {
  message += ": ";
  message += std::strerror(err);
  Error e = make_error(errc_from_errno(err), std::move(message));
  e.sys_errno = err;
  return e;
}

}  // namespace btfd

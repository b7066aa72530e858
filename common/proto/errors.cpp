// SPDX-License-Identifier: LGPL-2.1-or-later
#include "proto/errors.hpp"

#include <array>

#include "btfd/libbtfd.h"

namespace btfd::proto {
namespace {

constexpr std::array kTable = {
    ErrorInfo{errors::kKernelNotInHub, Errc::not_in_hub, BTFD_ERR_NOT_IN_HUB, "no BTF exists for this kernel"},
    ErrorInfo{errors::kHubUnreachable, Errc::unreachable, BTFD_ERR_HUB_UNREACHABLE, "the hub could not be reached; retry later"},
    ErrorInfo{errors::kHubRejected, Errc::corrupt, BTFD_ERR_HUB_REJECTED, "a mirror served something btfd refuses"},
    ErrorInfo{errors::kInvalidObject, Errc::invalid_argument, BTFD_ERR_INVALID_OBJECT, "an object is not a valid CO-RE BPF object"},
    ErrorInfo{errors::kInvalidKernel, Errc::invalid_argument, BTFD_ERR_INVALID_KERNEL, "malformed kernel identity"},
    ErrorInfo{errors::kPermissionDenied, Errc::permission, BTFD_ERR_PERMISSION, "the caller may not do this"},
    ErrorInfo{errors::kTooLarge, Errc::too_large, BTFD_ERR_TOO_LARGE, "a limit was exceeded"},
    ErrorInfo{errors::kBusy, Errc::busy, BTFD_ERR_BUSY, "btfd is overloaded; retry"},
    ErrorInfo{errors::kStoreError, Errc::io, BTFD_ERR_STORE, "btfd's cache failed (disk full, read-only)"},
    ErrorInfo{errors::kInternal, Errc::internal, BTFD_ERR_INTERNAL, "a bug in btfd"},
    ErrorInfo{errors::kInvalidBundle, Errc::corrupt, BTFD_ERR_INVALID_BUNDLE, "not a valid btfd bundle"},
    ErrorInfo{errors::kMethodNotFound, Errc::protocol, BTFD_ERR_PROTOCOL, "btfd does not know the method"},
    ErrorInfo{errors::kInterfaceNotFound, Errc::protocol, BTFD_ERR_PROTOCOL, "btfd does not know the interface"},
    ErrorInfo{errors::kInvalidParameter, Errc::invalid_argument, BTFD_ERR_PROTOCOL, "a parameter is missing or malformed"},
};
// Failures a client finds by itself: no wire name. Looked up before kTable, so
// that BTFD_ERR_PROTOCOL reads as the client's view of the many names it covers.
constexpr std::array kClientSide = {
    ErrorInfo{"", Errc::unreachable, BTFD_ERR_UNREACHABLE, "btfd is not reachable (is btfd.socket enabled?)"},
    ErrorInfo{"", Errc::protocol, BTFD_ERR_PROTOCOL, "unexpected answer from btfd"},
    ErrorInfo{"", Errc::timeout, BTFD_ERR_TIMEOUT, "btfd did not answer within the client's timeout"},
    ErrorInfo{"", Errc::not_found, BTFD_ERR_NOT_IN_BUNDLE, "the bundle holds no BTF for this kernel"},
};
constexpr ErrorInfo kUnknown{"", Errc::protocol, BTFD_ERR_PROTOCOL, "unexpected answer from btfd"};

// Which name a failure code is answered with.
struct CodeName {
  Errc code;
  const char* name;
};
constexpr std::array kByCode = {
    CodeName{Errc::not_in_hub, errors::kKernelNotInHub},
    CodeName{Errc::unreachable, errors::kHubUnreachable},
    CodeName{Errc::timeout, errors::kHubUnreachable},
    CodeName{Errc::invalid_argument, errors::kInvalidObject},
    CodeName{Errc::ambiguous, errors::kInvalidObject},
    CodeName{Errc::corrupt, errors::kHubRejected},
    CodeName{Errc::unsupported, errors::kInvalidObject},
    CodeName{Errc::too_large, errors::kTooLarge},
    CodeName{Errc::busy, errors::kBusy},
    CodeName{Errc::cancelled, errors::kBusy},
    CodeName{Errc::no_space, errors::kStoreError},
    CodeName{Errc::io, errors::kStoreError},
    CodeName{Errc::not_found, errors::kStoreError},
    CodeName{Errc::permission, errors::kPermissionDenied},
    CodeName{Errc::protocol, errors::kInvalidParameter},
};

}  // namespace

const ErrorInfo& error_info(std::string_view name) {
  for (const auto& e : kTable)
    if (name == e.name) return e;
  return kUnknown;
}

const char* libbtfd_summary(int libbtfd_code) {
  for (const auto& e : kClientSide)
    if (e.libbtfd_code == libbtfd_code) return e.summary;
  for (const auto& e : kTable)
    if (e.libbtfd_code == libbtfd_code) return e.summary;
  return nullptr;
}

const char* error_name(Errc code) {
  for (const auto& c : kByCode)
    if (c.code == code) return c.name;
  return errors::kInternal;
}

}  // namespace btfd::proto

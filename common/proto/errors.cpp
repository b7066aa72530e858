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
    // Never a libbtfd caller's: the helpers that name objects by digest send
    // the objects themselves on it.
    ErrorInfo{errors::kObjectsNeeded, Errc::not_found, BTFD_ERR_PROTOCOL, "btfd has no answer for these digests; send the objects"},
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

// Which name a failure is answered with: the one mapping from an internal
// failure to a wire error. Rows for the failure's domain come first, then the
// rows for any domain; `any` as the code matches every code. A domain says
// what failed, so a full disk met while downloading is the store's fault and a
// refused size cap is the mirror's, whatever the code.
constexpr Errc kAny = static_cast<Errc>(0);
struct Rule {
  Domain domain;
  Errc code;
  const char* name;
};
// In every domain: overload and shutdown are Busy, a bug is Internal.
constexpr std::array kEverywhere = {
    Rule{Domain::none, Errc::busy, errors::kBusy},
    Rule{Domain::none, Errc::cancelled, errors::kBusy},
    Rule{Domain::none, Errc::internal, errors::kInternal},
};
constexpr std::array kRules = {
    // A mirror: said "no such kernel", served something refused, or could not be reached.
    Rule{Domain::hub, Errc::not_in_hub, errors::kKernelNotInHub},
    Rule{Domain::hub, Errc::no_space, errors::kStoreError},
    Rule{Domain::hub, Errc::corrupt, errors::kHubRejected},
    Rule{Domain::hub, Errc::permission, errors::kHubRejected},
    Rule{Domain::hub, Errc::unsupported, errors::kHubRejected},
    Rule{Domain::hub, Errc::too_large, errors::kHubRejected},
    Rule{Domain::hub, kAny, errors::kHubUnreachable},
    // The cache on disk.
    Rule{Domain::store, Errc::too_large, errors::kTooLarge},
    Rule{Domain::store, kAny, errors::kStoreError},
    // A client's object: what the minimizer or the reader refuses.
    Rule{Domain::object, Errc::too_large, errors::kTooLarge},
    Rule{Domain::object, Errc::timeout, errors::kTooLarge},
    Rule{Domain::object, Errc::no_space, errors::kStoreError},
    Rule{Domain::object, Errc::not_found, errors::kObjectsNeeded},
    Rule{Domain::object, kAny, errors::kInvalidObject},
    Rule{Domain::kernel, kAny, errors::kInvalidKernel},
    Rule{Domain::bundle, Errc::too_large, errors::kTooLarge},
    Rule{Domain::bundle, Errc::no_space, errors::kStoreError},
    Rule{Domain::bundle, Errc::io, errors::kStoreError},
    Rule{Domain::bundle, kAny, errors::kInvalidBundle},
    Rule{Domain::request, Errc::too_large, errors::kTooLarge},
    Rule{Domain::request, kAny, errors::kInvalidParameter},
    // No domain known: by the code alone.
    Rule{Domain::none, Errc::not_in_hub, errors::kKernelNotInHub},
    Rule{Domain::none, Errc::unreachable, errors::kHubUnreachable},
    Rule{Domain::none, Errc::timeout, errors::kHubUnreachable},
    Rule{Domain::none, Errc::invalid_argument, errors::kInvalidObject},
    Rule{Domain::none, Errc::ambiguous, errors::kInvalidObject},
    Rule{Domain::none, Errc::corrupt, errors::kHubRejected},
    Rule{Domain::none, Errc::unsupported, errors::kInvalidObject},
    Rule{Domain::none, Errc::too_large, errors::kTooLarge},
    Rule{Domain::none, Errc::no_space, errors::kStoreError},
    Rule{Domain::none, Errc::io, errors::kStoreError},
    Rule{Domain::none, Errc::not_found, errors::kStoreError},
    Rule{Domain::none, Errc::permission, errors::kPermissionDenied},
    Rule{Domain::none, Errc::protocol, errors::kInvalidParameter},
};

}  // namespace

std::span<const ErrorInfo> wire_errors() { return kTable; }

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

const char* error_name(const Error& e) {
  // The rows every domain shares, the domain's rows, then the code-only rows.
  for (const auto& r : kEverywhere)
    if (r.code == e.code) return r.name;
  for (const auto& r : kRules)
    if (r.domain == e.domain && e.domain != Domain::none && (r.code == e.code || r.code == kAny)) return r.name;
  for (const auto& r : kRules)
    if (r.domain == Domain::none && r.code == e.code) return r.name;
  return errors::kInternal;
}

const char* error_name(Errc code) { return error_name(make_error(code, {})); }

}  // namespace btfd::proto

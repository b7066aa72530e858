// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// The one table of io.btfd error names, shared by btfd (which name to answer
// for a failure), libbtfd (which BTFD_ERR_* code a name becomes) and btfctl
// (which Errc, and so which exit code). docs/protocol.md lists the same rows.

#include <span>
#include <string_view>

#include "util/result.hpp"

namespace btfd::proto {

namespace errors {
inline constexpr const char* kKernelNotInHub = "io.btfd.KernelNotInHub";
inline constexpr const char* kHubUnreachable = "io.btfd.HubUnreachable";
inline constexpr const char* kHubRejected = "io.btfd.HubRejected";
inline constexpr const char* kInvalidObject = "io.btfd.InvalidObject";
inline constexpr const char* kObjectsNeeded = "io.btfd.ObjectsNeeded";
inline constexpr const char* kInvalidKernel = "io.btfd.InvalidKernel";
inline constexpr const char* kPermissionDenied = "io.btfd.PermissionDenied";
inline constexpr const char* kTooLarge = "io.btfd.TooLarge";
inline constexpr const char* kBusy = "io.btfd.Busy";
inline constexpr const char* kStoreError = "io.btfd.StoreError";
inline constexpr const char* kInternal = "io.btfd.Internal";
inline constexpr const char* kInvalidBundle = "io.btfd.InvalidBundle";
inline constexpr const char* kMethodNotFound = "org.varlink.service.MethodNotFound";
inline constexpr const char* kInterfaceNotFound = "org.varlink.service.InterfaceNotFound";
inline constexpr const char* kInvalidParameter = "org.varlink.service.InvalidParameter";
}  // namespace errors

struct ErrorInfo {
  const char* name;     // on the wire
  Errc code;            // what a client makes of it (btfctl's exit code follows from it)
  int libbtfd_code;     // BTFD_ERR_* (libbtfd.h)
  const char* summary;  // btfd_strerror() text
};

// Every row with a wire name, in the table's order.
std::span<const ErrorInfo> wire_errors();
// The row for a wire name; unknown names get the Internal row's code with
// BTFD_ERR_PROTOCOL semantics (see libbtfd), so never nullptr.
const ErrorInfo& error_info(std::string_view name);
// The name btfd answers for a failure: by its domain (set where the failure
// is known to be about an object, the store, the hub...) and its code. The
// one mapping from internal failures to wire errors.
const char* error_name(const Error& e);
// For a failure with no domain.
const char* error_name(Errc code);
// btfd_strerror()'s text for a libbtfd code: the wire rows' summaries plus the
// failures only a client sees (btfd unreachable, an answer it cannot read, no
// answer in time); nullptr for a code that is not a BTFD_ERR_* value.
const char* libbtfd_summary(int libbtfd_code);

}  // namespace btfd::proto

// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"errors"
	"fmt"
)

// Error is an error reply from btfd: its Varlink error name, the message btfd
// wrote and, for InvalidParameter, the field it names. Use errors.Is with the
// Err* values below (only the name is compared) or errors.As to read it.
type Error struct {
	// Name is the Varlink error name, e.g. "io.btfd.KernelNotInHub".
	Name string
	// Message is btfd's explanation ("parameters.message"), may be empty.
	Message string
	// Parameter names the offending field of an InvalidParameter error.
	Parameter string
}

// The errors btfd answers with (docs/protocol.md, "Errors"). Their names and
// codes are those of common/proto/errors.cpp.
var (
	// ErrKernelNotInHub: every mirror answered "no such file".
	ErrKernelNotInHub = &Error{Name: "io.btfd.KernelNotInHub"}
	// ErrHubUnreachable: no mirror could be reached, or each timed out; retry later.
	ErrHubUnreachable = &Error{Name: "io.btfd.HubUnreachable"}
	// ErrHubRejected: a mirror served something btfd refuses.
	ErrHubRejected = &Error{Name: "io.btfd.HubRejected"}
	// ErrInvalidObject: an object is not a valid CO-RE BPF object.
	ErrInvalidObject = &Error{Name: "io.btfd.InvalidObject"}
	// ErrObjectsNeeded: GetBtf by digest could not be answered from btfd's
	// cache alone; send the objects themselves.
	ErrObjectsNeeded = &Error{Name: "io.btfd.ObjectsNeeded"}
	// ErrInvalidKernel: the kernel identity is malformed.
	ErrInvalidKernel = &Error{Name: "io.btfd.InvalidKernel"}
	// ErrPermissionDenied: the caller may not use the method.
	ErrPermissionDenied = &Error{Name: "io.btfd.PermissionDenied"}
	// ErrTooLarge: a limit was exceeded; the message names it.
	ErrTooLarge = &Error{Name: "io.btfd.TooLarge"}
	// ErrBusy: a budget is in use (connections, descriptors, calls in flight,
	// hub lookups); retry later.
	ErrBusy = &Error{Name: "io.btfd.Busy"}
	// ErrStoreError: btfd's cache could not be read or written.
	ErrStoreError = &Error{Name: "io.btfd.StoreError"}
	// ErrInternal: a bug in btfd.
	ErrInternal = &Error{Name: "io.btfd.Internal"}
	// ErrInvalidBundle: a bundle given to ImportBundle is damaged, truncated or
	// not a btfd bundle.
	ErrInvalidBundle = &Error{Name: "io.btfd.InvalidBundle"}
	// ErrMethodNotFound: btfd does not know the method.
	ErrMethodNotFound = &Error{Name: "org.varlink.service.MethodNotFound"}
	// ErrInterfaceNotFound: btfd does not know the interface.
	ErrInterfaceNotFound = &Error{Name: "org.varlink.service.InterfaceNotFound"}
	// ErrInvalidParameter: a parameter is missing or malformed; Parameter names it.
	ErrInvalidParameter = &Error{Name: "org.varlink.service.InvalidParameter"}
)

// Errors of this client that are not replies of btfd.
var (
	// ErrUnreachable wraps every failure to connect to btfd's socket.
	ErrUnreachable = errors.New("btfd is not reachable (is btfd.socket enabled?)")
	// ErrProtocol wraps every answer that does not follow docs/protocol.md.
	ErrProtocol = errors.New("unexpected answer from btfd")
	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("btfd client is closed")
)

// The codes libbtfd returns (enum btfd_error in btfd/libbtfd.h), so that Go
// and C agents can log and compare the same numbers.
const (
	// CodeUnreachable (BTFD_ERR_UNREACHABLE): btfd's socket is not reachable.
	CodeUnreachable = -1000
	// CodeNotInHub (BTFD_ERR_NOT_IN_HUB): KernelNotInHub.
	CodeNotInHub = -1001
	// CodeHubUnreachable (BTFD_ERR_HUB_UNREACHABLE): HubUnreachable.
	CodeHubUnreachable = -1002
	// CodeInvalidObject (BTFD_ERR_INVALID_OBJECT): InvalidObject.
	CodeInvalidObject = -1003
	// CodeInvalidKernel (BTFD_ERR_INVALID_KERNEL): InvalidKernel.
	CodeInvalidKernel = -1004
	// CodePermission (BTFD_ERR_PERMISSION): PermissionDenied.
	CodePermission = -1005
	// CodeTooLarge (BTFD_ERR_TOO_LARGE): TooLarge, or a call over 64 KiB.
	CodeTooLarge = -1006
	// CodeBusy (BTFD_ERR_BUSY): Busy.
	CodeBusy = -1007
	// CodeStore (BTFD_ERR_STORE): StoreError.
	CodeStore = -1008
	// CodeProtocol (BTFD_ERR_PROTOCOL): an unexpected answer, and the
	// org.varlink.service errors.
	CodeProtocol = -1009
	// CodeInternal (BTFD_ERR_INTERNAL): Internal.
	CodeInternal = -1010
	// CodeHubRejected (BTFD_ERR_HUB_REJECTED): HubRejected.
	CodeHubRejected = -1011
	// CodeInvalidBundle (BTFD_ERR_INVALID_BUNDLE): InvalidBundle.
	CodeInvalidBundle = -1020
)

// errorTable (interface_gen.go) is common/proto/errors.cpp's table, generated.

// Code is the libbtfd code of the error (BTFD_ERR_*); CodeProtocol for a
// name btfd's table does not have.
func (e *Error) Code() int {
	for _, t := range errorTable {
		if t.name == e.Name {
			return t.code
		}
	}
	return CodeProtocol
}

// Error describes the error as "btfd: <meaning>: <message>".
func (e *Error) Error() string {
	text := e.Name
	for _, t := range errorTable {
		if t.name == e.Name {
			text = t.text
		}
	}
	s := "btfd: " + text
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Parameter != "" {
		s += fmt.Sprintf(" (parameter %q)", e.Parameter)
	}
	return s
}

// Is reports whether target is an *Error with the same Name, so that
// errors.Is(err, btfd.ErrBusy) holds for any Busy reply.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Name == e.Name
}

// Temporary reports whether retrying the same call later may succeed
// (HubUnreachable, Busy).
func (e *Error) Temporary() bool {
	return e.Name == ErrHubUnreachable.Name || e.Name == ErrBusy.Name
}

// ErrorCode is the libbtfd code (BTFD_ERR_*) for any error a call of this
// package returned: 0 for nil, the code of an *Error, CodeUnreachable for
// ErrUnreachable, CodeTooLarge for a call over the size limit, CodeProtocol
// otherwise.
func ErrorCode(err error) int {
	var e *Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.Code()
	case errors.Is(err, ErrUnreachable):
		return CodeUnreachable
	case errors.Is(err, errCallTooLarge):
		return CodeTooLarge
	default:
		return CodeProtocol
	}
}

// SPDX-License-Identifier: LGPL-2.1-or-later

// Package btfd is a native Go client for btfd, the daemon that serves kernel
// BTF to eBPF agents. It speaks io.btfd over Varlink on btfd's Unix socket, as
// docs/protocol.md in the btfd repository describes, using the standard library
// only (no cgo).
//
// BPF objects are passed to btfd as open files (never as paths), and the BTF
// comes back as a read-only *os.File: both travel as SCM_RIGHTS descriptors.
//
//	c, err := btfd.Dial(ctx, "") // $BTFD_SOCKET, else /run/btfd/btfd.sock
//	if err != nil { ... }
//	defer c.Close()
//	b, err := c.GetBtf(ctx, nil) // this host's BTF
//	if errors.Is(err, btfd.ErrKernelNotInHub) { ... }
//	defer b.File.Close()
//
// Every error btfd answers with is an *Error, comparable with errors.Is to the
// Err* values of this package. Deadlines and cancellation come from the
// context.Context of each call. A Client serves many goroutines: their calls
// are pipelined on one connection, and btfd answers them in call order. For cilium/ebpf, the companion package
// btfdebpf turns the answer into a *btf.Spec.
package btfd

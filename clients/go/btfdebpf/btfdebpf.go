// SPDX-License-Identifier: LGPL-2.1-or-later

// Package btfdebpf gives cilium/ebpf programs the kernel types btfd serves:
// a *btf.Spec to put in ebpf.CollectionOptions.Programs.KernelTypes, so CO-RE
// objects load on kernels built without BTF (no /sys/kernel/btf/vmlinux).
//
//	types, err := btfdebpf.KernelTypes(ctx, nil)
//	if err != nil { ... }
//	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
//		Programs: ebpf.ProgramOptions{KernelTypes: types},
//	})
//
// It is the only part of the Go client that imports cilium/ebpf; package btfd
// uses the standard library alone.
package btfdebpf

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/btfd/btfd/clients/go/btfd"
	"github.com/cilium/ebpf/btf"
)

// Options say which BTF to ask btfd for. The zero value asks for this host's
// full BTF over a new connection to the default socket.
type Options struct {
	// Client is the connection to use; nil dials btfd.SocketPath() for the
	// call and closes it after.
	Client *btfd.Client
	// Kernel is the kernel; nil means this host.
	Kernel *btfd.Kernel
	// Objects, when given, make btfd minimize the BTF for these BPF ELF
	// objects (opened by the caller, passed as descriptors, left open).
	Objects []*os.File
	// Force asks btfd even when the kernel has BTF of its own (only used by
	// KernelTypes).
	Force bool
	// Compat asks for the BTF rewritten for a reader of this compatibility
	// level (btfd.GetBtfOptions.Compat); "" means $BTFD_COMPAT. KernelTypes
	// asks btfd whenever a level is set, the kernel's own BTF being what the
	// reader cannot parse: "cilium-ebpf-0.9" lets cilium/ebpf 0.9 use a
	// Linux 6.x kernel's full BTF.
	Compat string
}

// compat is the level opts asks for: its own, else $BTFD_COMPAT.
func (o *Options) compat() string {
	if o.Compat != "" {
		return o.Compat
	}
	return os.Getenv("BTFD_COMPAT")
}

// Spec asks btfd for a kernel's BTF (minimized for opts.Objects when any
// are given) and parses it. The second result is what btfd said about the
// BTF; its File is already closed. btfd's errors are *btfd.Error values.
func Spec(ctx context.Context, opts *Options) (*btf.Spec, *btfd.Btf, error) {
	if opts == nil {
		opts = &Options{}
	}
	c := opts.Client
	if c == nil {
		var err error
		if c, err = btfd.Dial(ctx, ""); err != nil {
			return nil, nil, err
		}
		defer c.Close()
	}
	b, err := c.GetBtfWith(ctx, btfd.GetBtfOptions{Kernel: opts.Kernel, Objects: opts.Objects, Compat: opts.compat()})
	if err != nil {
		return nil, nil, err
	}
	defer b.File.Close()
	spec, err := LoadSpec(b.File)
	if err != nil {
		return nil, nil, err
	}
	return spec, b, nil
}

// LoadSpec parses raw BTF from f, e.g. the File of a btfd.Btf, without moving
// its offset.
func LoadSpec(f *os.File) (*btf.Spec, error) {
	spec, err := btf.LoadSpecFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("btfd: BTF from btfd does not parse: %w", err)
	}
	return spec, nil
}

// KernelTypes is what ebpf.ProgramOptions.KernelTypes should be on this
// host: nil (cilium/ebpf then reads the kernel's own BTF) when
// /sys/kernel/btf/vmlinux exists, no kernel and no objects are asked for and
// neither opts.Force nor $BTFD_FORCE=1 is set; otherwise the BTF btfd
// serves, as Spec returns it. Where the kernel has BTF of its own and btfd
// cannot be reached, it is nil too, not an error (as libbtfd's helpers, which
// then leave libbpf to the kernel's BTF). This is libbtfd's
// btfd_ensure_core_btf() for cilium/ebpf.
//
// What it cannot do: KernelTypes is for CO-RE relocations only. Programs
// that attach by BTF ID (tp_btf, fentry/fexit, fmod_ret, lsm, iterators)
// need the running kernel's own BTF (/sys/kernel/btf/vmlinux): their attach
// targets are resolved by the kernel, which knows no BTF but its own.
//
// Pass the objects to be loaded: the minimized BTF is small. On kernels whose
// BTF uses kinds cilium/ebpf 0.9.1 does not know (BTF_KIND_DECL_TAG, Linux
// 5.16, and later), the kernel's own BTF does not parse with it; the
// minimized one usually does, and with Compat "cilium-ebpf-0.9" any BTF
// btfd serves, full or minimized, does.
func KernelTypes(ctx context.Context, opts *Options) (*btf.Spec, error) {
	if opts == nil {
		opts = &Options{}
	}
	native := false
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil {
		native = true
	}
	forced := opts.Force || os.Getenv("BTFD_FORCE") == "1" || opts.compat() != ""
	if native && !forced && opts.Kernel == nil && len(opts.Objects) == 0 {
		return nil, nil
	}
	spec, _, err := Spec(ctx, opts)
	// Where the kernel has BTF of its own, btfd is a help, not a need: with
	// btfd away, cilium/ebpf reads the kernel's BTF, as libbtfd's helpers
	// leave libbpf to it. (Unless the caller forced btfd or named another
	// kernel: then btfd's answer is what was asked for.)
	if err != nil && errors.Is(err, btfd.ErrUnreachable) && native && !forced && opts.Kernel == nil {
		return nil, nil
	}
	return spec, err
}

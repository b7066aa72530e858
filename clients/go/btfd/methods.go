// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Kernel identifies a kernel as btfhub-archive keys it. Empty fields mean
// "this host's", so Kernel{Release: "5.15.0-91-generic"} is that kernel of
// this distribution.
type Kernel struct {
	// Distro is the os-release ID, e.g. "ubuntu".
	Distro string `json:"distro,omitempty"`
	// Version is the os-release VERSION_ID, e.g. "20.04".
	Version string `json:"version,omitempty"`
	// Arch is the archive's architecture name: "x86_64", "arm64", ...
	Arch string `json:"arch,omitempty"`
	// Release is uname -r.
	Release string `json:"release,omitempty"`
}

// Relocation is one line of the report btfd returns with a minimized BTF:
// a CO-RE relocation of an object and how it matched the kernel.
type Relocation struct {
	// Object is the object's name as btfd saw it.
	Object string `json:"object"`
	// Section is the ELF section of the program.
	Section string `json:"section"`
	// Relo is the relocation's index within its section.
	Relo int `json:"relo"`
	// Insn is the instruction's index within the section.
	Insn int `json:"insn"`
	// Kind is libbpf's name of the relocation kind, e.g. "byte_off".
	Kind string `json:"kind"`
	// Local is the relocation's access spec in the object's types.
	Local string `json:"local"`
	// Candidates is how many kernel types were examined.
	Candidates int `json:"candidates"`
	// Matches is how many of them matched (all are kept).
	Matches int `json:"matches"`
	// Target is the matched spec in the kernel's types, "local" when the
	// relocation needs no kernel type, empty when nothing matched.
	Target string `json:"target"`
}

// RelocationReport is the relocation report of a minimized BTF, one
// Relocation per CO-RE relocation. On the wire (docs/protocol.md) it is
// compact: {"strings": [...], "relocations": [[object, section, relo, insn,
// kind, local, target, candidates, matches, ambiguity?], ...]}, each name an
// index into strings (target -1: nothing matched, -2: needs no kernel type),
// so that long names repeated over many relocations cost their bytes once.
type RelocationReport []Relocation

// UnmarshalJSON spells the compact report out.
func (r *RelocationReport) UnmarshalJSON(data []byte) error {
	var wire struct {
		Strings     []string  `json:"strings"`
		Relocations [][]int64 `json:"relocations"`
	}
	if string(data) == "null" {
		*r = nil
		return nil
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	str := func(i int64) (string, error) {
		if i < 0 || i >= int64(len(wire.Strings)) {
			return "", fmt.Errorf("relocation report: string %d of %d", i, len(wire.Strings))
		}
		return wire.Strings[i], nil
	}
	out := make(RelocationReport, 0, len(wire.Relocations))
	for _, row := range wire.Relocations {
		if len(row) < 9 {
			return fmt.Errorf("relocation report: a row of %d fields, not 9", len(row))
		}
		var rel Relocation
		var err error
		for _, f := range []struct {
			dst *string
			i   int64
		}{{&rel.Object, row[0]}, {&rel.Section, row[1]}, {&rel.Kind, row[4]}, {&rel.Local, row[5]}} {
			if *f.dst, err = str(f.i); err != nil {
				return err
			}
		}
		rel.Relo, rel.Insn, rel.Candidates, rel.Matches = int(row[2]), int(row[3]), int(row[7]), int(row[8])
		switch row[6] {
		case -1:
		case -2:
			rel.Target = "local"
		default:
			if rel.Target, err = str(row[6]); err != nil {
				return err
			}
		}
		out = append(out, rel)
	}
	*r = out
	return nil
}

// Btf is the answer to GetBtf: the BTF as a read-only file and what btfd
// says about it.
type Btf struct {
	// File holds the raw BTF (read it with ReadAt or from offset 0). The
	// caller owns it and must close it.
	File *os.File `json:"-"`
	// Path is btfd's cache file with the same bytes; it may not be visible
	// from a container, the File always is.
	Path string `json:"path"`
	// SHA256 is the hex digest of the bytes.
	SHA256 string `json:"sha256"`
	// Size is the size in bytes.
	Size uint64 `json:"size"`
	// Source is where the kernel's BTF came from: "native", "hub" or "file".
	Source string `json:"source"`
	// Cached is true when nothing had to be fetched or computed.
	Cached bool `json:"cached"`
	// Exact is true when the BTF is for exactly the requested release.
	Exact bool `json:"exact"`
	// Minimized is true when the BTF is minimized for the objects.
	Minimized bool `json:"minimized"`
	// Kernel is the kernel the BTF describes.
	Kernel Kernel `json:"kernel"`
	// Relocations is the per-relocation report of a minimized BTF (btfd
	// sends it compact, each string once: see RelocationReport).
	Relocations RelocationReport `json:"relocations"`
	// Compat is the compatibility level the BTF was rewritten for ("" when
	// none was asked for; Path is then empty).
	Compat string `json:"compat"`
	// FD is the index of the descriptor in the reply (always 0).
	FD int `json:"fd"`
}

type getBtfParams struct {
	Kernel  *Kernel  `json:"kernel,omitempty"`
	Objects []int    `json:"objects,omitempty"`
	Names   []string `json:"names,omitempty"`
	Refresh bool     `json:"refresh,omitempty"`
	Compat  string   `json:"compat,omitempty"`
}

// GetBtfOptions is a GetBtf request with every field of io.btfd.GetBtf.
type GetBtfOptions struct {
	// Kernel is the kernel whose BTF is wanted; nil means this host.
	Kernel *Kernel
	// Objects are BPF ELF files to minimize for (at most 16).
	Objects []*os.File
	// Refresh asks the hub again even where it answered "not in hub" before
	// (a cached kernel is still answered from the cache). It counts against
	// the caller's hub lookups per minute.
	Refresh bool
	// Compat, when set, asks for the BTF rewritten for a reader of this
	// compatibility level, type ids kept: a kernel release ("5.13") or an
	// alias ("cilium-ebpf-0.9", what cilium/ebpf 0.9 parses). An unknown
	// level is an InvalidParameter error listing the known ones.
	Compat string
}

// GetBtf asks for the BTF of kernel (nil: this host), minimized for objects
// when any are given. The objects are BPF ELF files opened by the caller; they
// are passed as descriptors, never as paths, and stay open. At most 16 objects
// fit in one call.
func (c *Client) GetBtf(ctx context.Context, kernel *Kernel, objects ...*os.File) (*Btf, error) {
	return c.GetBtfWith(ctx, GetBtfOptions{Kernel: kernel, Objects: objects})
}

// GetBtfWith is GetBtf with every option of the request (see GetBtfOptions).
func (c *Client) GetBtfWith(ctx context.Context, o GetBtfOptions) (*Btf, error) {
	p := getBtfParams{Kernel: o.Kernel, Refresh: o.Refresh, Compat: o.Compat}
	for i, f := range o.Objects {
		p.Objects = append(p.Objects, i)
		// The file's base name, which btfd keeps for `btfctl list` only (at
		// most 255 bytes; a name it would refuse is left out).
		if f != nil {
			if name := filepath.Base(f.Name()); name != "." && name != "/" && len(name) <= 255 {
				p.Names = append(p.Names, name)
			}
		}
	}
	if len(p.Names) != len(p.Objects) {
		p.Names = nil // names go in order, one per object, or not at all
	}
	var b Btf
	fds, err := c.Call(ctx, MethodGetBtf, p, o.Objects, &b)
	if err != nil {
		return nil, err
	}
	if b.FD < 0 || b.FD >= len(fds) {
		closeFiles(fds)
		return nil, fmt.Errorf("%w: GetBtf reply names descriptor %d of %d", ErrProtocol, b.FD, len(fds))
	}
	b.File = fds[b.FD]
	fds[b.FD] = nil
	for _, f := range fds {
		if f != nil {
			f.Close()
		}
	}
	return &b, nil
}

// Kernels is the answer to ListKernels. Entries are JSON objects as btfd
// writes them (see the io.btfd interface description); their numbers are
// json.Number.
type Kernels struct {
	// Kernels are the cached full kernel BTF entries.
	Kernels []map[string]interface{} `json:"kernels"`
	// Minimized are the cached minimized BTF entries.
	Minimized []map[string]interface{} `json:"minimized"`
	// Objects are the objects clients asked about, kept to pre-minimize new kernels.
	Objects []map[string]interface{} `json:"objects"`
}

// ListKernels lists btfd's cache.
func (c *Client) ListKernels(ctx context.Context) (*Kernels, error) {
	var k Kernels
	if err := c.noFds(c.Call(ctx, MethodListKernels, nil, nil, &k)); err != nil {
		return nil, err
	}
	return &k, nil
}

// PrefetchProgress is a progress reply of Prefetch.
type PrefetchProgress struct {
	// State is "progress" on intermediate replies, "done" on the last.
	State string `json:"state"`
	// Downloaded is the number of bytes downloaded so far.
	Downloaded uint64 `json:"downloaded"`
	// Total is the number of bytes to download, 0 when unknown.
	Total uint64 `json:"total"`
	// Result is what was done (last reply only); numbers are json.Number.
	Result map[string]interface{} `json:"result"`
}

type prefetchParams struct {
	Kernel *Kernel `json:"kernel,omitempty"`
	Pin    *bool   `json:"pin,omitempty"`
}

// Prefetch fetches a kernel's BTF ahead of time (nil: this host) and pins it
// unless pin is false. When progress is not nil, the call is made with
// "more" and progress is called with each progress reply. It needs root,
// btfd's group or the admin socket (else ErrPermissionDenied).
func (c *Client) Prefetch(ctx context.Context, kernel *Kernel, pin bool,
	progress func(PrefetchProgress)) (*PrefetchProgress, error) {
	p := prefetchParams{Kernel: kernel}
	if !pin {
		p.Pin = &pin
	}
	var hook func(json.RawMessage)
	if progress != nil {
		hook = func(raw json.RawMessage) {
			var pp PrefetchProgress
			if unmarshal(raw, &pp) == nil {
				progress(pp)
			}
		}
	}
	r, err := c.call(ctx, MethodPrefetch, p, nil, progress != nil, hook)
	if err != nil {
		return nil, err
	}
	closeFiles(r.fds)
	var done PrefetchProgress
	if err := unmarshal(r.Parameters, &done); err != nil {
		return nil, fmt.Errorf("%w: Prefetch reply: %v", ErrProtocol, err)
	}
	return &done, nil
}

// Status returns btfd's status object (version, uptime, host, native BTF,
// cache use and budget, mirrors, prefetch); numbers are json.Number.
func (c *Client) Status(ctx context.Context) (map[string]interface{}, error) {
	var r struct {
		Status map[string]interface{} `json:"status"`
	}
	if err := c.noFds(c.Call(ctx, MethodStatus, nil, nil, &r)); err != nil {
		return nil, err
	}
	return r.Status, nil
}

// Stats is the answer to Stats.
type Stats struct {
	// Stats holds the counters and the latency histogram (json.Number values).
	Stats map[string]interface{} `json:"stats"`
	// Text is the Prometheus text exposition, when asked for.
	Text string `json:"text"`
}

// Stats returns btfd's counters; with prometheus also as Prometheus text.
func (c *Client) Stats(ctx context.Context, prometheus bool) (*Stats, error) {
	var p interface{}
	if prometheus {
		p = map[string]bool{"prometheus": true}
	}
	var s Stats
	if err := c.noFds(c.Call(ctx, MethodStats, p, nil, &s)); err != nil {
		return nil, err
	}
	return &s, nil
}

// VerifyResult is the answer to Verify.
type VerifyResult struct {
	// Checked is the number of blobs hashed.
	Checked uint64 `json:"checked"`
	// Corrupt is the number of blobs found damaged or missing, and dropped.
	Corrupt uint64 `json:"corrupt"`
	// Bytes is the number of bytes hashed.
	Bytes uint64 `json:"bytes"`
}

// RefreshedKernel is one installed kernel in the answer to Refresh.
type RefreshedKernel struct {
	// Kernel is the installed kernel.
	Kernel Kernel `json:"kernel"`
	// Outcome is "native", "cached", "fetched", "not-in-hub", "error" or "skipped".
	Outcome string `json:"outcome"`
	// Message explains "error" and "skipped".
	Message string `json:"message"`
}

// RefreshResult is the answer to Refresh.
type RefreshResult struct {
	// Kernels has one entry per installed kernel.
	Kernels []RefreshedKernel `json:"kernels"`
	// Unpinned is the number of kernels whose pin was released.
	Unpinned uint64 `json:"unpinned"`
	// Verified is what re-hashing the cache found.
	Verified VerifyResult `json:"verified"`
}

// Refresh fetches BTF for every installed kernel without its own, releases
// pins of kernels booted past and verifies the cache. Needs the same
// privileges as Prefetch.
func (c *Client) Refresh(ctx context.Context) (*RefreshResult, error) {
	var r RefreshResult
	if err := c.noFds(c.Call(ctx, MethodRefresh, nil, nil, &r)); err != nil {
		return nil, err
	}
	return &r, nil
}

// GarbageCollectResult is the answer to GarbageCollect.
type GarbageCollectResult struct {
	// RemovedEntries is the number of index entries removed.
	RemovedEntries uint64 `json:"removed_entries"`
	// RemovedBlobs is the number of blob files removed.
	RemovedBlobs uint64 `json:"removed_blobs"`
	// FreedBytes is the number of bytes freed.
	FreedBytes uint64 `json:"freed_bytes"`
}

// GarbageCollect evicts to the cache budget and drops unreferenced blobs.
// Needs the same privileges as Prefetch.
func (c *Client) GarbageCollect(ctx context.Context) (*GarbageCollectResult, error) {
	var r GarbageCollectResult
	if err := c.noFds(c.Call(ctx, MethodGarbageCollect, nil, nil, &r)); err != nil {
		return nil, err
	}
	return &r, nil
}

// Verify re-hashes every cached blob; damaged ones are dropped. Needs the
// same privileges as Prefetch.
func (c *Client) Verify(ctx context.Context) (*VerifyResult, error) {
	var r VerifyResult
	if err := c.noFds(c.Call(ctx, MethodVerify, nil, nil, &r)); err != nil {
		return nil, err
	}
	return &r, nil
}

// Info is the answer to org.varlink.service.GetInfo.
type Info struct {
	// Vendor is "btfd".
	Vendor string `json:"vendor"`
	// Product is "btfd".
	Product string `json:"product"`
	// Version is btfd's version.
	Version string `json:"version"`
	// URL is the project's address.
	URL string `json:"url"`
	// Interfaces lists the Varlink interfaces served.
	Interfaces []string `json:"interfaces"`
}

// GetInfo asks which interfaces btfd serves.
func (c *Client) GetInfo(ctx context.Context) (*Info, error) {
	var i Info
	if err := c.noFds(c.Call(ctx, MethodGetInfo, nil, nil, &i)); err != nil {
		return nil, err
	}
	return &i, nil
}

// GetInterfaceDescription returns the Varlink IDL of an interface, e.g.
// "io.btfd", with a comment on every method, field and error.
func (c *Client) GetInterfaceDescription(ctx context.Context, iface string) (string, error) {
	var r struct {
		Description string `json:"description"`
	}
	p := map[string]string{"interface": iface}
	if err := c.noFds(c.Call(ctx, MethodGetInterfaceDescription, p, nil, &r)); err != nil {
		return "", err
	}
	return r.Description, nil
}

// noFds closes descriptors a reply should not have carried.
func (c *Client) noFds(fds []*os.File, err error) error {
	closeFiles(fds)
	return err
}

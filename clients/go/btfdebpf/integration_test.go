// SPDX-License-Identifier: LGPL-2.1-or-later

package btfdebpf_test

// The Go client against a real btfd: this kernel's BTF, a minimized BTF, a
// hub kernel from the repo's fixtures, every method, and a CO-RE object
// loaded by cilium/ebpf with the KernelTypes btfd gave. Run by meson
// (tests/integration/goclient) with BTFD_BTFD, BTFD_SOURCE_ROOT and
// BTFD_TEST_OBJECT set; skipped when BTFD_BTFD is not set.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btfd/btfd/clients/go/btfd"
	"github.com/btfd/btfd/clients/go/btfdebpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

// skipReason, when set by a test, turns a passing run into exit 77 with the
// reason: the only reasons scripts/check-tests.sh accepts.
var skipReason string

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && skipReason != "" {
		fmt.Println(skipReason)
		code = 77
	}
	os.Exit(code)
}

var hubKernel = btfd.Kernel{Distro: "ubuntu", Version: "20.04", Arch: "x86_64", Release: "5.4.0-26-generic"}

// startBtfd runs btfd on a temp socket and cache with the repo's btfhub
// fixtures as its mirror.
func startBtfd(t *testing.T, extra ...string) string {
	exe := os.Getenv("BTFD_BTFD")
	if exe == "" {
		t.Skip("BTFD_BTFD is not set (run through meson test)")
	}
	tmp := t.TempDir()
	sock := filepath.Join(tmp, "btfd.sock")
	mirror := filepath.Join(os.Getenv("BTFD_SOURCE_ROOT"), "tests", "data", "btfhub")
	log, err := os.Create(filepath.Join(tmp, "btfd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--socket", sock, "--cache-dir", filepath.Join(tmp, "cache"), "--idle-exit", "0",
		"--mirror", mirror)
	cmd.Args = append(cmd.Args, extra...)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		cmd.Args = append(cmd.Args, "--host-root", fixtureHostRoot(t, tmp))
	}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("btfd log:\n%s", b)
		}
	})
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
	}
	t.Fatal("btfd did not come up")
	return ""
}

// fixtureHostRoot is a host root whose kernel has BTF of its own, the
// fixture kernel's (BTFD_FIXTURE_KERNEL_BTF), for hosts without
// /sys/kernel/btf/vmlinux: "this host's BTF" is then native there too.
func fixtureHostRoot(t *testing.T, tmp string) string {
	btfPath := os.Getenv("BTFD_FIXTURE_KERNEL_BTF")
	data, err := os.ReadFile(btfPath)
	if err != nil {
		t.Fatalf("BTFD_FIXTURE_KERNEL_BTF: %v", err)
	}
	root := filepath.Join(tmp, "hostroot")
	for dir, files := range map[string]map[string][]byte{
		"etc":            {"os-release": []byte("ID=ubuntu\nVERSION_ID=\"20.04\"\n")},
		"sys/kernel/btf": {"vmlinux": data},
	} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(root, dir, name), content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openObject(t *testing.T) *os.File {
	path := os.Getenv("BTFD_TEST_OBJECT")
	if path == "" {
		t.Fatal("BTFD_TEST_OBJECT is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkBtf reads the reply's file: its size and sha256 are what btfd said,
// and cilium/ebpf parses it and finds task_struct.
func checkBtf(t *testing.T, what string, b *btfd.Btf) *btf.Spec {
	t.Helper()
	data, err := io.ReadAll(io.NewSectionReader(b.File, 0, 1<<31))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	sum := sha256.Sum256(data)
	if uint64(len(data)) != b.Size || hex.EncodeToString(sum[:]) != b.SHA256 {
		t.Fatalf("%s: %d bytes with sha256 %x; btfd said %d, %s", what, len(data), sum, b.Size, b.SHA256)
	}
	spec, err := btfdebpf.LoadSpec(b.File)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	// Some archived kernels carry more than one task_struct; one is enough.
	if types, err := spec.AnyTypesByName("task_struct"); err != nil || len(types) == 0 {
		t.Fatalf("%s: no task_struct: %v", what, err)
	}
	return spec
}

// checkFullHostBtf checks the host's full BTF. cilium/ebpf 0.9.1 knows no BTF
// kinds past BTF_KIND_DECL_TAG: a kernel whose BTF has ENUM64 (Linux 6.0 and
// later) does not parse, which is why agents on cilium/ebpf 0.9.1 need the
// minimized BTF there.
func checkFullHostBtf(t *testing.T, b *btfd.Btf) {
	t.Helper()
	data, err := io.ReadAll(io.NewSectionReader(b.File, 0, 1<<31))
	sum := sha256.Sum256(data)
	if err != nil || uint64(len(data)) != b.Size || hex.EncodeToString(sum[:]) != b.SHA256 {
		t.Fatalf("host: %d bytes with sha256 %x; btfd said %d, %s (%v)", len(data), sum, b.Size, b.SHA256, err)
	}
	if _, err := btfdebpf.LoadSpec(b.File); err != nil {
		if !strings.Contains(err.Error(), "unknown kind") {
			t.Fatalf("host: %v", err)
		}
		t.Logf("host: the full BTF has kinds cilium/ebpf 0.9.1 does not know: %v", err)
	}
}

func TestAgainstBtfd(t *testing.T) {
	sock := startBtfd(t)
	ctx := ctxT(t)
	c, err := btfd.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	obj := openObject(t)

	full, err := c.GetBtf(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer full.File.Close()
	checkFullHostBtf(t, full)
	if full.Minimized || full.Kernel.Release == "" {
		t.Errorf("host BTF: %+v", full)
	}

	min, err := c.GetBtf(ctx, nil, obj)
	if err != nil {
		t.Fatal(err)
	}
	defer min.File.Close()
	checkBtf(t, "host minimized", min)
	if !min.Minimized || min.Size >= full.Size || len(min.Relocations) == 0 {
		t.Errorf("minimized: %d bytes (full %d), minimized %v, %d relocations", min.Size, full.Size, min.Minimized, len(min.Relocations))
	}

	hub, err := c.GetBtf(ctx, &hubKernel, obj)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.File.Close()
	checkBtf(t, "hub kernel minimized", hub)
	if hub.Source != "hub" || !hub.Exact || !hub.Minimized || hub.Kernel.Release != hubKernel.Release {
		t.Errorf("hub kernel: %+v", hub)
	}

	_, err = c.GetBtf(ctx, &btfd.Kernel{Release: "../etc"})
	if !errors.Is(err, btfd.ErrInvalidKernel) || btfd.ErrorCode(err) != btfd.CodeInvalidKernel {
		t.Errorf("invalid kernel: %v", err)
	}
	_, err = c.GetBtf(ctx, &btfd.Kernel{Distro: "ubuntu", Version: "20.04", Arch: "x86_64", Release: "0.0.1-none"})
	if !errors.Is(err, btfd.ErrKernelNotInHub) {
		t.Errorf("unknown release: %v", err)
	}
	// Not an object: a small text file (btfd's executable would do, but under
	// ASan it is larger than btfd's per-object limit, which is TooLarge).
	notObj, err := os.Open(filepath.Join(os.Getenv("BTFD_SOURCE_ROOT"), "tests", "data", "btfhub", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer notObj.Close()
	if _, err := c.GetBtf(ctx, nil, notObj); !errors.Is(err, btfd.ErrInvalidObject) {
		t.Errorf("not an object: %v", err)
	}
	var unknown struct{}
	if _, err := c.Call(ctx, "io.btfd.NoSuchMethod", nil, nil, &unknown); !errors.Is(err, btfd.ErrMethodNotFound) {
		t.Errorf("unknown method: %v", err)
	}
	if _, err := c.Call(ctx, "io.btfd.GetBtf", map[string]int{"kernel": 1}, nil, &unknown); !errors.Is(err, btfd.ErrInvalidParameter) {
		t.Errorf("wrong type: %v", err)
	} else if e := new(btfd.Error); errors.As(err, &e) && e.Parameter != "kernel" {
		t.Errorf("InvalidParameter names %q", e.Parameter)
	}

	// Goroutines sharing the Client: calls pipelined (btfd answers in call
	// order), each answer the one its own call asked for.
	errs := make(chan error, 12)
	for i := 0; i < 12; i++ {
		go func(i int) {
			kernel, want := (*btfd.Kernel)(nil), min.SHA256
			if i%2 == 1 {
				kernel, want = &hubKernel, hub.SHA256
			}
			b, err := c.GetBtf(ctx, kernel, obj)
			if err == nil {
				b.File.Close()
				if b.SHA256 != want {
					err = fmt.Errorf("call %d: sha256 %s, want %s", i, b.SHA256, want)
				}
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 12; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	// An object in a pipe (btfd reads it under its deadline) gives the same BTF.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		io.Copy(pw, io.NewSectionReader(obj, 0, 1<<30))
		pw.Close()
	}()
	piped, err := c.GetBtf(ctx, nil, pr)
	pr.Close()
	if err != nil || piped.SHA256 != min.SHA256 {
		t.Errorf("object through a pipe: %+v %v", piped, err)
	} else {
		piped.File.Close()
	}

	// The rest of the interface.
	if k, err := c.ListKernels(ctx); err != nil || len(k.Kernels) == 0 || len(k.Minimized) == 0 {
		t.Errorf("ListKernels: %+v %v", k, err)
	}
	if s, err := c.Status(ctx); err != nil || s["version"] == nil {
		t.Errorf("Status: %v %v", s, err)
	}
	if s, err := c.Stats(ctx, true); err != nil || len(s.Stats) == 0 || !strings.Contains(s.Text, "btfd_") {
		t.Errorf("Stats: %v", err)
	}
	if i, err := c.GetInfo(ctx); err != nil || len(i.Interfaces) != 2 {
		t.Errorf("GetInfo: %+v %v", i, err)
	}
	if d, err := c.GetInterfaceDescription(ctx, "io.btfd"); err != nil || !strings.Contains(d, "method GetBtf(") {
		t.Errorf("GetInterfaceDescription: %v", err)
	}
	// btfd runs as this test's uid, so the administrative methods are allowed.
	var progress int
	p, err := c.Prefetch(ctx, &btfd.Kernel{Distro: "ubuntu", Version: "20.04", Arch: "x86_64", Release: "5.11.0-1028-gcp"},
		true, func(btfd.PrefetchProgress) { progress++ })
	if err != nil || p.State != "done" {
		t.Errorf("Prefetch: %+v %v", p, err)
	}
	t.Logf("prefetch: %d progress replies, result %v", progress, p.Result)
	if v, err := c.Verify(ctx); err != nil || v.Checked == 0 || v.Corrupt != 0 {
		t.Errorf("Verify: %+v %v", v, err)
	}
	if _, err := c.GarbageCollect(ctx); err != nil {
		t.Errorf("GarbageCollect: %v", err)
	}
	if r, err := c.Refresh(ctx); err != nil || len(r.Kernels) == 0 {
		t.Errorf("Refresh: %+v %v", r, err)
	}
}

// cilium/ebpf loads the CO-RE object with the minimized BTF from btfd as its
// kernel types.
func TestLoadWithKernelTypes(t *testing.T) {
	sock := startBtfd(t)
	t.Setenv("BTFD_SOCKET", sock)
	ctx := ctxT(t)
	obj := openObject(t)

	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil {
		if types, err := btfdebpf.KernelTypes(ctx, nil); types != nil || err != nil {
			t.Errorf("KernelTypes on a kernel with BTF: %v %v (want nil: cilium/ebpf reads its own)", types, err)
		}
		// btfd away: the kernel's own BTF still serves (as with libbtfd),
		// unless btfd was asked for by force.
		t.Setenv("BTFD_SOCKET", filepath.Join(t.TempDir(), "no-btfd.sock"))
		if types, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Objects: []*os.File{obj}}); types != nil || err != nil {
			t.Errorf("KernelTypes with objects, btfd unreachable, kernel with BTF: %v %v (want nil)", types, err)
		}
		if _, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Force: true}); !errors.Is(err, btfd.ErrUnreachable) {
			t.Errorf("KernelTypes forced, btfd unreachable: %v (want ErrUnreachable)", err)
		}
		t.Setenv("BTFD_SOCKET", sock)
	}
	kernelTypes := map[string]*btf.Spec{}
	forced, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Force: true})
	forcedErr := err
	switch {
	case err != nil && strings.Contains(err.Error(), "unknown kind"):
		t.Logf("the full BTF does not parse with cilium/ebpf 0.9.1 (see checkFullHostBtf): %v", err)
	case err != nil || forced == nil:
		t.Fatalf("KernelTypes forced: %v", err)
	default:
		kernelTypes["full"] = forced
	}
	// The case: a kernel whose BTF holds kinds cilium/ebpf 0.9.1 does
	// not know fails to parse unrewritten, and parses and loads rewritten at
	// its level, full BTF included.
	newer, err := kindsAboveFloat(forcedRaw(ctx, t))
	if err != nil {
		t.Fatal(err)
	}
	if newer > 0 && (forcedErr == nil || !strings.Contains(forcedErr.Error(), "unknown kind")) {
		t.Errorf("the full BTF holds %d types of kinds cilium/ebpf 0.9.1 does not know, yet it did not refuse it: %v",
			newer, forcedErr)
	}
	if newer == 0 {
		t.Logf("this kernel's BTF holds no kind past FLOAT: the unrewritten failure cannot show here")
	} else {
		t.Logf("unrewritten, %d types of newer kinds: %v", newer, forcedErr)
	}
	compat, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Compat: "cilium-ebpf-0.9"})
	if err != nil || compat == nil {
		t.Fatalf("KernelTypes with Compat cilium-ebpf-0.9 (the full BTF rewritten): %v", err)
	}
	kernelTypes["full, compat cilium-ebpf-0.9"] = compat
	_, cinfo, err := btfdebpf.Spec(ctx, &btfdebpf.Options{Compat: "cilium-ebpf-0.9"})
	if err != nil || cinfo.Compat != "cilium-ebpf-0.9" || cinfo.Path != "" || cinfo.Minimized {
		t.Errorf("Spec with Compat: %+v %v", cinfo, err)
	}
	minCompat, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Objects: []*os.File{obj}, Compat: "5.2"})
	if err != nil || minCompat == nil {
		t.Fatalf("KernelTypes for the object with Compat 5.2: %v", err)
	}
	kernelTypes["minimized, compat 5.2"] = minCompat
	if _, _, err := btfdebpf.Spec(ctx, &btfdebpf.Options{Compat: "4.9"}); err == nil ||
		!strings.Contains(err.Error(), "cilium-ebpf-0.9") || !strings.Contains(err.Error(), "\"4.9\"") {
		t.Errorf("an unknown level: %v (want InvalidParameter naming it and the known ones)", err)
	}
	types, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Objects: []*os.File{obj}})
	if err != nil || types == nil {
		t.Fatalf("KernelTypes for the object: %v", err)
	}
	kernelTypes["minimized"] = types
	_, info, err := btfdebpf.Spec(ctx, &btfdebpf.Options{Objects: []*os.File{obj}})
	if err != nil || !info.Minimized || info.File == nil {
		t.Errorf("Spec: %+v %v", info, err)
	}

	spec, err := ebpf.LoadCollectionSpec(obj.Name())
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		skipReason = "SKIP: not root (loading a BPF program)"
		return
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Logf("rlimit: %v", err)
	}
	for name, kt := range kernelTypes {
		coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
			Programs: ebpf.ProgramOptions{KernelTypes: kt},
		})
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) {
			skipReason = fmt.Sprintf("SKIP: bpf(2) not permitted (%v)", err)
			return
		}
		if err != nil {
			t.Fatalf("load with the %s BTF from btfd: %v", name, err)
		}
		if coll.Programs["sample_execve"] == nil {
			t.Errorf("%s: sample_execve not loaded", name)
		}
		coll.Close()
		t.Logf("loaded sample_execve with the %s BTF from btfd", name)
	}
}

// forcedRaw is this host's full BTF as btfd serves it, unrewritten.
func forcedRaw(ctx context.Context, t *testing.T) []byte {
	c, err := btfd.Dial(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := c.GetBtf(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.File.Close()
	raw, err := io.ReadAll(b.File)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// kindsAboveFloat counts the types of raw BTF (native byte order, little
// endian here) whose kind is past BTF_KIND_FLOAT, the last cilium/ebpf 0.9.1 knows.
func kindsAboveFloat(raw []byte) (int, error) {
	le := func(off int) uint32 {
		return uint32(raw[off]) | uint32(raw[off+1])<<8 | uint32(raw[off+2])<<16 | uint32(raw[off+3])<<24
	}
	if len(raw) < 24 {
		return 0, fmt.Errorf("BTF of %d bytes", len(raw))
	}
	hdr := int(le(4))
	off, end := hdr+int(le(8)), hdr+int(le(8))+int(le(12))
	n := 0
	for off+12 <= end {
		info := le(off + 4)
		kind, vlen := (info>>24)&0x1f, int(info&0xffff)
		off += 12
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG
			off += 4
		case 3: // ARRAY
			off += 12
		case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
			off += 12 * vlen
		case 6, 13: // ENUM, FUNC_PROTO
			off += 8 * vlen
		}
		if kind > 16 {
			n++
		}
	}
	return n, nil
}

// btfd refuses a connection over its budget with a Busy reply: the client
// returns it (ErrBusy), not the EPIPE of writing to a closed socket.
func TestBusyWhenOverTheConnectionBudget(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "btfd.conf")
	if err := os.WriteFile(conf, []byte("[Limits]\nMaxConnectionsPerUser=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := startBtfd(t, "--config", conf)
	ctx := ctxT(t)
	first, err := btfd.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// Until btfd has seen startBtfd's probe connection close, it counts it.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := first.GetInfo(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, btfd.ErrBusy) || time.Now().After(end) {
			t.Fatal(err)
		}
	}
	second, err := btfd.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	time.Sleep(200 * time.Millisecond) // btfd has answered and closed by now
	_, err = second.GetBtf(ctx, nil, openObject(t))
	if !errors.Is(err, btfd.ErrBusy) || btfd.ErrorCode(err) != btfd.CodeBusy {
		t.Fatalf("over the connection budget: %v", err)
	}
	t.Logf("refused: %v", err)
	first.Close()
	time.Sleep(100 * time.Millisecond)
	if _, err := second.GetInfo(ctx); err != nil {
		t.Errorf("after the first connection closed: %v", err)
	}
}

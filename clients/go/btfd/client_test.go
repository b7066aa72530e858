// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeServer is a Varlink peer on a temp socket: each accepted connection is
// given to handle.
type fakeServer struct {
	path    string
	ln      *net.UnixListener
	accepts int32
}

func newFakeServer(t *testing.T, handle func(t *testing.T, w *wire)) *fakeServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "btfd.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{path: path, ln: ln}
	var mu sync.Mutex
	var conns []*net.UnixConn
	var handlers sync.WaitGroup
	handlers.Add(1)
	go func() {
		defer handlers.Done()
		for {
			uc, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			atomic.AddInt32(&s.accepts, 1)
			mu.Lock()
			conns = append(conns, uc)
			mu.Unlock()
			handlers.Add(1)
			go func() {
				defer handlers.Done()
				w := &wire{uc: uc}
				defer w.close()
				handle(t, w)
			}()
		}
	}()
	// Handlers end before the test does: they may still use t.
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, uc := range conns {
			uc.Close()
		}
		mu.Unlock()
		handlers.Wait()
	})
	return s
}

// call is a decoded call as the fake server sees it.
type call struct {
	Method     string                     `json:"method"`
	Parameters map[string]json.RawMessage `json:"parameters"`
	More       bool                       `json:"more"`
	fds        []*os.File
}

func readCall(w *wire) (*call, error) {
	m, err := w.receive()
	if err != nil {
		return nil, err
	}
	var c call
	if err := json.Unmarshal(m.data, &c); err != nil {
		return nil, err
	}
	c.fds = m.fds
	return &c, nil
}

func writeReply(t *testing.T, w *wire, v interface{}, files ...*os.File) {
	data, err := json.Marshal(v)
	if err != nil {
		t.Error(err)
		return
	}
	if err := w.send(append(data, 0), files); err != nil {
		t.Logf("fake server: send: %v", err)
	}
}

func tempFile(t *testing.T, content string) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return f
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialT(t *testing.T, s *fakeServer) *Client {
	c, err := Dial(ctxT(t), s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGetBtfPassesObjectsAndReturnsTheBtfFile(t *testing.T) {
	btfFile := tempFile(t, "\x9f\xeb BTF bytes")
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		c, err := readCall(w)
		if err != nil {
			t.Error(err)
			return
		}
		defer closeFiles(c.fds)
		if c.Method != "io.btfd.GetBtf" || string(c.Parameters["objects"]) != "[0,1]" ||
			string(c.Parameters["kernel"]) != `{"release":"5.4.0-26-generic"}` || string(c.Parameters["refresh"]) != "true" {
			t.Errorf("call: %s %v", c.Method, c.Parameters)
		}
		// The objects' base names, for btfctl list.
		var names []string
		if err := json.Unmarshal(c.Parameters["names"], &names); err != nil || len(names) != 2 ||
			!strings.HasPrefix(names[0], "obj") || strings.Contains(names[0], "/") || names[0] == names[1] {
			t.Errorf("names: %s (%v)", c.Parameters["names"], err)
		}
		if len(c.fds) != 2 {
			t.Errorf("%d descriptors came with the call, want 2", len(c.fds))
			return
		}
		for i, want := range []string{"object one", "object two"} {
			got, _ := io.ReadAll(io.NewSectionReader(c.fds[i], 0, 1<<20))
			if string(got) != want {
				t.Errorf("object %d: %q, want %q", i, got, want)
			}
		}
		writeReply(t, w, map[string]interface{}{"parameters": map[string]interface{}{
			"fd": 0, "path": "/var/cache/btfd/x", "sha256": "ab", "size": 14, "source": "hub",
			"cached": true, "exact": true, "minimized": true,
			"kernel": map[string]string{"distro": "ubuntu", "release": "5.4.0-26-generic"},
			"relocations": map[string]interface{}{"strings": []string{"object one", "kprobe/x", "byte_off", "[2] struct s.f", "[7] struct s.f"},
				"relocations": [][]int{{0, 1, 0, 3, 2, 3, -1, 2, 0}, {0, 1, 1, 5, 2, 3, 4, 2, 1}}},
		}}, btfFile)
	})
	c := dialT(t, s)
	o1, o2 := tempFile(t, "object one"), tempFile(t, "object two")
	b, err := c.GetBtfWith(ctxT(t), GetBtfOptions{Kernel: &Kernel{Release: "5.4.0-26-generic"},
		Objects: []*os.File{o1, o2}, Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.File.Close()
	got, _ := io.ReadAll(io.NewSectionReader(b.File, 0, 1<<20))
	if string(got) != "\x9f\xeb BTF bytes" || b.SHA256 != "ab" || b.Size != 14 || b.Source != "hub" ||
		!b.Cached || !b.Exact || !b.Minimized || b.Kernel.Distro != "ubuntu" ||
		len(b.Relocations) != 2 || b.Relocations[0].Kind != "byte_off" || b.Relocations[0].Target != "" ||
		b.Relocations[1] != (Relocation{Object: "object one", Section: "kprobe/x", Relo: 1, Insn: 5, Kind: "byte_off",
			Local: "[2] struct s.f", Candidates: 2, Matches: 1, Target: "[7] struct s.f"}) {
		t.Fatalf("reply: %+v, bytes %q", b, got)
	}
	flags, err := fcntl(b.File, syscall.F_GETFD)
	if err != nil || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("the BTF descriptor is not close-on-exec (%d, %v)", flags, err)
	}
}

func fcntl(f *os.File, cmd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), uintptr(cmd), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// A reply delivered a byte at a time, its descriptor with the first byte, and
// two pipelined replies glued in one write, as a stream socket may deliver
// them: the descriptor goes with the second.
func TestRepliesSplitAndGlued(t *testing.T) {
	btfFile := tempFile(t, "btf")
	firstCall := make(chan struct{})
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		c, err := readCall(w)
		if err != nil {
			t.Error(err)
			return
		}
		msg := []byte(`{"parameters":{"fd":0,"sha256":"split","size":3}}` + "\x00")
		rights := syscall.UnixRights(int(btfFile.Fd()))
		if _, _, err := w.uc.WriteMsgUnix(msg[:1], rights, nil); err != nil {
			t.Error(err)
		}
		for i := 1; i < len(msg); i++ {
			w.uc.Write(msg[i : i+1])
			if i%7 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		closeFiles(c.fds)
		// Two calls, then both replies in one write.
		c1, _ := readCall(w)
		close(firstCall)
		c2, _ := readCall(w)
		if c1 == nil || c2 == nil || c1.Method != "io.btfd.Verify" || c2.Method != "io.btfd.GetBtf" {
			t.Errorf("pipelined calls: %+v %+v", c1, c2)
			return
		}
		first := []byte(`{"parameters":{"checked":7}}` + "\x00")
		second := []byte(`{"parameters":{"fd":0,"sha256":"glued"}}` + "\x00")
		if _, _, err := w.uc.WriteMsgUnix(append(first, second...), rights, nil); err != nil {
			t.Error(err)
		}
	})
	c := dialT(t, s)
	b, err := c.GetBtf(ctxT(t), nil)
	if err != nil || b.SHA256 != "split" {
		t.Fatalf("split reply: %+v %v", b, err)
	}
	b.File.Close()
	verified := make(chan error, 1)
	go func() {
		v, err := c.Verify(ctxT(t))
		if err == nil && v.Checked != 7 {
			err = fmt.Errorf("verify: %+v", v)
		}
		verified <- err
	}()
	<-firstCall
	b, err = c.GetBtf(ctxT(t), nil)
	if err != nil || b.SHA256 != "glued" {
		t.Fatalf("second glued reply: %+v %v", b, err)
	}
	b.File.Close()
	if err := <-verified; err != nil {
		t.Fatalf("first glued reply: %v", err)
	}
}

// Calls from several goroutines are in flight together, at most 4 (btfd's
// default per connection), on one connection.
func TestPipelinesUpToFourCalls(t *testing.T) {
	var most int32
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		var unanswered []*call
		for {
			// Read until 4 calls wait (or no more come soon), then answer in order.
			w.uc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			c, err := readCall(w)
			if err == nil {
				unanswered = append(unanswered, c)
				if n := int32(len(unanswered)); n > atomic.LoadInt32(&most) {
					atomic.StoreInt32(&most, n)
				}
				if len(unanswered) < 4 {
					continue
				}
			} else if !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			for _, c := range unanswered {
				var k Kernel
				json.Unmarshal(c.Parameters["kernel"], &k)
				writeReply(t, w, map[string]interface{}{"error": "io.btfd.KernelNotInHub",
					"parameters": map[string]string{"message": k.Release}})
			}
			unanswered = nil
		}
	})
	c := dialT(t, s)
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		go func(i int) {
			want := fmt.Sprintf("r%d", i)
			_, err := c.GetBtf(ctxT(t), &Kernel{Release: want})
			var e *Error
			if !errors.As(err, &e) || e.Message != want {
				errs <- fmt.Errorf("call %s: %v", want, err)
				return
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < 10; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := atomic.LoadInt32(&most); n != 4 {
		t.Errorf("at most %d calls were in flight, want 4", n)
	}
	if n := atomic.LoadInt32(&s.accepts); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestEveryErrorIsTyped(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		for {
			c, err := readCall(w)
			if err != nil {
				return
			}
			var name string
			json.Unmarshal(c.Parameters["kernel"], &struct {
				Release *string `json:"release"`
			}{&name})
			writeReply(t, w, map[string]interface{}{"error": name,
				"parameters": map[string]string{"message": "because", "parameter": "kernel.release"}})
		}
	})
	c := dialT(t, s)
	sentinels := []*Error{ErrKernelNotInHub, ErrHubUnreachable, ErrHubRejected, ErrInvalidObject, ErrObjectsNeeded,
		ErrInvalidKernel, ErrPermissionDenied, ErrTooLarge, ErrBusy, ErrStoreError, ErrInternal, ErrInvalidBundle,
		ErrMethodNotFound, ErrInterfaceNotFound, ErrInvalidParameter}
	if len(sentinels) != len(errorTable) {
		t.Fatalf("%d sentinels for %d table rows", len(sentinels), len(errorTable))
	}
	for i, want := range sentinels {
		_, err := c.GetBtf(ctxT(t), &Kernel{Release: want.Name})
		var e *Error
		if !errors.Is(err, want) || !errors.As(err, &e) {
			t.Fatalf("%s: got %v", want.Name, err)
		}
		if e.Message != "because" || e.Parameter != "kernel.release" || e.Code() != errorTable[i].code ||
			ErrorCode(err) != errorTable[i].code || !strings.Contains(err.Error(), "because") {
			t.Errorf("%s: %+v code %d", want.Name, e, e.Code())
		}
		for _, other := range sentinels {
			if other != want && errors.Is(err, other) {
				t.Errorf("%s matches %s", want.Name, other.Name)
			}
		}
	}
	_, err := c.GetBtf(ctxT(t), &Kernel{Release: "io.btfd.SomethingNew"})
	if ErrorCode(err) != CodeProtocol {
		t.Errorf("unknown error name: %v code %d", err, ErrorCode(err))
	}
	if !ErrBusy.Temporary() || ErrInvalidKernel.Temporary() {
		t.Error("Temporary")
	}
}

func TestDeadlineAndCancellation(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		for {
			c, err := readCall(w)
			if err != nil {
				return
			}
			if c.Method == "io.btfd.Status" { // answered late
				time.Sleep(300 * time.Millisecond)
			}
			writeReply(t, w, map[string]interface{}{"parameters": map[string]interface{}{"status": map[string]string{"version": "x"}, "checked": 1}})
		}
	})
	c := dialT(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Status(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("the deadline took %v", d)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	if _, err := c.Status(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	// The late replies of the abandoned calls are discarded: the next call
	// gets its own, on the same connection.
	v, err := c.Verify(ctxT(t))
	if err != nil || v.Checked != 1 {
		t.Fatalf("after cancel: %+v %v", v, err)
	}
	if n := atomic.LoadInt32(&s.accepts); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	done, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if _, err := c.Verify(done); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the call: %v", err)
	}
	// Close ends a call in progress.
	go func() { time.Sleep(50 * time.Millisecond); c.Close() }()
	if _, err := c.Status(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("closed during a call: %v", err)
	}
}

// btfd refuses a connection over its budget by writing a Busy reply and
// closing: the caller sees Busy, not EPIPE.
func TestBusyOnConnectIsTheAnswer(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		writeReply(t, w, map[string]interface{}{"error": "io.btfd.Busy",
			"parameters": map[string]string{"message": "too many connections"}})
	})
	for _, wait := range []time.Duration{0, 100 * time.Millisecond} {
		before := atomic.LoadInt32(&s.accepts)
		c := dialT(t, s)
		time.Sleep(wait) // with the wait, btfd has closed before the call is written
		_, err := c.GetBtf(ctxT(t), nil, tempFile(t, "obj"))
		if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "too many connections") {
			t.Fatalf("wait %v: %v", wait, err)
		}
		if n := atomic.LoadInt32(&s.accepts) - before; n != 1 {
			t.Errorf("wait %v: %d connections, want 1 (the refusal is the answer)", wait, n)
		}
	}
}

// btfd closes idle connections; the next call uses a new one.
func TestIdleConnectionClosedByBtfdIsReplaced(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		if _, err := readCall(w); err == nil {
			writeReply(t, w, map[string]interface{}{"parameters": map[string]int{"removed_blobs": 2}})
		}
	})
	c := dialT(t, s)
	for i := 0; i < 3; i++ {
		r, err := c.GarbageCollect(ctxT(t))
		if err != nil || r.RemovedBlobs != 2 {
			t.Fatalf("call %d: %+v %v", i, r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPrefetchProgress(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		c, err := readCall(w)
		if err != nil || !c.More || string(c.Parameters["pin"]) != "false" {
			t.Errorf("prefetch call: %+v %v", c, err)
			return
		}
		for _, n := range []int{10, 20} {
			writeReply(t, w, map[string]interface{}{"continues": true,
				"parameters": map[string]interface{}{"state": "progress", "downloaded": n, "total": 20}})
		}
		writeReply(t, w, map[string]interface{}{"parameters": map[string]interface{}{"state": "done",
			"result": map[string]string{"outcome": "fetched"}}})
	})
	c := dialT(t, s)
	var seen []uint64
	r, err := c.Prefetch(ctxT(t), &Kernel{Release: "5.4.0-26-generic"}, false, func(p PrefetchProgress) {
		seen = append(seen, p.Downloaded)
	})
	if err != nil || r.State != "done" || r.Result["outcome"] != "fetched" || len(seen) != 2 || seen[1] != 20 {
		t.Fatalf("prefetch: %+v %v %v", r, seen, err)
	}
}

func TestProtocolViolations(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		c, err := readCall(w)
		if err != nil {
			return
		}
		switch c.Method {
		case "io.btfd.GetBtf": // a reply without its descriptor
			writeReply(t, w, map[string]interface{}{"parameters": map[string]int{"fd": 0}})
		default:
			w.uc.Write([]byte("not json\x00"))
		}
	})
	c := dialT(t, s)
	if _, err := c.GetBtf(ctxT(t), nil); !errors.Is(err, ErrProtocol) || ErrorCode(err) != CodeProtocol {
		t.Errorf("missing fd: %v", err)
	}
	if _, err := c.Stats(ctxT(t), false); !errors.Is(err, ErrProtocol) {
		t.Errorf("garbage: %v", err)
	}
	big := &Kernel{Release: strings.Repeat("x", maxCallSize)}
	if _, err := c.GetBtf(ctxT(t), big); ErrorCode(err) != CodeTooLarge {
		t.Errorf("a call over 64 KiB: %v", err)
	}
	obj := tempFile(t, "obj")
	many := make([]*os.File, maxFdsPerMessage+1)
	for i := range many {
		many[i] = obj
	}
	if _, err := c.GetBtf(ctxT(t), nil, many...); ErrorCode(err) != CodeTooLarge {
		t.Errorf("17 objects: %v", err)
	}
}

func TestUnreachableAndSocketPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.sock")
	_, err := Dial(ctxT(t), missing)
	if !errors.Is(err, ErrUnreachable) || ErrorCode(err) != CodeUnreachable {
		t.Fatalf("dial: %v", err)
	}
	t.Setenv("BTFD_SOCKET", "")
	if SocketPath() != DefaultSocket {
		t.Error("default socket")
	}
	t.Setenv("BTFD_SOCKET", missing)
	if SocketPath() != missing {
		t.Error("$BTFD_SOCKET")
	}
	if _, err := Dial(ctxT(t), ""); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), missing) {
		t.Errorf("dial via $BTFD_SOCKET: %v", err)
	}
	c := &Client{path: missing, closed: true, slots: make(chan struct{}, 1)}
	if _, err := c.Status(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}

func TestInfoAndInterfaceDescription(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		for {
			c, err := readCall(w)
			if err != nil {
				return
			}
			switch c.Method {
			case "org.varlink.service.GetInfo":
				writeReply(t, w, map[string]interface{}{"parameters": map[string]interface{}{"vendor": "btfd", "interfaces": []string{"io.btfd"}}})
			case "org.varlink.service.GetInterfaceDescription":
				if string(c.Parameters["interface"]) != `"io.btfd"` {
					writeReply(t, w, map[string]interface{}{"error": "org.varlink.service.InterfaceNotFound", "parameters": map[string]string{}})
					continue
				}
				writeReply(t, w, map[string]interface{}{"parameters": map[string]string{"description": "interface io.btfd"}})
			}
		}
	})
	c := dialT(t, s)
	i, err := c.GetInfo(ctxT(t))
	if err != nil || i.Vendor != "btfd" || len(i.Interfaces) != 1 {
		t.Fatalf("info: %+v %v", i, err)
	}
	d, err := c.GetInterfaceDescription(ctxT(t), "io.btfd")
	if err != nil || d != "interface io.btfd" {
		t.Fatalf("description: %q %v", d, err)
	}
	if _, err := c.GetInterfaceDescription(ctxT(t), "x.y"); !errors.Is(err, ErrInterfaceNotFound) {
		t.Fatalf("unknown interface: %v", err)
	}
}

func osPipe() (*os.File, *os.File, error) { return os.Pipe() }

// Goroutines sharing one Client each get the reply to their own call.
func TestConcurrentCallsOnOneClient(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		for {
			c, err := readCall(w)
			if err != nil {
				return
			}
			var k Kernel
			json.Unmarshal(c.Parameters["kernel"], &k)
			btf := tempFile(t, k.Release)
			writeReply(t, w, map[string]interface{}{"parameters": map[string]interface{}{"fd": 0, "sha256": k.Release}}, btf)
			btf.Close()
			closeFiles(c.fds)
		}
	})
	c := dialT(t, s)
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; i < 25; i++ {
				want := fmt.Sprintf("g%d-%d", g, i)
				b, err := c.GetBtf(ctxT(t), &Kernel{Release: want})
				if err != nil {
					errs <- err
					return
				}
				got, _ := io.ReadAll(io.NewSectionReader(b.File, 0, 64))
				b.File.Close()
				if b.SHA256 != want || string(got) != want {
					errs <- fmt.Errorf("asked %s, got %s (%q)", want, b.SHA256, got)
					return
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A btfd that reads nothing: writes block until the calls' deadlines, and
// every call returns then.
func TestDeadlineWhileWriting(t *testing.T) {
	stop := make(chan struct{})
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		select { // never reads
		case <-stop:
		case <-time.After(5 * time.Second):
		}
	})
	defer close(stop)
	c := dialT(t, s)
	big := &Kernel{Release: strings.Repeat("x", maxCallSize-200)}
	errs := make(chan error, 8)
	start := time.Now()
	for i := 0; i < 8; i++ {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := c.GetBtf(ctx, big)
			errs <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the calls took %v", d)
	}
}

// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// DefaultSocket is where btfd.socket listens under systemd.
const DefaultSocket = "/run/btfd/btfd.sock"

// SocketPath is the socket Dial uses for an empty path, as libbtfd chooses it:
// $BTFD_SOCKET when set and not empty, else DefaultSocket.
func SocketPath() string {
	if p := os.Getenv("BTFD_SOCKET"); p != "" {
		return p
	}
	return DefaultSocket
}

// Client is a connection to btfd. It is safe for concurrent use; calls on one
// Client are made one at a time (open several Clients to have calls served in
// parallel). A connection that btfd closed (it closes idle ones after a minute)
// or that a cancelled call left mid-reply is replaced by a new one on the next
// call.
type Client struct {
	path string

	mu     sync.Mutex
	w      *wire // nil when there is no live connection
	used   bool  // w has completed a call: a failure before any reply may be a stale connection
	closed bool
}

// Dial connects to btfd at path ("" means SocketPath()). Failing to connect is
// an error wrapping ErrUnreachable.
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = SocketPath()
	}
	c := &Client{path: path}
	w, err := dial(ctx, path)
	if err != nil {
		return nil, err
	}
	c.w = w
	return c, nil
}

func dial(ctx context.Context, path string) (*wire, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, path, err)
	}
	return &wire{uc: nc.(*net.UnixConn)}, nil
}

// Close closes the connection. It waits for a call in progress to end (cancel
// that call's context to end it sooner); calls after Close return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.w != nil {
		c.w.close()
		c.w = nil
	}
	return nil
}

// reply is one decoded reply.
type reply struct {
	Error      string          `json:"error"`
	Parameters json.RawMessage `json:"parameters"`
	Continues  bool            `json:"continues"`
	fds        []*os.File
	refused    bool // btfd answered before reading the call, and closed
}

// errorParams are the parameters of an error reply.
type errorParams struct {
	Message   string `json:"message"`
	Parameter string `json:"parameter"`
}

func (r *reply) err() error {
	if r.Error == "" {
		return nil
	}
	var p errorParams
	_ = json.Unmarshal(r.Parameters, &p) // an error without parameters is still that error
	return &Error{Name: r.Error, Message: p.Message, Parameter: p.Parameter}
}

// call sends one call and returns its last reply; with more, each reply that
// has "continues" is given to progress first. Descriptors of the final reply
// belong to the caller; those of error and progress replies are closed.
func (c *Client) call(ctx context.Context, method string, params interface{}, files []*os.File,
	more bool, progress func(json.RawMessage)) (*reply, error) {
	msg := map[string]interface{}{"method": method}
	if params != nil {
		msg["parameters"] = params
	} else {
		msg["parameters"] = struct{}{}
	}
	if more {
		msg["more"] = true
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	data = append(data, 0)
	if len(data) > maxCallSize || len(files) > maxFdsPerMessage {
		return nil, fmt.Errorf("btfd: %s: %w (%d bytes, %d descriptors)", method, errCallTooLarge, len(data), len(files))
	}
	for _, f := range files {
		if f == nil {
			return nil, errors.New("btfd: nil object file")
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		if c.w == nil {
			w, err := dial(ctx, c.path)
			if err != nil {
				return nil, err
			}
			c.w, c.used = w, false
		}
		stale := c.used
		r, gotReply, err := c.roundTrip(ctx, data, files, more, progress)
		if err == nil {
			c.used = true
			if r.refused {
				c.w.close()
				c.w = nil
			}
			return r, r.err()
		}
		c.w.close()
		c.w = nil
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// btfd closes idle connections: a reused one that died before any
		// reply byte is retried once on a new connection.
		if stale && !gotReply && attempt == 0 && isDisconnect(err) {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, context.DeadlineExceeded
		}
		return nil, fmt.Errorf("btfd: %s: %w", method, err)
	}
}

func isDisconnect(err error) bool {
	return errors.Is(err, errEOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// roundTrip runs one call on c.w under ctx. gotReply tells whether any reply
// arrived (then retrying is not safe).
func (c *Client) roundTrip(ctx context.Context, data []byte, files []*os.File, more bool,
	progress func(json.RawMessage)) (r *reply, gotReply bool, err error) {
	w := c.w
	deadline, _ := ctx.Deadline()
	if err := w.uc.SetDeadline(deadline); err != nil {
		return nil, false, err
	}
	// Cancellation: a deadline in the past wakes the blocked read or write.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			w.uc.SetDeadline(time.Unix(1, 0))
		case <-stop:
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()

	if err := w.send(data, files); err != nil {
		if errors.Is(err, errCallTooLarge) {
			return nil, false, err
		}
		// btfd refuses a connection over a budget by writing a Busy reply and
		// closing it: that reply, when there is one, is the answer.
		if m, rerr := w.receive(); rerr == nil {
			if r, derr := decode(m); derr == nil && r.Error != "" {
				closeFiles(r.fds)
				r.fds, r.refused = nil, true
				return r, true, nil
			}
			closeFiles(m.fds)
		}
		return nil, false, err
	}
	for {
		m, err := w.receive()
		if err != nil {
			return nil, gotReply, err
		}
		gotReply = true
		r, err := decode(m)
		if err != nil {
			return nil, true, err
		}
		if r.Continues && more && r.Error == "" {
			closeFiles(r.fds)
			if progress != nil {
				progress(r.Parameters)
			}
			continue
		}
		if r.Error != "" {
			closeFiles(r.fds)
			r.fds = nil
		}
		return r, true, nil
	}
}

func decode(m message) (*reply, error) {
	var r reply
	if err := json.Unmarshal(m.data, &r); err != nil {
		closeFiles(m.fds)
		return nil, fmt.Errorf("%w: reply is not JSON: %v", ErrProtocol, err)
	}
	r.fds = m.fds
	return &r, nil
}

// unmarshal decodes parameters; numbers in untyped fields (the objects of
// Status, Stats, ListKernels, Prefetch) become json.Number, so sizes and
// counters keep every digit.
func unmarshal(data []byte, v interface{}) error {
	if len(data) == 0 {
		data = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// Call makes any call of btfd's interface and decodes the last reply's
// parameters into result (when not nil). Descriptors in params must be
// passed as files, named by their index in files. Descriptors of the reply
// are returned; the caller owns them. It is the escape hatch for methods a
// later btfd adds; the typed methods of Client are built on it.
func (c *Client) Call(ctx context.Context, method string, params interface{}, files []*os.File,
	result interface{}) ([]*os.File, error) {
	r, err := c.call(ctx, method, params, files, false, nil)
	if err != nil {
		return nil, err
	}
	if result != nil {
		if err := unmarshal(r.Parameters, result); err != nil {
			closeFiles(r.fds)
			return nil, fmt.Errorf("%w: %s reply: %v", ErrProtocol, method, err)
		}
	}
	return r.fds, nil
}

// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// maxInFlight is btfd's default MaxInFlightPerConnection: more pipelined
// calls than this would be answered with Busy.
const maxInFlight = 4

// Client is a connection to btfd. It is safe for concurrent use: calls made
// from several goroutines are pipelined on the connection (up to 4 in
// flight, btfd's default per connection) and btfd answers them in call
// order. A cancelled call leaves the connection usable (its reply is
// discarded when it comes); a connection btfd closed (it closes idle ones
// after a minute) is replaced by a new one on the next call.
type Client struct {
	path  string
	slots chan struct{} // one per call in flight

	mu     sync.Mutex
	conn   *conn // nil when there is no live connection
	closed bool
}

// Dial connects to btfd at path ("" means SocketPath()). Failing to connect is
// an error wrapping ErrUnreachable.
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = SocketPath()
	}
	c := &Client{path: path, slots: make(chan struct{}, maxInFlight)}
	w, err := dial(ctx, path)
	if err != nil {
		return nil, err
	}
	c.conn = newConn(w)
	return c, nil
}

// ctxErr is ctx.Err(), or DeadlineExceeded as soon as the deadline has
// passed (a socket deadline may fire before the context's timer).
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func dial(ctx context.Context, path string) (*wire, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, path, err)
	}
	return &wire{uc: nc.(*net.UnixConn)}, nil
}

// Close closes the connection; calls in progress return an error, calls
// after Close return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	cc := c.conn
	c.conn = nil
	c.mu.Unlock()
	if cc != nil {
		cc.shutdown(ErrClosed)
	}
	return nil
}

// liveConn returns the connection, dialing a new one when there is none or
// the last one died.
func (c *Client) liveConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.conn != nil && !c.conn.isDead() {
		return c.conn, nil
	}
	w, err := dial(ctx, c.path)
	if err != nil {
		return nil, err
	}
	c.conn = newConn(w)
	return c.conn, nil
}

// reply is one decoded reply.
type reply struct {
	Error      string          `json:"error"`
	Parameters json.RawMessage `json:"parameters"`
	Continues  bool            `json:"continues"`
	fds        []*os.File
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for attempt := 0; ; attempt++ {
		cc, err := c.liveConn(ctx)
		if err != nil {
			return nil, err
		}
		p, reused, err := cc.send(ctx, data, files, more)
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		if err != nil { // the connection died since liveConn: take a new one
			if attempt < 2 {
				continue
			}
			return nil, fmt.Errorf("btfd: %s: %w", method, err)
		}
		r, gotReply, err := p.wait(ctx, progress)
		if err == nil {
			return r, r.err()
		}
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		// btfd closes idle connections: a call on a reused one that died
		// before any reply is retried once on a new connection.
		if reused && !gotReply && attempt == 0 && isDisconnect(err) {
			continue
		}
		// Another call's write was cut short and took the connection down.
		if errors.Is(err, errAborted) && !gotReply && attempt < 2 {
			continue
		}
		return nil, fmt.Errorf("btfd: %s: %w", method, err)
	}
}

// errAborted ends the calls queued on a connection that another call's
// interrupted write left unusable.
var errAborted = errors.New("connection aborted by another call's interrupted write")

func isDisconnect(err error) bool {
	return errors.Is(err, errEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET)
}

// pending is a call sent and not yet answered in full.
type pending struct {
	more   bool
	ch     chan *reply   // its replies, progress ones first, from the reader
	gone   chan struct{} // closed when the caller stopped waiting
	failed chan struct{} // closed, with err set, when the connection ended first
	once   sync.Once
	err    error
	early  *reply // the answer, known before the call was written
}

func newPending(more bool) *pending {
	return &pending{more: more, ch: make(chan *reply), gone: make(chan struct{}), failed: make(chan struct{})}
}

// fail ends the call with err; it never blocks.
func (p *pending) fail(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.failed)
	})
}

// wait returns the call's final reply; progress replies go to progress.
func (p *pending) wait(ctx context.Context, progress func(json.RawMessage)) (*reply, bool, error) {
	if p.early != nil {
		return p.early, true, nil
	}
	gotReply := false
	for {
		select {
		case r := <-p.ch:
			gotReply = true
			if r.Continues && p.more && r.Error == "" {
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
		case <-p.failed:
			return nil, gotReply, p.err
		case <-ctx.Done():
			close(p.gone) // its reply, when it comes, is discarded
			return nil, gotReply, ctx.Err()
		}
	}
}

// conn is one connection with calls pipelined on it: sends are serialized
// and queued in order, and one reader goroutine hands each reply to the
// oldest call (btfd answers in call order).
type conn struct {
	w     *wire
	wlock chan struct{} // held by the one call writing: queue order is wire order

	qmu     sync.Mutex
	queue   []*pending
	replies int    // final replies received
	dead    error  // why the connection ended, nil while it lives
	refusal *reply // an error btfd sent before any call (a refused connection)
}

func newConn(w *wire) *conn {
	cc := &conn{w: w, wlock: make(chan struct{}, 1)}
	go cc.read()
	return cc
}

// isDead tells whether the connection can take no more calls. One that btfd
// refused still takes one: it gets the refusal.
func (cc *conn) isDead() bool {
	cc.qmu.Lock()
	defer cc.qmu.Unlock()
	return cc.dead != nil && cc.refusal == nil
}

// send queues a call and writes it. reused tells whether the connection had
// answered calls before (a failure may then be a connection btfd closed).
func (cc *conn) send(ctx context.Context, data []byte, files []*os.File, more bool) (p *pending, reused bool, err error) {
	select {
	case cc.wlock <- struct{}{}:
		defer func() { <-cc.wlock }()
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p = newPending(more)
	cc.qmu.Lock()
	if r := cc.refusal; r != nil {
		// btfd answered this connection before any call (Busy, then closed):
		// that is the answer, not the EPIPE writing the call would give.
		cc.refusal = nil
		cc.qmu.Unlock()
		p.early = r
		return p, false, nil
	}
	if cc.dead != nil {
		err = cc.dead
		cc.qmu.Unlock()
		return nil, false, err
	}
	reused = cc.replies > 0
	cc.queue = append(cc.queue, p)
	cc.qmu.Unlock()

	deadline, _ := ctx.Deadline()
	cc.w.uc.SetWriteDeadline(deadline)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // cancellation: a deadline in the past wakes a blocked write
		defer wg.Done()
		select {
		case <-ctx.Done():
			cc.w.uc.SetWriteDeadline(time.Unix(1, 0))
		case <-stop:
		}
	}()
	werr := cc.w.send(data, files)
	close(stop)
	wg.Wait()
	if werr != nil {
		if isDisconnect(werr) {
			// btfd closed the connection; it may have written why first (a
			// Busy reply refusing the connection): the reader hands that
			// reply, or the end of the connection, to the queued calls.
			cc.w.uc.CloseWrite()
			cc.qmu.Lock()
			if cc.dead == nil {
				cc.dead = werr
			}
			cc.qmu.Unlock()
			return p, reused, nil
		}
		// A write cut short leaves the stream unusable: the calls queued
		// with it are retried on a new connection, this one fails.
		p.fail(werr)
		cc.shutdown(errAborted)
		return p, reused, nil
	}
	return p, reused, nil
}

// read hands each reply to the oldest pending call until the connection ends.
func (cc *conn) read() {
	defer cc.w.close() // the descriptors of replies never completed
	for {
		m, err := cc.w.receive()
		if err != nil {
			cc.shutdown(err)
			return
		}
		r, err := decode(m)
		if err != nil {
			cc.shutdown(err)
			return
		}
		cc.qmu.Lock()
		if len(cc.queue) == 0 {
			if r.Error != "" && cc.replies == 0 && cc.refusal == nil {
				closeFiles(r.fds)
				r.fds = nil
				cc.refusal = r
				cc.qmu.Unlock()
				continue // btfd closes next
			}
			cc.qmu.Unlock()
			closeFiles(r.fds)
			cc.shutdown(fmt.Errorf("%w: a reply to no call", ErrProtocol))
			return
		}
		p := cc.queue[0]
		if !(r.Continues && p.more && r.Error == "") {
			cc.queue = cc.queue[1:]
			cc.replies++
		}
		cc.qmu.Unlock()
		select {
		case p.ch <- r:
		case <-p.gone:
			closeFiles(r.fds)
		}
	}
}

// shutdown ends the connection: every queued call gets err.
func (cc *conn) shutdown(err error) {
	cc.qmu.Lock()
	if cc.dead == nil {
		cc.dead = err
	}
	queue := cc.queue
	cc.queue = nil
	cc.qmu.Unlock()
	cc.w.uc.Close()
	for _, p := range queue {
		p.fail(err)
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

// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
)

// Limits of the wire (docs/protocol.md, "Limits").
const (
	maxCallSize      = 64 << 10 // btfd answers TooLarge and closes past this
	maxReplySize     = 16 << 20 // btfd queues at most 8 MiB per connection
	maxFdsPerMessage = 16
	readChunk        = 64 << 10
)

var errCallTooLarge = errors.New("call exceeds btfd's limits (64 KiB, 16 descriptors per message)")

// message is one NUL-terminated JSON message and the descriptors that came
// with it.
type message struct {
	data []byte
	fds  []*os.File
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// wire is one connection: it frames messages and passes descriptors as
// SCM_RIGHTS, following docs/protocol.md.
type wire struct {
	uc         *net.UnixConn
	partial    []byte     // bytes of the message being received
	partialFds []*os.File // descriptors that came with it
	ready      []message  // complete messages not yet consumed
}

func (w *wire) close() {
	closeFiles(w.partialFds)
	for _, m := range w.ready {
		closeFiles(m.fds)
	}
	w.partial, w.partialFds, w.ready = nil, nil, nil
	w.uc.Close()
}

// send writes one call. Its descriptors go in the same sendmsg as its first
// byte and that sendmsg carries no other call ("Descriptors belong to the call
// they came with"); what the kernel did not take is written after, without
// descriptors.
func (w *wire) send(data []byte, files []*os.File) error {
	if len(data) == 0 || data[len(data)-1] != 0 {
		return fmt.Errorf("%w: message not NUL-terminated", ErrProtocol)
	}
	if len(data) > maxCallSize {
		return errCallTooLarge
	}
	if len(files) > maxFdsPerMessage {
		return errCallTooLarge
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			// Not f.Fd(): it would put a caller's pipe in blocking mode.
			rc, err := f.SyscallConn()
			if err != nil {
				return fmt.Errorf("btfd: object %d: %w", i, err)
			}
			if err := rc.Control(func(fd uintptr) { fds[i] = int(fd) }); err != nil {
				return fmt.Errorf("btfd: object %d: %w", i, err)
			}
		}
		oob = syscall.UnixRights(fds...)
	}
	n, _, err := w.uc.WriteMsgUnix(data, oob, nil)
	runtime.KeepAlive(files) // the descriptors stay open until sendmsg took them
	if err != nil {
		return err
	}
	if n < len(data) {
		_, err = w.uc.Write(data[n:])
	}
	return err
}

// receive returns the next complete message.
func (w *wire) receive() (message, error) {
	buf := make([]byte, readChunk)
	oob := make([]byte, syscall.CmsgSpace(4*maxFdsPerMessage))
	for len(w.ready) == 0 {
		n, oobn, flags, _, err := w.uc.ReadMsgUnix(buf, oob)
		files, ferr := parseRights(oob[:oobn])
		if ferr == nil && flags&syscall.MSG_CTRUNC != 0 {
			ferr = fmt.Errorf("%w: descriptors truncated", ErrProtocol)
		}
		if ferr != nil {
			closeFiles(files)
			return message{}, ferr
		}
		if n == 0 && (err == nil || errors.Is(err, io.EOF)) {
			closeFiles(files)
			return message{}, errEOF
		}
		if n > 0 {
			if perr := w.absorb(buf[:n], files); perr != nil {
				return message{}, perr
			}
		} else {
			closeFiles(files)
		}
		if err != nil && len(w.ready) == 0 {
			return message{}, err
		}
	}
	m := w.ready[0]
	w.ready = w.ready[1:]
	return m, nil
}

// absorb splits one read's bytes into messages. The read's descriptors go to
// the last message that starts in these bytes or, when none starts here, to
// the message in progress: the rule btfd applies to calls, applied to replies.
func (w *wire) absorb(data []byte, files []*os.File) error {
	lastStart := -1
	if len(w.partial) == 0 {
		lastStart = 0
	}
	for i := 0; i < len(data)-1; i++ {
		if data[i] == 0 {
			lastStart = i + 1
		}
	}
	attach := func(target *[]*os.File) error {
		if len(files) == 0 {
			return nil
		}
		if len(*target) > 0 {
			closeFiles(files)
			return fmt.Errorf("%w: a second batch of descriptors for one reply", ErrProtocol)
		}
		*target, files = files, nil
		return nil
	}
	if lastStart < 0 {
		if err := attach(&w.partialFds); err != nil {
			return err
		}
	}
	off := 0
	for off < len(data) {
		if off == lastStart {
			if err := attach(&w.partialFds); err != nil {
				return err
			}
		}
		end := bytes.IndexByte(data[off:], 0)
		if end < 0 {
			w.partial = append(w.partial, data[off:]...)
			break
		}
		w.partial = append(w.partial, data[off:off+end]...)
		w.ready = append(w.ready, message{data: w.partial, fds: w.partialFds})
		w.partial, w.partialFds = nil, nil
		off += end + 1
	}
	if len(w.partial) > maxReplySize {
		return fmt.Errorf("%w: a reply larger than %d bytes", ErrProtocol, maxReplySize)
	}
	return nil
}

var errEOF = errors.New("btfd closed the connection")

// parseRights turns SCM_RIGHTS control messages into files (O_CLOEXEC: the
// net package receives with MSG_CMSG_CLOEXEC).
func parseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("%w: control message: %v", ErrProtocol, err)
	}
	var files []*os.File
	var bad error
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_RIGHTS {
			continue
		}
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			bad = fmt.Errorf("%w: descriptors: %v", ErrProtocol, err)
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "btfd-fd"))
		}
	}
	return files, bad
}

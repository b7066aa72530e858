// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"errors"
	"os"
	"testing"
)

// The descriptor rule on replies: a read's descriptors belong to the last
// message starting in its bytes, else to the message in progress; a second
// batch for one message is a protocol error.
func TestAbsorbAssignsDescriptorsByTheProtocolRule(t *testing.T) {
	f := func() []*os.File {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		return []*os.File{r}
	}
	var w wire
	steps := []struct {
		data string
		fds  bool
	}{
		{`{"a":1}`, false},                    // message 1 starts, no fds
		{"\x00{\"b\"", true},                  // ends 1, starts 2 with fds: 2 gets them
		{":2}\x00{\"c\":3}\x00{\"d\"", false}, // ends 2, 3 whole, 4 starts
		{":4}", true},                         // nothing starts: 4 (in progress) gets them
		{"\x00", false},
	}
	for _, s := range steps {
		var files []*os.File
		if s.fds {
			files = f()
		}
		if err := w.absorb([]byte(s.data), files); err != nil {
			t.Fatal(err)
		}
	}
	want := []struct {
		data string
		fds  int
	}{{`{"a":1}`, 0}, {`{"b":2}`, 1}, {`{"c":3}`, 0}, {`{"d":4}`, 1}}
	if len(w.ready) != len(want) {
		t.Fatalf("%d messages, want %d", len(w.ready), len(want))
	}
	for i, m := range w.ready {
		if string(m.data) != want[i].data || len(m.fds) != want[i].fds {
			t.Errorf("message %d: %q with %d fds, want %q with %d", i, m.data, len(m.fds), want[i].data, want[i].fds)
		}
		closeFiles(m.fds)
	}

	var w2 wire
	if err := w2.absorb([]byte(`{"x"`), f()); err != nil {
		t.Fatal(err)
	}
	if err := w2.absorb([]byte(`:1}`), f()); !errors.Is(err, ErrProtocol) {
		t.Errorf("a second batch for one message: %v", err)
	}
	closeFiles(w2.partialFds)
}

// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Agents vendor this package without cgo and without new dependencies: it
// imports the standard library only (tests included).
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "C" {
				t.Errorf("%s uses cgo", name)
			}
			first := strings.SplitN(path, "/", 2)[0]
			if strings.Contains(first, ".") && path != "github.com/btfd/btfd/clients/go/btfd" {
				t.Errorf("%s imports %s, which is not the standard library", name, path)
			}
		}
	}
}

// A pipe passed as an object keeps its mode: sending it does not make it blocking.
func TestSendingAPipeLeavesItNonBlocking(t *testing.T) {
	s := newFakeServer(t, func(t *testing.T, w *wire) {
		c, err := readCall(w)
		if err != nil {
			return
		}
		closeFiles(c.fds)
		writeReply(t, w, map[string]interface{}{"error": "io.btfd.InvalidObject", "parameters": map[string]string{}})
	})
	c := dialT(t, s)
	r, w, err := osPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before, _ := fcntl(r, 3 /* F_GETFL */)
	c.GetBtf(ctxT(t), nil, r)
	after, _ := fcntl(r, 3)
	if before != after {
		t.Errorf("file status flags %#x became %#x", before, after)
	}
}

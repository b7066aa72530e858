// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// The error table is common/proto/errors.cpp's, with libbtfd.h's codes:
// this test reads both from the source tree, so that a new or renumbered
// error fails here until the Go client has it.
func TestErrorTableMatchesTheCTable(t *testing.T) {
	root := os.Getenv("BTFD_SOURCE_ROOT")
	if root == "" {
		root = filepath.Join("..", "..", "..") // clients/go/btfd in a checkout
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			if os.Getenv("BTFD_SOURCE_ROOT") == "" {
				t.Skipf("not in a btfd checkout: %v", err)
			}
			t.Fatal(err)
		}
		return string(b)
	}
	names := map[string]string{} // kKernelNotInHub -> io.btfd.KernelNotInHub
	for _, m := range regexp.MustCompile(`(k\w+) = "([\w.]+)"`).FindAllStringSubmatch(read("common/proto/errors.hpp"), -1) {
		names[m[1]] = m[2]
	}
	codes := map[string]int{} // BTFD_ERR_NOT_IN_HUB -> -1001
	// Enum members ("BTFD_ERR_X = -1001") and later additions ("#define BTFD_ERR_X (-1020)").
	for _, m := range regexp.MustCompile(`(BTFD_ERR_\w+)(?: = |\s+\()(-\d+)`).FindAllStringSubmatch(read("libclient/include/btfd/libbtfd.h"), -1) {
		codes[m[1]], _ = strconv.Atoi(m[2])
	}
	rows := regexp.MustCompile(`ErrorInfo\{errors::(k\w+), Errc::\w+, (BTFD_ERR_\w+),`).FindAllStringSubmatch(read("common/proto/errors.cpp"), -1)
	if len(rows) == 0 || len(rows) != len(errorTable) {
		t.Fatalf("errors.cpp has %d rows, the Go table %d", len(rows), len(errorTable))
	}
	for _, r := range rows {
		name, code := names[r[1]], codes[r[2]]
		if name == "" || code == 0 {
			t.Fatalf("cannot resolve %s / %s", r[1], r[2])
		}
		if got := (&Error{Name: name}).Code(); got != code {
			t.Errorf("%s: Go code %d, libbtfd %d (%s)", name, got, code, r[2])
		}
	}
	if codes["BTFD_ERR_UNREACHABLE"] != CodeUnreachable || codes["BTFD_ERR_PROTOCOL"] != CodeProtocol {
		t.Error("client-side codes differ from libbtfd.h")
	}
}

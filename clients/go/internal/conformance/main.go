// SPDX-License-Identifier: LGPL-2.1-or-later

// Command conformance runs tests/integration/goclient/requests.txt through the
// Go client and prints one line per request: name, code, sha256, size,
// source, exact, minimized and the error's name. The C twin
// (tests/integration/goclient/conformance.c, libbtfd) prints the same first
// seven columns, and the test compares them.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/btfd/btfd/clients/go/btfd"
)

func field(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintf(os.Stderr, "usage: %s TABLE OBJECT NOT-AN-OBJECT\n", os.Args[0])
		os.Exit(2)
	}
	table, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c, err := btfd.Dial(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer c.Close()
	sc := bufio.NewScanner(table)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if len(f) != 7 {
			fmt.Fprintf(os.Stderr, "bad table line: %s\n", line)
			os.Exit(2)
		}
		var kernel *btfd.Kernel
		if k := (btfd.Kernel{Distro: field(f[1]), Version: field(f[2]), Arch: field(f[3]), Release: field(f[4])}); k != (btfd.Kernel{}) {
			kernel = &k
		}
		var objects []*os.File
		switch f[5] {
		case "obj", "notobj":
			path := os.Args[2]
			if f[5] == "notobj" {
				path = os.Args[3]
			}
			o, err := os.Open(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			objects = append(objects, o)
		}
		b, err := c.GetBtf(ctx, kernel, objects...)
		for _, o := range objects {
			o.Close()
		}
		if err != nil {
			name := "-"
			var e *btfd.Error
			if errors.As(err, &e) {
				name = e.Name
			}
			fmt.Printf("%s\t%d\t-\t0\t-\t0\t0\t%s\n", f[0], btfd.ErrorCode(err), name)
			continue
		}
		b.File.Close()
		fmt.Printf("%s\t0\t%s\t%d\t%s\t%d\t%d\t-\n", f[0], b.SHA256, b.Size, b.Source, b2i(b.Exact), b2i(b.Minimized))
	}
}

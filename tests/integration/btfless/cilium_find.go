// SPDX-License-Identifier: GPL-2.0-or-later

// Command cilium-find asks cilium/ebpf for the kernel's BTF as any unmodified
// Go agent does (btf.LoadKernelSpec: /sys/kernel/btf/vmlinux, then its list of
// vmlinux paths) and prints one line: "spec: N types" when it parsed the BTF,
// or "error: ..." with cilium/ebpf's error. cilium/ebpf 0.9.1 names no path in
// its result, so the caller tells "found and parsed", "found but could not
// parse" (e.g. a BTF kind newer than 0.9.1 knows) and "not found" apart by the
// error text.
package main

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf/btf"
)

func main() {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(1)
	}
	n := 0
	iter := spec.Iterate()
	for iter.Next() {
		n++
	}
	fmt.Printf("spec: %d types\n", n)
}

// SPDX-License-Identifier: LGPL-2.1-or-later

// Command agent is a minimal CO-RE agent on cilium/ebpf, the Go twin of
// docs/examples/agent.c: it asks btfd for this kernel's BTF minimized for its
// object, then loads the object with that BTF as the kernel types.
//
//	agent OBJECT.bpf.o    (btfd at $BTFD_SOCKET, else /run/btfd/btfd.sock)
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/btfd/btfd/clients/go/btfdebpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s OBJECT.bpf.o\n", os.Args[0])
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obj, err := os.Open(path)
	if err != nil {
		return err
	}
	defer obj.Close()
	types, err := btfdebpf.KernelTypes(ctx, &btfdebpf.Options{Objects: []*os.File{obj}})
	if err != nil {
		return fmt.Errorf("no BTF for this kernel: %w", err)
	}
	if types != nil {
		fmt.Println("btf: from btfd, minimized for", path)
	} else {
		fmt.Println("btf: the kernel's own")
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return err
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: types},
	})
	if err != nil {
		fmt.Println("load: failed")
		return err
	}
	defer coll.Close()
	fmt.Printf("load: ok (%d programs)\n", len(coll.Programs))
	return nil
}

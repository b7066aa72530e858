// SPDX-License-Identifier: LGPL-2.1-or-later

package btfd_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/btfd/btfd/clients/go/btfd"
)

// An agent asks btfd for this host's BTF, minimized for its object.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := btfd.Dial(ctx, "") // $BTFD_SOCKET, else /run/btfd/btfd.sock
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	obj, err := os.Open("agent.bpf.o")
	if err != nil {
		log.Fatal(err)
	}
	defer obj.Close()
	b, err := c.GetBtf(ctx, nil, obj)
	switch {
	case errors.Is(err, btfd.ErrKernelNotInHub):
		log.Fatal("no BTF exists for this kernel")
	case err != nil:
		log.Fatal(err)
	}
	defer b.File.Close()
	fmt.Printf("%d bytes of BTF (%s, sha256 %s)\n", b.Size, b.Source, b.SHA256)
}

// Errors from btfd compare with errors.Is and carry libbtfd's codes.
func ExampleErrorCode() {
	_, err := btfd.Dial(context.Background(), "/nonexistent/btfd.sock")
	fmt.Println(errors.Is(err, btfd.ErrUnreachable), btfd.ErrorCode(err))
	fmt.Println(btfd.ErrorCode(&btfd.Error{Name: "io.btfd.KernelNotInHub"}))
	// Output:
	// true -1000
	// -1001
}

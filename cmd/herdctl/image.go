package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/internal/cli"
)

func runImage(args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return cli.Exitf(cli.ExitUsage, "usage: herdctl image import [--containerd SOCKET] FILE|- (see herdctl image import --help)")
	}
	fs := cli.NewFlagSet("image import", "herdctl image import [--containerd SOCKET] FILE|-",
		`Load an OCI image archive (docker save, ctr images export, or any OCI
layout tarball; "-" reads standard input) into containerd's herdctl
namespace and unpack it, so agents whose fleet entry names the image
(image = "registry/name:tag") run on hosts that cannot reach a registry.
Images that are not there are otherwise pulled when a job first needs them.
Prints the name of every image imported.`)
	address := fs.String("containerd", containerd.DefaultAddress, "containerd's socket")
	if err := cli.Parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "image import takes one FILE (or - for standard input)")
	}
	var r io.Reader = os.Stdin
	if fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	ctx := context.Background()
	c, err := containerd.Connect(ctx, *address, containerd.DefaultNamespace)
	if err != nil {
		return err
	}
	defer c.Close()
	names, err := c.Import(ctx, r)
	for _, n := range names {
		fmt.Println(n)
	}
	return err
}

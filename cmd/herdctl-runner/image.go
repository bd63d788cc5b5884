package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/herdctl/herdctl/config"
	"github.com/herdctl/herdctl/containerd"
	"github.com/herdctl/herdctl/internal/cli"
	"github.com/herdctl/herdctl/policy"
)

func runImage(args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return cli.Exitf(cli.ExitUsage, "usage: herdctl image import [OPTIONS] FILE|- (see herdctl image import --help)")
	}
	fs := cli.NewFlagSet("image import", "herdctl image import [--config FILE] [--containerd SOCKET] [--namespace NS] FILE|-",
		`Load an OCI image archive (docker save, ctr images export, or any OCI
layout tarball; "-" reads standard input) into containerd and unpack it,
so agents whose fleet entry names the image (image = "registry/name:tag")
run on hosts that cannot reach a registry. Images that are not there are
otherwise pulled when a job first needs them. The socket and namespace are
the fleet file's [containerd] table's (default /run/containerd/containerd.sock
and herdctl) unless given here. Prints the name of every image imported.

Example:
  herdctl image import debian-12.oci.tar`)
	cfg := fs.String("config", config.DefaultFleetFile, "the fleet file whose [containerd] table to use")
	address := fs.String("containerd", "", "containerd's socket (default: the fleet file's, or "+policy.DefaultContainerd+")")
	namespace := fs.String("namespace", "", "containerd namespace (default: the fleet file's, or "+policy.DefaultNamespace+")")
	if err := cli.Parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Exitf(cli.ExitUsage, "image import takes one FILE (or - for standard input)")
	}
	fleet, _ := config.ReadContainerd(*cfg)
	addr := firstOf(*address, fleet.Address, policy.DefaultContainerd)
	ns := firstOf(*namespace, fleet.Namespace, policy.DefaultNamespace)
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
	c, err := containerd.Connect(ctx, addr, ns)
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

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

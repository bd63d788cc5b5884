package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
)

// Labels herdctl puts on every container so reconcile can find them.
const (
	LabelJob   = "dev.herdctl.job"
	LabelAgent = "dev.herdctl.agent"
	LabelUnit  = "dev.herdctl.unit" // the systemd unit running the job
)

// Client is a connection to containerd in herdctl's namespace.
type Client struct {
	c  *containerd.Client
	ns string
}

// Connect dials containerd at address and works in namespace; the fleet's
// [containerd] table gives both (policy.Agent.Containerd).
func Connect(ctx context.Context, address, namespace string) (*Client, error) {
	if address == "" || namespace == "" {
		return nil, fmt.Errorf("containerd address %q or namespace %q is empty", address, namespace)
	}
	if _, err := os.Stat(address); err != nil {
		return nil, fmt.Errorf("containerd socket %s: %w: is containerd running? (systemctl status containerd)", address, err)
	}
	c, err := containerd.New(address, containerd.WithDefaultNamespace(namespace), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connecting to containerd at %s: %w: is containerd running? (systemctl status containerd)", address, err)
	}
	return &Client{c: c, ns: namespace}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

func (c *Client) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, c.ns)
}

// ignoreNotFound makes deleting what is already gone a success.
func ignoreNotFound(err error) error {
	if err == nil || errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, errdefs.ErrNotFound) || errdefs.IsNotFound(err)
}

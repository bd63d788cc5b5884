package containerd

import (
	"context"
	"fmt"
	"io"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/images"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ensureImage returns the image ref of herdctl's namespace, pulling and
// unpacking it first when it is not there. Each step is reported.
func (c *Client) ensureImage(ctx context.Context, ref string, report func(string)) (containerd.Image, error) {
	img, err := c.c.GetImage(ctx, ref)
	if err == nil {
		if ok, uerr := img.IsUnpacked(ctx, ""); uerr == nil && !ok {
			report("unpacking " + ref)
			if err := img.Unpack(ctx, ""); err != nil {
				return nil, fmt.Errorf("unpacking image %s: %w", ref, err)
			}
		}
		return img, nil
	}
	if !IsNotFound(err) {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	report("image " + ref + " is not here: pulling it")
	// A lease keeps what is fetched from the garbage collector until
	// the image holds it; a cancelled pull leaves nothing behind once
	// the lease is gone.
	ctx, done, err := c.c.WithLease(ctx)
	if err != nil {
		return nil, fmt.Errorf("pulling image %s: %w", ref, err)
	}
	defer done(context.WithoutCancel(ctx))
	start := time.Now()
	var total int64
	progress := images.HandlerFunc(func(_ context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		total += desc.Size
		report(fmt.Sprintf("pulling %s: %s %s (%d bytes)", ref, desc.MediaType, shortDigest(desc), desc.Size))
		return nil, nil
	})
	img, err = c.c.Pull(ctx, ref, containerd.WithPullUnpack, containerd.WithImageHandler(progress))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("pulling image %s: stopped with the job: %w", ref, ctx.Err())
		}
		return nil, fmt.Errorf("pulling image %s: %w (import it with herdctl image import FILE if this host cannot reach its registry)", ref, err)
	}
	report(fmt.Sprintf("pulled %s: %d bytes in %s", ref, total, time.Since(start).Round(time.Millisecond)))
	return img, nil
}

// Import loads an OCI image archive (or a docker save archive) into
// herdctl's namespace and unpacks its images for this platform. It
// returns their names.
func (c *Client) Import(ctx context.Context, r io.Reader) ([]string, error) {
	ctx = c.ctx(ctx)
	imgs, err := c.c.Import(ctx, r, containerd.WithImportPlatform(platforms.Default()))
	if err != nil {
		return nil, fmt.Errorf("importing: %w (is it an OCI archive? docker save and ctr images export make one)", err)
	}
	var names []string
	for _, i := range imgs {
		img := containerd.NewImage(c.c, i)
		if err := img.Unpack(ctx, ""); err != nil {
			return names, fmt.Errorf("unpacking %s: %w", i.Name, err)
		}
		names = append(names, i.Name)
	}
	return names, nil
}

func shortDigest(d ocispec.Descriptor) string {
	e := d.Digest.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

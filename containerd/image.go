package containerd

import (
	"context"
	"fmt"
	"io"

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
	progress := images.HandlerFunc(func(_ context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		report(fmt.Sprintf("pulling %s: %s %s (%d bytes)", ref, desc.MediaType, desc.Digest.Encoded()[:12], desc.Size))
		return nil, nil
	})
	img, err = c.c.Pull(ctx, ref, containerd.WithPullUnpack, containerd.WithImageHandler(progress))
	if err != nil {
		return nil, fmt.Errorf("pulling image %s: %w (import it with herdctl image import FILE if this host cannot reach its registry)", ref, err)
	}
	report("pulled " + ref)
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

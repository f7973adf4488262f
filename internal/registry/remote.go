package registry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	dockerconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// certsDir is where the Docker engine looks for a registry's CA (ca.crt)
// and client certificates; asked directly, a registry is trusted the same way.
const certsDir = "/etc/docker/certs.d"

// TagImmutable gives the image that ref names in its registry the
// content-addressed tag of its manifest digest (tagPrefix, then tf-<16 hex>), through the
// registry's API with the credentials a push uses, without the engine: an
// image a command pushed need not be in any engine. It returns the new ref
// and the manifest digest.
func TagImmutable(ctx context.Context, creds *Credentials, ref, tagPrefix string) (string, string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", "", err
	}
	host := reference.Domain(named)
	ctx, resolver := newResolver(ctx, creds)
	_, desc, err := resolver.Resolve(ctx, named.String())
	if err != nil {
		return "", "", remoteError(host, ref, "resolving", err)
	}
	tag, err := imageref.ImmutableTag(desc.Digest.String())
	if err != nil {
		return "", "", err
	}
	tagged, err := reference.WithTag(reference.TrimNamed(named), tagPrefix+tag)
	if err != nil {
		return "", "", err
	}
	if err := copyManifest(ctx, resolver, named.String(), tagged.String(), desc); err != nil {
		return "", "", remoteError(host, tagged.String(), "tagging", err)
	}
	return imageref.Familiar(tagged), desc.Digest.String(), nil
}

// newResolver asks registries directly with creds, trusting them as the
// Docker engine does (certs.d). containerd logs its choices (HTTPS first,
// then HTTP) to stderr, which Terraform would show as the provider's
// output: the returned ctx silences them.
func newResolver(ctx context.Context, creds *Credentials) (context.Context, remotes.Resolver) {
	quiet := logrus.New()
	quiet.Out = io.Discard
	ctx = log.WithLogger(ctx, logrus.NewEntry(quiet))
	return ctx, docker.NewResolver(docker.ResolverOptions{Hosts: dockerconfig.ConfigureHosts(ctx, dockerconfig.HostOptions{
		HostDir:     dockerconfig.HostDirFromRoot(certsDir),
		Credentials: creds.basic,
	})})
}

// copyManifest puts the manifest desc of src under the tag of dst, in the
// same repository (so the registry already has every blob it names).
func copyManifest(ctx context.Context, resolver remotes.Resolver, src, dst string, desc ocispec.Descriptor) error {
	fetcher, err := resolver.Fetcher(ctx, src)
	if err != nil {
		return err
	}
	body, err := fetcher.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer body.Close()
	pusher, err := resolver.Pusher(ctx, dst)
	if err != nil {
		return err
	}
	w, err := pusher.Push(ctx, desc)
	if errors.Is(err, cerrdefs.ErrAlreadyExists) {
		return nil
	}
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := io.Copy(w, body); err != nil {
		return err
	}
	if err := w.Commit(ctx, desc.Size, desc.Digest); err != nil && !errors.Is(err, cerrdefs.ErrAlreadyExists) {
		return err
	}
	return nil
}

// basic is the user name and secret for host, as containerd's authorizer
// asks for them.
func (c *Credentials) basic(host string) (string, string, error) {
	if isDockerHub(normalizeHost(host)) {
		host = "docker.io"
	}
	auth, err := c.For(host)
	if err != nil {
		return "", "", err
	}
	if auth.IdentityToken != "" {
		return "", auth.IdentityToken, nil
	}
	return auth.Username, auth.Password, nil
}

func remoteError(host, ref, doing string, err error) error {
	return fmt.Errorf("%s %s in registry %s: %w; check that the registry is up and reachable from this machine, and the credentials "+
		"for %s (a provider registry_auth block, or `docker login %s`)", doing, ref, host, err, host, host)
}

package registry

import (
	"context"
	"errors"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// ExistsRemote says whether the registry still has ref, asking it directly
// (no engine), with the credentials and certs.d trust a push uses: for
// images that a BuildKit daemon pushed and no engine ever held.
func ExistsRemote(ctx context.Context, creds *Credentials, ref string) (bool, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false, err
	}
	ctx, resolver := newResolver(ctx, creds)
	_, _, err = resolver.Resolve(ctx, named.String())
	if errors.Is(err, cerrdefs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, remoteError(reference.Domain(named), ref, "checking", err)
	}
	return true, nil
}

// Resolve is the digest of the manifest that ref's tag names in its
// registry, asked directly with the credentials a push uses: for a
// multi-platform image the digest of its index, which moves whenever the
// image of any platform moves, and is what `FROM ref@digest` pins. One
// request (HEAD, or GET where a registry refuses HEAD).
func Resolve(ctx context.Context, creds *Credentials, ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	ctx, resolver := newResolver(ctx, creds)
	_, desc, err := resolver.Resolve(ctx, named.String())
	if err != nil {
		return "", remoteError(reference.Domain(named), ref, "resolving", err)
	}
	return desc.Digest.String(), nil
}

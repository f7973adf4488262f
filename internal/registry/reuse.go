package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/core/images"
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

// Building once for many workspaces: a pushed image also gets a tag named by
// its build's inputs (imageref.InputsTag), and a build whose inputs tag the
// registry already has adopts that image instead.

// resolverFor asks registries directly, with the credentials and certs.d
// trust a push uses, and keeps containerd's logging off Terraform's output.
func resolverFor(ctx context.Context, creds *Credentials) (context.Context, remotes.Resolver) {
	quiet := logrus.New()
	quiet.Out = io.Discard
	ctx = log.WithLogger(ctx, logrus.NewEntry(quiet))
	return ctx, docker.NewResolver(docker.ResolverOptions{Hosts: dockerconfig.ConfigureHosts(ctx, dockerconfig.HostOptions{
		HostDir:     dockerconfig.HostDirFromRoot(certsDir),
		Credentials: creds.basic,
	})})
}

// Retag puts the manifest that src names under dst, a ref in the same
// repository, through the registry's API. It returns the manifest digest.
func Retag(ctx context.Context, creds *Credentials, src, dst string) (string, error) {
	from, err := reference.ParseNormalizedNamed(src)
	if err != nil {
		return "", err
	}
	to, err := reference.ParseNormalizedNamed(dst)
	if err != nil {
		return "", err
	}
	if from.Name() != to.Name() {
		return "", fmt.Errorf("cannot tag %s as %s: not the same repository", src, dst)
	}
	ctx, resolver := resolverFor(ctx, creds)
	_, desc, err := resolver.Resolve(ctx, from.String())
	if err != nil {
		return "", remoteError(reference.Domain(from), src, "resolving", err)
	}
	if err := copyManifest(ctx, resolver, from.String(), to.String(), desc); err != nil {
		return "", remoteError(reference.Domain(to), dst, "tagging", err)
	}
	return desc.Digest.String(), nil
}

// Adopted is an image a registry holds under an inputs tag.
type Adopted struct {
	// Ref is its content-tagged ref (status.ref), as the build that pushed
	// it named it; ImageID the ID that tag derives from; Digest the
	// manifest (or index) digest.
	Ref, ImageID, Digest string
}

// FindByInputs looks up inputsRef ("<repo>:<prefix>tf-in-<hex>") and the
// content tag of the same manifest beside it. The content tag derives from
// the image ID of the build that pushed it: the config digest on an engine
// with graph drivers, the manifest (or index) digest on the containerd image
// store, builders and commands that push. The manifest names its config, so
// both candidates are computed from what the registry serves, and the one
// the registry holds for the same digest is the first build's status.ref.
// Not found (false, nil) when either tag is missing: then the image is built.
func FindByInputs(ctx context.Context, creds *Credentials, inputsRef, tagPrefix string) (Adopted, bool, error) {
	named, err := reference.ParseNormalizedNamed(inputsRef)
	if err != nil {
		return Adopted{}, false, err
	}
	host := reference.Domain(named)
	ctx, resolver := resolverFor(ctx, creds)
	_, desc, err := resolver.Resolve(ctx, named.String())
	if errors.Is(err, cerrdefs.ErrNotFound) {
		return Adopted{}, false, nil
	}
	if err != nil {
		return Adopted{}, false, remoteError(host, inputsRef, "resolving", err)
	}
	ids := []string{desc.Digest.String()}
	if images.IsManifestType(desc.MediaType) {
		config, err := manifestConfig(ctx, resolver, named.String(), desc)
		if err != nil {
			return Adopted{}, false, remoteError(host, inputsRef, "reading the manifest of", err)
		}
		ids = append([]string{config}, ids...)
	}
	repo := reference.TrimNamed(named)
	for _, id := range ids {
		tag, err := imageref.ImmutableTag(id)
		if err != nil {
			return Adopted{}, false, err
		}
		content, err := reference.WithTag(repo, tagPrefix+tag)
		if err != nil {
			return Adopted{}, false, err
		}
		_, found, err := resolver.Resolve(ctx, content.String())
		if errors.Is(err, cerrdefs.ErrNotFound) {
			continue
		}
		if err != nil {
			return Adopted{}, false, remoteError(host, content.String(), "resolving", err)
		}
		if found.Digest == desc.Digest {
			return Adopted{Ref: imageref.Familiar(content), ImageID: id, Digest: desc.Digest.String()}, true, nil
		}
	}
	return Adopted{}, false, nil
}

// manifestConfig is the config digest that the image manifest desc names.
func manifestConfig(ctx context.Context, resolver remotes.Resolver, ref string, desc ocispec.Descriptor) (string, error) {
	fetcher, err := resolver.Fetcher(ctx, ref)
	if err != nil {
		return "", err
	}
	body, err := fetcher.Fetch(ctx, desc)
	if err != nil {
		return "", err
	}
	defer body.Close()
	var manifest ocispec.Manifest
	// A manifest is small; a registry serving megabytes is not serving one.
	if err := json.NewDecoder(io.LimitReader(body, 4<<20)).Decode(&manifest); err != nil {
		return "", err
	}
	if manifest.Config.Digest == "" {
		return "", errors.New("the manifest names no config")
	}
	return manifest.Config.Digest.String(), nil
}

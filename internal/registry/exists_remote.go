package registry

import (
	"context"
	"errors"
	"io"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	dockerconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/distribution/reference"
	"github.com/sirupsen/logrus"
)

// ExistsRemote says whether the registry still has ref, asking it directly
// (no engine), with the credentials and certs.d trust a push uses: for
// images that a BuildKit daemon pushed and no engine ever held.
func ExistsRemote(ctx context.Context, creds *Credentials, ref string) (bool, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false, err
	}
	quiet := logrus.New()
	quiet.Out = io.Discard
	ctx = log.WithLogger(ctx, logrus.NewEntry(quiet))
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: dockerconfig.ConfigureHosts(ctx, dockerconfig.HostOptions{
		HostDir:     dockerconfig.HostDirFromRoot(certsDir),
		Credentials: creds.basic,
	})})
	_, _, err = resolver.Resolve(ctx, named.String())
	if errors.Is(err, cerrdefs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, remoteError(reference.Domain(named), ref, "checking", err)
	}
	return true, nil
}

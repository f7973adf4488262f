// Package registry finds credentials for registries and moves images to
// them through the engine: push, and checks that a pushed image still exists.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	clitypes "github.com/docker/cli/cli/config/types"
	"github.com/docker/docker/api/types/image"
	apiregistry "github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/moby/buildkit/session/auth/authprovider"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
)

// Credential is one registry_auth block of the provider.
type Credential struct {
	Address, Username, Password string
}

// Credentials answers "which credentials for this registry host": the
// provider's registry_auth blocks first, then the Docker config file and its
// credential helpers, as `docker login` left them.
type Credentials struct {
	explicit []Credential

	once   sync.Once
	config *configfile.ConfigFile
}

// NewCredentials uses explicit before the Docker config file, which is read
// on first use.
func NewCredentials(explicit []Credential) *Credentials {
	return &Credentials{explicit: explicit}
}

const dockerHubConfigKey = "https://index.docker.io/v1/"

// For returns the credentials for host (as in a ref: "registry.example.com:5000",
// "docker.io"); empty when none are known.
func (c *Credentials) For(host string) (clitypes.AuthConfig, error) {
	for _, cred := range c.explicit {
		if sameHost(normalizeHost(cred.Address), normalizeHost(host)) {
			return clitypes.AuthConfig{Username: cred.Username, Password: cred.Password, ServerAddress: host}, nil
		}
	}
	c.once.Do(func() { c.config = loadDockerConfig() })
	key := host
	if isDockerHub(normalizeHost(host)) {
		key = dockerHubConfigKey
	}
	auth, err := c.config.GetAuthConfig(key)
	if err != nil {
		return clitypes.AuthConfig{}, fmt.Errorf("reading credentials for registry %s from the Docker config file (%s): %w", host, c.config.Filename, err)
	}
	return auth, nil
}

// loadDockerConfig reads the Docker CLI's config file. DOCKER_CONFIG is read
// here, not through config.Dir, which remembers the first value it saw for
// the life of the process.
func loadDockerConfig() *configfile.ConfigFile {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		if cfg, err := config.Load(dir); err == nil {
			return cfg
		}
	}
	return config.LoadDefaultConfigFile(io.Discard)
}

// BuildKitProvider answers BuildKit's credential requests (pull, cache_from)
// from the same sources.
func (c *Credentials) BuildKitProvider() authprovider.AuthConfigProvider {
	return func(_ context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (clitypes.AuthConfig, error) {
		return c.For(host)
	}
}

// encoded is the X-Registry-Auth value for the engine.
func (c *Credentials) encoded(host string) (string, error) {
	auth, err := c.For(host)
	if err != nil {
		return "", err
	}
	return apiregistry.EncodeAuthConfig(apiregistry.AuthConfig{
		Username:      auth.Username,
		Password:      auth.Password,
		Auth:          auth.Auth,
		ServerAddress: auth.ServerAddress,
		IdentityToken: auth.IdentityToken,
		RegistryToken: auth.RegistryToken,
	})
}

func normalizeHost(address string) string {
	address = strings.TrimPrefix(strings.TrimPrefix(address, "https://"), "http://")
	address, _, _ = strings.Cut(address, "/")
	return strings.ToLower(address)
}

func isDockerHub(host string) bool {
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

func sameHost(a, b string) bool {
	return a == b || (isDockerHub(a) && isDockerHub(b))
}

// Host is the registry host of ref ("docker.io" for Docker Hub).
func Host(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	return reference.Domain(named), nil
}

// PushResult is a finished push.
type PushResult struct {
	// Digest is the manifest digest the registry reported.
	Digest             string
	Started, Completed time.Time
}

// Push pushes ref from the engine to its registry and returns the manifest
// digest. Errors name the registry and what to check.
func Push(ctx context.Context, e *engine.Engine, creds *Credentials, ref string) (*PushResult, error) {
	result := &PushResult{Started: time.Now()}
	host, err := Host(ref)
	if err != nil {
		return nil, err
	}
	auth, err := creds.encoded(host)
	if err != nil {
		return nil, err
	}
	c, err := e.Client()
	if err != nil {
		return nil, err
	}
	body, err := c.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return nil, pushError(e, host, ref, e.Wrap(err))
	}
	defer body.Close()
	digest, err := readPushStream(body)
	if err != nil {
		return nil, pushError(e, host, ref, err)
	}
	if digest == "" {
		// Neither an aux message nor a status line named it: ask the
		// registry, as `docker buildx imagetools inspect` would.
		inspect, err := c.DistributionInspect(ctx, ref, auth)
		if err != nil {
			return nil, pushError(e, host, ref, fmt.Errorf("the engine finished the push without reporting a digest, and asking the registry for it failed: %w", e.Wrap(err)))
		}
		digest = inspect.Descriptor.Digest.String()
	}
	result.Digest = digest
	result.Completed = time.Now()
	return result, nil
}

// pushedDigestLine is the last status line of a push, from every engine:
// "<tag>: digest: sha256:<hex> size: <bytes>".
var pushedDigestLine = regexp.MustCompile(`(?:^|\s)digest: (sha256:[0-9a-f]{64}) size: [0-9]+$`)

// readPushStream reads the engine's push progress to its end and returns
// the pushed manifest's digest: from the aux message ({"Tag", "Digest",
// "Size"}) when there is one (Docker 20.10-29 with graph drivers), else from
// the status line that ends every push (Docker 29's containerd image store
// sends no aux message); "" when neither is there. An error message in the
// stream is the push's error.
func readPushStream(body io.Reader) (string, error) {
	dec := json.NewDecoder(body)
	var aux, status string
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", err
		}
		if msg.Error != nil {
			return "", errors.New(msg.Error.Message)
		}
		if msg.Aux != nil {
			var a struct{ Digest string }
			if json.Unmarshal(*msg.Aux, &a) == nil && a.Digest != "" {
				aux = a.Digest
			}
		}
		if m := pushedDigestLine.FindStringSubmatch(msg.Status); m != nil {
			status = m[1]
		}
	}
	if aux != "" {
		return aux, nil
	}
	return status, nil
}

func pushError(e *engine.Engine, host, ref string, err error) error {
	return fmt.Errorf("pushing %s to registry %s (through the Docker engine at %s): %w; check that the registry is up and reachable "+
		"from the engine, that the engine trusts it (plain HTTP registries other than 127.0.0.0/8 must be listed in insecure-registries), "+
		"and the credentials for %s (a provider registry_auth block, or `docker login %s`)", ref, host, e.Host(), err, host, host)
}

// Exists says whether the registry still has ref, asking through the engine
// (so the engine's registry settings apply).
func Exists(ctx context.Context, e *engine.Engine, creds *Credentials, ref string) (bool, error) {
	host, err := Host(ref)
	if err != nil {
		return false, err
	}
	auth, err := creds.encoded(host)
	if err != nil {
		return false, err
	}
	c, err := e.Client()
	if err != nil {
		return false, err
	}
	_, err = c.DistributionInspect(ctx, ref, auth)
	if err == nil {
		return true, nil
	}
	if errdefs.IsNotFound(err) || strings.Contains(err.Error(), "manifest unknown") || strings.Contains(err.Error(), "not found") {
		return false, nil
	}
	return false, fmt.Errorf("checking %s in registry %s: %w", ref, host, e.Wrap(err))
}

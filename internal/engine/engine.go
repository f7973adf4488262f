// Package engine connects to a Docker Engine lazily, so that configuring the
// provider (and plans that change nothing) never needs a running engine.
package engine

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"sync"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
)

// Config says where the engine is. Empty fields fall back to the Docker CLI's
// environment variables (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY,
// DOCKER_TLS; see envTLSSettings), and an empty Host with no DOCKER_HOST to
// the Docker CLI's current context (DOCKER_CONTEXT, then currentContext in
// its config file).
type Config struct {
	Host     string
	CertPath string
	// SSHOpts are extra arguments for the ssh command behind ssh:// hosts.
	SSHOpts []string
}

// Engine hands out one shared API client, created on first use.
type Engine struct {
	config Config

	// cliContext is the Docker CLI context the address came from, if any;
	// contextErr is why it could not be read (reported on first use).
	cliContext *cliContext
	contextErr error
	// tls is the TLS of a tcp:// address that no CLI context describes.
	tls TLS

	once   sync.Once
	client *client.Client
	err    error

	versionMu sync.Mutex
	version   *Version
}

// New returns an Engine for config without contacting it. Reading the
// Docker CLI's context store is all it may do.
func New(config Config) *Engine {
	e := &Engine{}
	if config.Host == "" {
		config.Host = os.Getenv("DOCKER_HOST")
	}
	if config.Host == "" {
		e.cliContext, e.contextErr = currentCLIContext()
		if e.cliContext != nil {
			config.Host = e.cliContext.host
		}
	}
	if config.CertPath == "" && e.cliContext == nil {
		config.CertPath = os.Getenv(envCertPath)
	}
	if e.cliContext == nil {
		e.tls = envTLSSettings(config.CertPath, os.Getenv)
	} else if config.CertPath != "" {
		// The provider's cert_path overrides the context's TLS material.
		e.tls = TLS{Enabled: true, Verify: true, CertPath: config.CertPath}
	}
	if config.Host == "" {
		// As the Docker CLI: with TLS on, the default engine is the TLS port.
		config.Host = client.DefaultDockerHost
		if e.tls.Enabled {
			config.Host = defaultTLSHost
		}
	}
	if !usesTLS(config.Host) {
		e.tls = TLS{}
	}
	e.config = config
	return e
}

// Host is the engine's address as the user gave it (or the Docker CLI
// context holds it), for the DOCKER_HOST handed to build commands.
func (e *Engine) Host() string { return e.config.Host }

// Describe names the engine in messages: its address and, if it came from
// one, the Docker CLI context.
func (e *Engine) Describe() string {
	if e.cliContext != nil {
		return fmt.Sprintf("%s (%s)", e.config.Host, e.cliContext.describe())
	}
	return e.config.Host
}

// ContextName is the Docker CLI context the engine's address came from; ""
// when the provider's host, DOCKER_HOST or the default context gave it.
func (e *Engine) ContextName() string {
	if e.cliContext == nil {
		return ""
	}
	return e.cliContext.name
}

// TLS is the TLS the provider uses for a tcp:// engine outside a Docker CLI
// context, for the environment of build commands; zero for local sockets,
// ssh:// and plain HTTP.
func (e *Engine) TLS() TLS { return e.tls }

// Client returns the API client, creating it on the first call. Creating it
// does not contact the engine; the API version is negotiated on first request.
func (e *Engine) Client() (*client.Client, error) {
	e.once.Do(func() {
		e.client, e.err = e.newClient()
	})
	return e.client, e.err
}

func (e *Engine) newClient() (*client.Client, error) {
	if e.contextErr != nil {
		return nil, e.contextErr
	}
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	helper, err := connhelper.GetConnectionHelperWithSSHOpts(e.config.Host, e.config.SSHOpts)
	if err != nil {
		return nil, fmt.Errorf("Docker engine host %q: %w", e.Describe(), err)
	}
	if helper == nil {
		cfg, err := e.tlsConfig()
		if err != nil {
			return nil, err
		}
		if cfg != nil {
			// Before WithHost, which configures this transport for the address.
			opts = append(opts, client.WithHTTPClient(httpClient(cfg)))
		}
	}
	if helper != nil {
		// ssh:// and other helper schemes tunnel the API through a command.
		opts = append(opts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
	} else {
		opts = append(opts, client.WithHost(e.config.Host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("Docker engine at %s: %w", e.Describe(), err)
	}
	return c, nil
}

// tlsConfig is the TLS of the connection, nil for plain HTTP: the provider's
// cert_path or the environment's settings, else the CLI context's.
func (e *Engine) tlsConfig() (*tls.Config, error) {
	if e.tls.Enabled {
		cfg, err := e.tls.config()
		if err != nil {
			return nil, fmt.Errorf("Docker engine at %s: TLS: %w", e.Describe(), err)
		}
		return cfg, nil
	}
	if e.cliContext != nil && usesTLS(e.config.Host) {
		cfg, err := e.cliContext.tlsConfig()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.cliContext.describe(), err)
		}
		return cfg, nil
	}
	return nil, nil
}

// Version is what the engine says it is.
type Version struct {
	// Version is the engine's release, e.g. 20.10.24; APIVersion the
	// highest Engine API version it serves, e.g. 1.41.
	Version, APIVersion string
}

func (v Version) String() string {
	return fmt.Sprintf("Docker %s (API %s)", v.Version, v.APIVersion)
}

// APIAtLeast says whether the engine serves Engine API version api or later.
func (v Version) APIAtLeast(api string) bool {
	return versions.GreaterThanOrEqualTo(v.APIVersion, api)
}

// ServerVersion asks the engine what it is, once per Engine (that is, once
// per provider run); a failure is not kept, so a later call asks again.
func (e *Engine) ServerVersion(ctx context.Context) (Version, error) {
	e.versionMu.Lock()
	defer e.versionMu.Unlock()
	if e.version != nil {
		return *e.version, nil
	}
	c, err := e.Client()
	if err != nil {
		return Version{}, err
	}
	v, err := c.ServerVersion(ctx)
	if err != nil {
		return Version{}, e.Wrap(fmt.Errorf("asking the engine's version: %w", err))
	}
	e.version = &Version{Version: v.Version, APIVersion: v.APIVersion}
	return *e.version, nil
}

// Wrap names the engine's host in err, with a hint when it is unreachable.
func (e *Engine) Wrap(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("cannot reach the Docker engine at %s: %w (check that dockerd is running and that %s points at it)", e.Describe(), err, e.source())
	}
	return fmt.Errorf("Docker engine at %s: %w", e.Describe(), err)
}

// source names the setting the engine's address came from, for hints.
func (e *Engine) source() string {
	if e.cliContext != nil {
		return "the Docker CLI context " + fmt.Sprintf("%q", e.cliContext.name) + " (`docker context inspect`), or the provider's host,"
	}
	return "the provider's host, or DOCKER_HOST,"
}

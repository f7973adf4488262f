// Package engine connects to a Docker Engine lazily, so that configuring the
// provider (and plans that change nothing) never needs a running engine.
package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
)

// Config says where the engine is. Empty fields fall back to the Docker CLI's
// environment variables (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY).
type Config struct {
	Host     string
	CertPath string
	// SSHOpts are extra arguments for the ssh command behind ssh:// hosts.
	SSHOpts []string
}

// Engine hands out one shared API client, created on first use.
type Engine struct {
	config Config

	once   sync.Once
	client *client.Client
	err    error
}

// New returns an Engine for config without contacting it.
func New(config Config) *Engine {
	if config.Host == "" {
		config.Host = os.Getenv("DOCKER_HOST")
	}
	if config.Host == "" {
		config.Host = client.DefaultDockerHost
	}
	if config.CertPath == "" {
		config.CertPath = os.Getenv("DOCKER_CERT_PATH")
	}
	return &Engine{config: config}
}

// Host is the engine's address as the user gave it, for error messages and
// for the DOCKER_HOST handed to build commands.
func (e *Engine) Host() string { return e.config.Host }

// CertPath is the TLS directory in use, if any.
func (e *Engine) CertPath() string { return e.config.CertPath }

// Client returns the API client, creating it on the first call. Creating it
// does not contact the engine; the API version is negotiated on first request.
func (e *Engine) Client() (*client.Client, error) {
	e.once.Do(func() {
		e.client, e.err = e.newClient()
	})
	return e.client, e.err
}

func (e *Engine) newClient() (*client.Client, error) {
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	helper, err := connhelper.GetConnectionHelperWithSSHOpts(e.config.Host, e.config.SSHOpts)
	if err != nil {
		return nil, fmt.Errorf("Docker engine host %q: %w", e.config.Host, err)
	}
	if helper != nil {
		// ssh:// and other helper schemes tunnel the API through a command.
		opts = append(opts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
	} else {
		opts = append(opts, client.WithHost(e.config.Host))
	}
	if e.config.CertPath != "" {
		opts = append(opts, client.WithTLSClientConfig(
			filepath.Join(e.config.CertPath, "ca.pem"),
			filepath.Join(e.config.CertPath, "cert.pem"),
			filepath.Join(e.config.CertPath, "key.pem"),
		))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("Docker engine at %s: %w", e.config.Host, err)
	}
	return c, nil
}

// Wrap names the engine's host in err, with a hint when it is unreachable.
func (e *Engine) Wrap(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("cannot reach the Docker engine at %s: %w (check that dockerd is running and that the provider's host, or DOCKER_HOST, points at it)", e.config.Host, err)
	}
	return fmt.Errorf("Docker engine at %s: %w", e.config.Host, err)
}

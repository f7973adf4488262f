package engine

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/cli/cli/config"
	clicontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/go-connections/tlsconfig"
)

// The Docker CLI's names for its context settings.
const (
	envContext         = "DOCKER_CONTEXT"
	envConfig          = "DOCKER_CONFIG"
	defaultContextName = "default"
	dockerEndpointName = "docker"
)

// cliContext is the Docker CLI's current context, when it names one other
// than "default": its engine address and TLS material.
type cliContext struct {
	name string
	// from says where the name came from, for messages.
	from          string
	host          string
	skipTLSVerify bool
	tls           *clicontext.TLSData
}

// dockerConfigDir is the Docker CLI's configuration directory. It is read
// here rather than through config.Dir, which reads DOCKER_CONFIG only once
// per process.
func dockerConfigDir() string {
	if dir := os.Getenv(envConfig); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker")
}

// currentCLIContext resolves the context the Docker CLI would use when
// neither --host nor DOCKER_HOST is given: DOCKER_CONTEXT, then the config
// file's currentContext. nil means the default context (the local socket).
func currentCLIContext() (*cliContext, error) {
	dir := dockerConfigDir()
	name, from := os.Getenv(envContext), envContext
	if name == "" && dir != "" {
		cfg, err := config.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("reading the Docker CLI configuration in %s: %w", dir, err)
		}
		name, from = cfg.CurrentContext, "currentContext in "+filepath.Join(dir, config.ConfigFileName)
	}
	if name == "" || name == defaultContextName {
		return nil, nil
	}
	s := store.New(filepath.Join(dir, "contexts"), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter(dockerEndpointName, func() any { return &clicontext.EndpointMetaBase{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return nil, fmt.Errorf("Docker CLI context %q (from %s): %w; create it with `docker context create`, "+
			"or set the provider's host", name, from, err)
	}
	ep, ok := meta.Endpoints[dockerEndpointName].(clicontext.EndpointMetaBase)
	if !ok || ep.Host == "" {
		return nil, fmt.Errorf("Docker CLI context %q (from %s) has no Docker endpoint; set the provider's host instead", name, from)
	}
	tlsData, err := clicontext.LoadTLSData(s, name, dockerEndpointName)
	if err != nil {
		return nil, fmt.Errorf("Docker CLI context %q (from %s): %w", name, from, err)
	}
	return &cliContext{name: name, from: from, host: ep.Host, skipTLSVerify: ep.SkipTLSVerify, tls: tlsData}, nil
}

// describe names the context in messages.
func (c *cliContext) describe() string {
	return fmt.Sprintf("Docker CLI context %q (from %s)", c.name, c.from)
}

// tlsConfig is the context's TLS configuration, nil when it has none; as
// the Docker CLI builds it.
func (c *cliContext) tlsConfig() (*tls.Config, error) {
	if c.tls == nil && !c.skipTLSVerify {
		return nil, nil
	}
	var opts []func(*tls.Config)
	if c.tls != nil && c.tls.CA != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.tls.CA) {
			return nil, errors.New("its ca.pem holds no certificate")
		}
		opts = append(opts, func(cfg *tls.Config) { cfg.RootCAs = pool })
	}
	if c.tls != nil && c.tls.Key != nil && c.tls.Cert != nil {
		if block, _ := pem.Decode(c.tls.Key); block == nil {
			return nil, errors.New("its key.pem holds no private key")
		}
		pair, err := tls.X509KeyPair(c.tls.Cert, c.tls.Key)
		if err != nil {
			return nil, fmt.Errorf("its TLS key pair: %w", err)
		}
		opts = append(opts, func(cfg *tls.Config) { cfg.Certificates = []tls.Certificate{pair} })
	}
	if c.skipTLSVerify {
		opts = append(opts, func(cfg *tls.Config) { cfg.InsecureSkipVerify = true })
	}
	return tlsconfig.ClientDefault(opts...), nil
}

// httpClient is an HTTP client with the context's TLS configuration.
func httpClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: cfg,
		DialContext:     (&net.Dialer{KeepAlive: 30 * time.Second, Timeout: 30 * time.Second}).DialContext,
	}}
}

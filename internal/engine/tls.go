package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	clicontext "github.com/docker/cli/cli/context"
)

// The Docker CLI's TLS variables for an address from --host or DOCKER_HOST.
// As in the CLI, a non-empty value turns them on: DOCKER_TLS_VERIFY=0 still
// verifies.
const (
	envCertPath  = "DOCKER_CERT_PATH"
	envTLSVerify = "DOCKER_TLS_VERIFY"
	envTLS       = "DOCKER_TLS"
	// defaultTLSHost is where the Docker CLI goes when TLS is on and nothing
	// names an engine.
	defaultTLSHost = "tcp://localhost:2376"
)

// TLS is how the provider secures a tcp:// engine connection that no Docker
// CLI context describes; the zero value is plain HTTP.
type TLS struct {
	// Enabled means TLS; Verify that the engine's certificate must chain to
	// CertPath's ca.pem (without it, as with the CLI's DOCKER_TLS, any
	// certificate is taken).
	Enabled, Verify bool
	// CertPath holds ca.pem, and cert.pem and key.pem when the engine wants
	// a client certificate.
	CertPath string
}

// envTLSSettings is the TLS the Docker CLI would use for its default context.
// certPath is the provider's cert_path or DOCKER_CERT_PATH: it has always
// meant TLS with verification here, with or without the other variables, so
// naming it never weakens a connection. Otherwise DOCKER_TLS_VERIFY, then
// DOCKER_TLS, turn TLS on with the certificates of the CLI's configuration
// directory (DOCKER_CONFIG or ~/.docker), as `docker` does.
func envTLSSettings(certPath string, getenv func(string) string) TLS {
	switch {
	case certPath != "":
		return TLS{Enabled: true, Verify: true, CertPath: certPath}
	case getenv(envTLSVerify) != "":
		return TLS{Enabled: true, Verify: true, CertPath: dockerConfigDir()}
	case getenv(envTLS) != "":
		return TLS{Enabled: true, CertPath: dockerConfigDir()}
	}
	return TLS{}
}

// usesTLS says whether TLS applies to host at all: the Docker CLI never
// wraps a local socket or an ssh:// tunnel in it.
func usesTLS(host string) bool {
	scheme, _, ok := strings.Cut(host, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "tcp", "http", "https":
		return true
	}
	return false
}

// config reads the certificates as the Docker CLI does: ca.pem must exist;
// a missing cert.pem or key.pem means no client certificate.
func (s TLS) config() (*tls.Config, error) {
	read := func(name string, optional bool) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(s.CertPath, name))
		if optional && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	ca, err := read("ca.pem", false)
	if err != nil {
		return nil, fmt.Errorf("%s; put the engine's CA certificate there, or name another directory with the provider's cert_path or DOCKER_CERT_PATH", err)
	}
	cert, err := read("cert.pem", true)
	if err != nil {
		return nil, err
	}
	key, err := read("key.pem", true)
	if err != nil {
		return nil, err
	}
	material := &cliContext{skipTLSVerify: !s.Verify, tls: &clicontext.TLSData{CA: ca, Cert: cert, Key: key}}
	cfg, err := material.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("TLS material in %s: %w", s.CertPath, err)
	}
	return cfg, nil
}

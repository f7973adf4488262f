// Package buildkitd builds images on BuildKit daemons reached directly with
// moby/buildkit's client: one daemon, or a fleet of them where each image
// always goes to the same daemon so that its cache stays warm. It shares
// the session (context, Dockerfile, secrets, SSH, credentials), the stage
// statuses and the masking of secrets with the engine path (dockerbuild). It
// knows nothing of Terraform.
package buildkitd

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Order is the order in which a build of repository tries the daemons at
// addresses: by rendezvous hashing of the repository with each address, so
// that a repository always goes to the same daemon, whatever the order the
// addresses are written in, and adding or removing a daemon moves only the
// repositories that hash to it. Duplicate addresses are tried once.
func Order(addresses []string, repository string) []string {
	type scored struct {
		address string
		score   uint64
	}
	seen := map[string]bool{}
	var all []scored
	for _, a := range addresses {
		if seen[a] {
			continue
		}
		seen[a] = true
		sum := sha256.Sum256([]byte(repository + "\x00" + a))
		all = append(all, scored{a, binary.BigEndian.Uint64(sum[:8])})
	}
	slices.SortStableFunc(all, func(x, y scored) int {
		switch {
		case x.score > y.score:
			return -1
		case x.score < y.score:
			return 1
		}
		return strings.Compare(x.address, y.address)
	})
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.address
	}
	return out
}

// ValidateAddress checks a daemon address: tcp://host:port or
// unix:///path, as buildctl's --addr takes them.
func ValidateAddress(address string) error {
	u, err := url.Parse(address)
	if err != nil {
		return fmt.Errorf("%q is not a BuildKit address: %v; write tcp://HOST:PORT or unix:///PATH", address, err)
	}
	switch u.Scheme {
	case "tcp":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" || port == "" || u.Path != "" && u.Path != "/" {
			return fmt.Errorf("%q is not a BuildKit address: a tcp address needs a host and a port and nothing after them; write e.g. tcp://buildkitd.example.com:1234", address)
		}
	case "unix":
		if u.Path == "" || u.Host != "" {
			return fmt.Errorf("%q is not a BuildKit address: write unix:///PATH, e.g. unix:///run/buildkit/buildkitd.sock", address)
		}
	default:
		return fmt.Errorf("%q is not a BuildKit address: write tcp://HOST:PORT or unix:///PATH (scheme %q is not supported)", address, u.Scheme)
	}
	return nil
}

// serverName is the TLS server name of a tcp address: its host.
func serverName(address string) string {
	u, err := url.Parse(address)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// ExposedWithoutTLS says whether a daemon at address would be reached in
// the clear over a network: a tcp address whose host is not a loopback one
// (127.0.0.0/8, ::1, localhost), used without TLS. Every registry
// credential, secret and SSH agent of a build passes through its session.
func ExposedWithoutTLS(address string, withTLS bool) bool {
	if withTLS {
		return false
	}
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "tcp" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

package dockerbuild

import (
	"errors"
	"testing"
)

func TestRefusedRegistry(t *testing.T) {
	for _, tc := range []struct{ engine, msg, host string }{
		// A FROM without credentials, as dockerd 20.10's BuildKit reports it.
		{"docker 20.10", `failed to solve with frontend dockerfile.v0: failed to create LLB definition: ` +
			`pulling from host 127.0.0.1:5057 failed with status code [manifests latest]: 401 Unauthorized`, "127.0.0.1:5057"},
		// The same on Docker 29 (containerd store and overlay2 alike).
		{"docker 29", `failed to resolve source metadata for 127.0.0.1:5057/imagebuild-test/busybox:latest: ` +
			`unexpected status from HEAD request to http://127.0.0.1:5057/v2/imagebuild-test/busybox/manifests/latest: 401 Unauthorized`, "127.0.0.1:5057"},
		{"docker 29, https, 403", `unexpected status from GET request to https://registry.example.com:5000/v2/a/b/manifests/sha256:00: 403 Forbidden`,
			"registry.example.com:5000"},
	} {
		if host, ok := RefusedRegistry(errors.New(tc.msg)); !ok || host != tc.host {
			t.Errorf("%s: RefusedRegistry = %q, %v; want %s, true", tc.engine, host, ok, tc.host)
		}
	}
	for _, err := range []error{
		nil,
		errors.New("pulling from host r.io failed with status code [manifests x]: 404 Not Found"),
		errors.New("unexpected status from HEAD request to http://r.io/v2/a/manifests/latest: 404 Not Found"),
	} {
		if host, ok := RefusedRegistry(err); ok {
			t.Errorf("RefusedRegistry(%v) = %q, true; want false", err, host)
		}
	}
}

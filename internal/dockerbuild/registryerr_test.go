package dockerbuild

import (
	"errors"
	"testing"
)

func TestRefusedRegistry(t *testing.T) {
	// Message as dockerd 20.10's BuildKit gives it for a FROM without credentials.
	refused := errors.New(`failed to solve with frontend dockerfile.v0: failed to create LLB definition: ` +
		`pulling from host 127.0.0.1:5057 failed with status code [manifests latest]: 401 Unauthorized`)
	if host, ok := RefusedRegistry(refused); !ok || host != "127.0.0.1:5057" {
		t.Errorf("RefusedRegistry(401) = %q, %v; want 127.0.0.1:5057, true", host, ok)
	}
	for _, err := range []error{nil, errors.New("pulling from host r.io failed with status code [manifests x]: 404 Not Found")} {
		if host, ok := RefusedRegistry(err); ok {
			t.Errorf("RefusedRegistry(%v) = %q, true; want false", err, host)
		}
	}
}

package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolve gives the digest that the tag names: for a multi-platform image,
// its index's, as the registry reports it, in one request.
func TestResolve(t *testing.T) {
	const index = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/v2/":
			w.WriteHeader(http.StatusOK)
		case "/v2/acme/base/manifests/1":
			w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
			w.Header().Set("Docker-Content-Digest", index)
			w.Header().Set("Content-Length", "300")
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	got, err := Resolve(context.Background(), NewCredentials(nil), host+"/acme/base:1")
	if err != nil {
		t.Fatal(err)
	}
	if got != index {
		t.Errorf("Resolve = %s, want the index digest %s", got, index)
	}
	mu.Lock()
	defer mu.Unlock()
	if manifests := strings.Count(strings.Join(requests, "\n"), "/manifests/"); manifests != 1 {
		t.Errorf("%d manifest requests, want 1: %v", manifests, requests)
	}

	_, err = Resolve(context.Background(), NewCredentials(nil), host+"/acme/base:2")
	if err == nil || !strings.Contains(err.Error(), host) {
		t.Errorf("a missing tag: %v, want an error naming %s", err, host)
	}
}

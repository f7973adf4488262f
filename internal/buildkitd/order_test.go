package buildkitd

import (
	"fmt"
	"slices"
	"testing"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
)

func TestOrderStable(t *testing.T) {
	addrs := []string{"tcp://buildkit-0:1234", "tcp://buildkit-1:1234", "tcp://buildkit-2:1234"}
	// Pinned: the daemon each repository goes to must not change between
	// provider versions or machines, or every cache goes cold.
	want := map[string][]string{
		"registry.example.com/team/api":    Order(addrs, "registry.example.com/team/api"),
		"registry.example.com/team/worker": Order(addrs, "registry.example.com/team/worker"),
	}
	for repo, w := range want {
		for i := 0; i < 3; i++ {
			if got := Order(addrs, repo); !slices.Equal(got, w) {
				t.Fatalf("Order(%s) = %v, then %v", repo, w, got)
			}
		}
		// The order the addresses are written in does not matter.
		reversed := slices.Clone(addrs)
		slices.Reverse(reversed)
		if got := Order(reversed, repo); !slices.Equal(got, w) {
			t.Errorf("Order(%s) depends on the order of the addresses: %v vs %v", repo, got, w)
		}
	}
}

func TestOrderGolden(t *testing.T) {
	addrs := []string{"tcp://a:1234", "tcp://b:1234", "tcp://c:1234"}
	got := Order(addrs, "registry.example.com/team/api")
	want := []string{"tcp://c:1234", "tcp://b:1234", "tcp://a:1234"}
	if !slices.Equal(got, want) {
		t.Errorf("Order = %v, pinned %v: the hash changed, which moves every repository to another daemon", got, want)
	}
}

// Removing a daemon moves only the repositories that went to it; the others
// keep their daemon (and their warm cache). Failover is the next in order.
func TestOrderFailoverAndRemoval(t *testing.T) {
	addrs := []string{"tcp://a:1", "tcp://b:1", "tcp://c:1", "tcp://d:1"}
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		repo := fmt.Sprintf("registry.example.com/app-%d", i)
		full := Order(addrs, repo)
		if len(full) != 4 {
			t.Fatalf("Order gave %v", full)
		}
		counts[full[0]]++
		// Without the first daemon, the next in its order takes over, and
		// the rest keep their relative order.
		var rest []string
		for _, a := range addrs {
			if a != full[0] {
				rest = append(rest, a)
			}
		}
		if got := Order(rest, repo); !slices.Equal(got, full[1:]) {
			t.Fatalf("%s: without %s the order is %v, want %v", repo, full[0], got, full[1:])
		}
	}
	for _, a := range addrs {
		if counts[a] < 60 {
			t.Errorf("daemon %s got %d of 400 repositories; the hash spreads them unevenly: %v", a, counts[a], counts)
		}
	}
}

func TestOrderDuplicates(t *testing.T) {
	if got := Order([]string{"tcp://a:1", "tcp://a:1", "tcp://b:1"}, "x"); len(got) != 2 {
		t.Errorf("duplicates not removed: %v", got)
	}
}

func TestValidateAddress(t *testing.T) {
	for _, ok := range []string{"tcp://127.0.0.1:1234", "tcp://buildkitd.example.com:1234", "unix:///run/buildkit/buildkitd.sock"} {
		if err := ValidateAddress(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:1234", "tcp://host", "http://host:1234", "unix://", "tcp://:1234", "docker-container://buildx"} {
		if err := ValidateAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidateCacheSpecs(t *testing.T) {
	for _, ok := range []string{"type=inline", "type=local,dest=/tmp/c", "type=registry,ref=r.example.com/a:cache,mode=max"} {
		if err := ValidateCacheTo(ok); err != nil {
			t.Errorf("cache_to %s: %v", ok, err)
		}
	}
	for _, bad := range []string{"r.example.com/a:cache", "type=local", "type=registry", "type=s4,ref=x", "type=inline,mode=all", "type=local,dest"} {
		if err := ValidateCacheTo(bad); err == nil {
			t.Errorf("cache_to %q accepted", bad)
		}
	}
	for _, ok := range []string{"type=local,src=/tmp/c", "type=registry,ref=r.example.com/a:cache"} {
		if err := ValidateCacheFrom(ok); err != nil {
			t.Errorf("cache_from %s: %v", ok, err)
		}
	}
	for _, bad := range []string{"type=local", "type=registry", "type=ftp,ref=x"} {
		if err := ValidateCacheFrom(bad); err == nil {
			t.Errorf("cache_from %q accepted", bad)
		}
	}
}

func TestSolveOpt(t *testing.T) {
	v := "1.4.2"
	opts := Options{
		Platforms:      []string{"linux/amd64", "linux/arm64"},
		CacheTo:        []string{"type=inline", "type=registry,ref=r.example.com/a:cache,mode=max"},
		Provenance:     "max",
		PushRepository: "r.example.com/a",
		PushTags:       []string{"r.example.com/a:v1", "ghcr.io/x/a:v1"},
	}
	opts.BuildArgs = map[string]*string{"VERSION": &v, "UNSET": nil}
	opts.Target, opts.Network, opts.Pull = "prod", "host", true
	opts.CacheFrom = []string{"r.example.com/a:cache", "type=local,src=/c"}
	so, err := SolveOpt(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"filename": "Dockerfile", "target": "prod", "build-arg:VERSION": "1.4.2", "platform": "linux/amd64,linux/arm64",
		"force-network-mode": "host", "image-resolve-mode": "pull", "attest:provenance": "mode=max",
	}
	if fmt.Sprint(so.FrontendAttrs) != fmt.Sprint(want) {
		t.Errorf("frontend attrs %v, want %v", so.FrontendAttrs, want)
	}
	if len(so.Exports) != 2 || so.Exports[0].Attrs["push-by-digest"] != "true" || so.Exports[1].Attrs["name"] != "r.example.com/a:v1,ghcr.io/x/a:v1" {
		t.Errorf("exports %+v", so.Exports)
	}
	if len(so.CacheImports) != 2 || so.CacheImports[0].Type != "registry" || so.CacheImports[0].Attrs["ref"] != "r.example.com/a:cache" || so.CacheImports[1].Type != "local" {
		t.Errorf("cache imports %+v", so.CacheImports)
	}
	if len(so.CacheExports) != 2 || so.CacheExports[1].Attrs["mode"] != "max" {
		t.Errorf("cache exports %+v", so.CacheExports)
	}
	if !slices.Equal(so.AllowedEntitlements, []string{"network.host"}) {
		t.Errorf("entitlements %v", so.AllowedEntitlements)
	}
	// A single platform argument applies when platforms is empty.
	so, _ = SolveOpt(Options{Options: dockerbuild.Options{Platform: "linux/arm64"}})
	if so.FrontendAttrs["platform"] != "linux/arm64" || len(so.Exports) != 0 {
		t.Errorf("platform: %v, exports %v", so.FrontendAttrs, so.Exports)
	}
}

func TestExposedWithoutTLS(t *testing.T) {
	cases := []struct {
		address string
		withTLS bool
		want    bool
	}{
		{"tcp://buildkitd.example.com:1234", false, true},
		{"tcp://10.0.0.5:1234", false, true},
		{"tcp://[2001:db8::1]:1234", false, true},
		{"tcp://buildkitd.example.com:1234", true, false},
		{"tcp://127.0.0.1:5071", false, false},
		{"tcp://127.9.8.7:5071", false, false},
		{"tcp://[::1]:5071", false, false},
		{"tcp://localhost:5071", false, false},
		{"tcp://LOCALHOST:5071", false, false},
		{"unix:///run/buildkit/buildkitd.sock", false, false},
	}
	for _, c := range cases {
		if got := ExposedWithoutTLS(c.address, c.withTLS); got != c.want {
			t.Errorf("ExposedWithoutTLS(%q, %v) = %v, want %v", c.address, c.withTLS, got, c.want)
		}
	}
}

func TestSolveOptSBOMAndExports(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
		set  bool
	}{
		{Options{}, "", false},
		{Options{SBOM: true}, "", true},
		{Options{SBOM: true, SBOMGenerator: "127.0.0.1:5055/scanner:1"}, "generator=127.0.0.1:5055/scanner:1", true},
	} {
		so, err := SolveOpt(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := so.FrontendAttrs["attest:sbom"]; ok != c.set || v != c.want {
			t.Errorf("%+v: attest:sbom = %q (%v), want %q (%v)", c.opts, v, ok, c.want, c.set)
		}
	}
	exports, err := dockerbuild.ParseExports([]string{"type=local,dest=/o/dist", "type=oci,dest=/o/i.tar,name=a:1"})
	if err != nil {
		t.Fatal(err)
	}
	so, err := SolveOpt(Options{Options: dockerbuild.Options{Exports: exports}, PushRepository: "r.example.com/a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(so.Exports) != 3 || so.Exports[1].Type != "local" || so.Exports[1].OutputDir != "/o/dist" || so.Exports[1].Output != nil ||
		so.Exports[2].Type != "oci" || so.Exports[2].Output == nil || so.Exports[2].Attrs["name"] != "a:1" || so.Exports[2].Attrs["dest"] != "" {
		t.Errorf("exports %+v", so.Exports)
	}
}

package imageref

import "testing"

func TestValidateRegistryHost(t *testing.T) {
	for _, host := range []string{"localhost:5000", "registry.example.com", "127.0.0.1:5055", "kind-registry:5000", "[::1]:5000",
		"localhost:5000/team", "us-docker.pkg.dev/acme/images", "gcr.io/acme-dev", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team"} {
		if err := ValidateRegistryHost(host); err != nil {
			t.Errorf("ValidateRegistryHost(%q) = %v, want ok", host, err)
		}
	}
	for _, host := range []string{"", "http://localhost:5000", "Registry Host", "host:port", "myregistry",
		"localhost:5000/", "gcr.io/Acme", "gcr.io/acme//images", "gcr.io/acme:v1", "gcr.io/acme@sha256:abc", "myregistry/team"} {
		if err := ValidateRegistryHost(host); err == nil {
			t.Errorf("ValidateRegistryHost(%q) accepted it", host)
		}
	}
}

func TestValidateSingleName(t *testing.T) {
	for _, name := range []string{"images", "team/images", "a.b_c-d"} {
		if err := ValidateSingleName(name); err != nil {
			t.Errorf("ValidateSingleName(%q) = %v, want ok", name, err)
		}
	}
	for _, name := range []string{"", "Images", "images:v1", "/images", "images/", "a b"} {
		if err := ValidateSingleName(name); err == nil {
			t.Errorf("ValidateSingleName(%q) accepted it", name)
		}
	}
}

func TestAsSeenFromCluster(t *testing.T) {
	for _, c := range []struct{ ref, host, fromCluster, want string }{
		{"localhost:5001/app:tf-1", "localhost:5001", "kind-registry:5000", "kind-registry:5000/app:tf-1"},
		{"localhost:5001/app:tf-1", "localhost:5001", "", "localhost:5001/app:tf-1"},
		{"localhost:5001/app:tf-1", "", "kind-registry:5000", "localhost:5001/app:tf-1"},
		// Only a whole host matches, not a prefix of another one.
		{"localhost:50011/app:tf-1", "localhost:5001", "kind-registry:5000", "localhost:50011/app:tf-1"},
		{"gcr.io/x/app:tf-1", "localhost:5001", "kind-registry:5000", "gcr.io/x/app:tf-1"},
		{"localhost:5001/team/app:tf-1", "localhost:5001/team", "kind-registry:5000/team", "kind-registry:5000/team/app:tf-1"},
		{"localhost:5001/teams/app:tf-1", "localhost:5001/team", "kind-registry:5000/team", "localhost:5001/teams/app:tf-1"},
	} {
		if got := AsSeenFromCluster(c.ref, c.host, c.fromCluster); got != c.want {
			t.Errorf("AsSeenFromCluster(%q, %q, %q) = %q, want %q", c.ref, c.host, c.fromCluster, got, c.want)
		}
	}
}

package cmdbuild

import (
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// envMap turns an environment into a map, failing on a repeated key.
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, entry := range env {
		key, value, ok := strings.Cut(entry, "=")
		if !ok {
			t.Fatalf("entry %q has no '='", entry)
		}
		if _, dup := m[key]; dup {
			t.Fatalf("key %s appears twice in %q", key, env)
		}
		m[key] = value
	}
	return m
}

func TestEnvironmentOverrideOrder(t *testing.T) {
	base := []string{"HOME=/home/me", "PATH=/bin", "FOO=base", "FOO=base2", "EXPECTED_TAG=stale", "not-a-variable", "EMPTY="}
	user := map[string]string{"FOO": "user", "BAR": "b", "EXPECTED_REF": "users-own"}
	vars := ExpectedVars{ExpectedRef: "myapp:tf-build-1", ExpectedImage: "library/myapp", ExpectedTag: "tf-build-1"}

	got := Environment(base, user, vars)
	want := []string{
		"HOME=/home/me", "PATH=/bin", "FOO=user", "EXPECTED_TAG=tf-build-1", "EMPTY=",
		"BAR=b", "EXPECTED_REF=myapp:tf-build-1", "EXPECTED_IMAGE=library/myapp",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Environment =\n%q\nwant\n%q", got, want)
	}
}

func TestEnvironmentIsDeterministic(t *testing.T) {
	user := map[string]string{}
	for _, k := range []string{"Z", "A", "M", "B", "Y", "C"} {
		user[k] = k
	}
	first := strings.Join(Environment(nil, user, ExpectedVars{OmitExpected: true}), ",")
	if first != "A=A,B=B,C=C,M=M,Y=Y,Z=Z" {
		t.Errorf("Environment = %s", first)
	}
	for i := 0; i < 20; i++ {
		if again := strings.Join(Environment(nil, user, ExpectedVars{OmitExpected: true}), ","); again != first {
			t.Fatalf("Environment changed: %s vs %s", again, first)
		}
	}
}

func TestEnvironmentOmitsExpectedInRefFileMode(t *testing.T) {
	base := []string{"EXPECTED_REF=from-terraform"}
	env := envMap(t, Environment(base, nil, ExpectedVars{ExpectedRef: "x:y", ExpectedImage: "x", ExpectedTag: "y", OmitExpected: true}))
	if env["EXPECTED_REF"] != "from-terraform" {
		t.Errorf("EXPECTED_REF = %q, want the inherited value untouched", env["EXPECTED_REF"])
	}
	for _, key := range []string{"EXPECTED_IMAGE", "EXPECTED_TAG", "EXPECTED_REGISTRY", "REGISTRY_HOST", "DOCKER_HOST"} {
		if value, ok := env[key]; ok {
			t.Errorf("%s=%s set", key, value)
		}
	}
}

func TestEnvironmentRegistryAndDocker(t *testing.T) {
	base := []string{"DOCKER_HOST=tcp://old:2376", "DOCKER_TLS_VERIFY=1", "DOCKER_TLS=1", "DOCKER_CERT_PATH=/old"}
	vars := ExpectedVars{
		ExpectedRef: "localhost:5000/app:tf-build-9", ExpectedImage: "app", ExpectedTag: "tf-build-9",
		RegistryHost: "localhost:5000",
		DockerHost:   "unix:///var/run/docker.sock",
	}
	env := envMap(t, Environment(base, nil, vars))
	want := map[string]string{
		"EXPECTED_REF": "localhost:5000/app:tf-build-9", "EXPECTED_IMAGE": "app", "EXPECTED_TAG": "tf-build-9",
		"EXPECTED_REGISTRY": "localhost:5000", "REGISTRY_HOST": "localhost:5000",
		"DOCKER_HOST": "unix:///var/run/docker.sock",
	}
	if len(env) != len(want) {
		t.Errorf("Environment = %v, want %v (inherited TLS settings must go with the inherited host)", env, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}

	tls := envMap(t, Environment(nil, nil, ExpectedVars{OmitExpected: true, DockerHost: "tcp://h:2376", DockerCertPath: "/certs", DockerTLSVerify: true, DockerTLS: true}))
	if len(tls) != 3 || tls["DOCKER_HOST"] != "tcp://h:2376" || tls["DOCKER_CERT_PATH"] != "/certs" || tls["DOCKER_TLS_VERIFY"] != "1" {
		t.Errorf("TLS environment = %v", tls)
	}
	// TLS without verification is DOCKER_TLS, as the Docker CLI reads it;
	// an inherited DOCKER_TLS_VERIFY must not turn verification on.
	noVerify := envMap(t, Environment(base, nil, ExpectedVars{OmitExpected: true, DockerHost: "tcp://h:2376", DockerCertPath: "/certs", DockerTLS: true}))
	if _, ok := noVerify["DOCKER_TLS_VERIFY"]; ok || noVerify["DOCKER_TLS"] != "1" || noVerify["DOCKER_CERT_PATH"] != "/certs" {
		t.Errorf("TLS-without-verification environment = %v", noVerify)
	}
	verifyOnly := envMap(t, Environment(nil, nil, ExpectedVars{OmitExpected: true, DockerHost: "tcp://h:2376", DockerTLSVerify: true}))
	if _, ok := verifyOnly["DOCKER_CERT_PATH"]; ok || verifyOnly["DOCKER_TLS_VERIFY"] != "1" {
		t.Errorf("verify-only environment = %v", verifyOnly)
	}
	inherited := envMap(t, Environment(base, nil, ExpectedVars{OmitExpected: true}))
	if inherited["DOCKER_HOST"] != "tcp://old:2376" || inherited["DOCKER_CERT_PATH"] != "/old" {
		t.Errorf("without a provider host, inherited settings must stay: %v", inherited)
	}
}

func TestEnvironmentImageMaps(t *testing.T) {
	base := []string{"TILT_IMAGE_0=stale"}
	vars := ExpectedVars{OmitExpected: true, ImageMaps: []string{"base:tf-0123456789abcdef", "localhost:5000/lib:tf-fedcba9876543210"}}
	got := Environment(base, nil, vars)
	want := []string{
		"TILT_IMAGE_0=base:tf-0123456789abcdef",
		"TILT_IMAGE_MAP_0=base:tf-0123456789abcdef",
		"TILT_IMAGE_MAP_1=localhost:5000/lib:tf-fedcba9876543210",
		"TILT_IMAGE_1=localhost:5000/lib:tf-fedcba9876543210",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Environment =\n%q\nwant\n%q", got, want)
	}
}

func TestSetExpected(t *testing.T) {
	for _, tc := range []struct{ ref, wantRef, wantImage, wantTag string }{
		{"myapp:tf-build-5", "myapp:tf-build-5", "library/myapp", "tf-build-5"},
		{"localhost:5000/foo_bar:v1", "localhost:5000/foo_bar:v1", "foo_bar", "v1"},
		{"gcr.io/team/app:v2", "gcr.io/team/app:v2", "team/app", "v2"},
	} {
		named, err := reference.ParseNormalizedNamed(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		var vars ExpectedVars
		vars.SetExpected(named.(reference.NamedTagged))
		if vars.ExpectedRef != tc.wantRef || vars.ExpectedImage != tc.wantImage || vars.ExpectedTag != tc.wantTag {
			t.Errorf("SetExpected(%s) = %q %q %q", tc.ref, vars.ExpectedRef, vars.ExpectedImage, vars.ExpectedTag)
		}
	}
}

func TestValidEnvKey(t *testing.T) {
	for key, ok := range map[string]bool{"FOO": true, "foo_1": true, "": false, "A=B": false, "A\x00": false} {
		if err := ValidEnvKey(key); (err == nil) != ok {
			t.Errorf("ValidEnvKey(%q) = %v", key, err)
		}
	}
}

func TestEnvironmentDockerContext(t *testing.T) {
	env := Environment([]string{"DOCKER_HOST=tcp://elsewhere:2376", "DOCKER_TLS_VERIFY=1"}, nil, ExpectedVars{DockerContext: "colima", OmitExpected: true})
	got := strings.Join(env, " ")
	if got != "DOCKER_CONTEXT=colima" {
		t.Errorf("environment = %q, want only DOCKER_CONTEXT=colima", got)
	}
}

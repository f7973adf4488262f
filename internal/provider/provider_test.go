package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testAccProviders runs the provider in the test process, so the acceptance
// tests drive the real Terraform CLI against this code.
var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"imagebuild": providerserver.NewProtocol6WithError(New("test")()),
}

// testEnv is what scripts/testenv.sh prepared: a base image made without any
// pull, and a registry on 127.0.0.1.
type testEnv struct {
	BaseImage         string
	Registry          string
	RegistryBaseImage string
}

// requireTestEnv fails (never skips) an acceptance run whose environment is
// missing, so that CI cannot pass without running the tests.
func requireTestEnv(t *testing.T) testEnv {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	env := testEnv{
		BaseImage:         os.Getenv("IMAGEBUILD_TEST_BASE_IMAGE"),
		Registry:          os.Getenv("IMAGEBUILD_TEST_REGISTRY"),
		RegistryBaseImage: os.Getenv("IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE"),
	}
	if env.BaseImage == "" || env.Registry == "" || env.RegistryBaseImage == "" {
		t.Fatal("IMAGEBUILD_TEST_BASE_IMAGE, IMAGEBUILD_TEST_REGISTRY and IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE are not set: " +
			"run the tests with `make test`, which sources scripts/testenv.sh")
	}
	return env
}

// requireEnvVars returns the values of names, failing the test if any is
// unset: `make test` sets them all through scripts/testenv.sh.
func requireEnvVars(t *testing.T, names ...string) []string {
	t.Helper()
	values := make([]string, len(names))
	for i, name := range names {
		if values[i] = os.Getenv(name); values[i] == "" {
			t.Fatalf("%s is not set: run the tests with `make test`, which sources scripts/testenv.sh", name)
		}
	}
	return values
}

// docker runs the docker CLI and returns its standard output.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dockerErr(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dockerErr(args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// writeFiles creates files (path -> content) under a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// uniqueRepo returns a repository name no other test uses.
func uniqueRepo(t *testing.T) string {
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return fmt.Sprintf("imagebuild-acc/%s-%d", name, os.Getpid())
}

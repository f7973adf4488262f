package buildkitd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
)

// TestBuildPushByDigest builds on a test daemon (scripts/buildkitd.sh) and
// pushes by digest; the provider's acceptance tests cover the rest.
func TestBuildPushByDigest(t *testing.T) {
	addr, reg, base := os.Getenv("IMAGEBUILD_TEST_BUILDKIT_A"), os.Getenv("IMAGEBUILD_TEST_REGISTRY"), os.Getenv("IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE")
	if addr == "" || reg == "" || base == "" {
		t.Skip("needs the test daemons and registry: run with make test (scripts/testenv.sh)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nCOPY f /f\nRUN echo hello-from-run && cat /f\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "f"), []byte(t.Name()+"\n"), 0o644)
	var lines []string
	res, err := Build(context.Background(), Daemons{Name: "test", Addresses: []string{"tcp://127.0.0.1:1", addr}}, reg+"/buildkitd-unit/app", Options{
		Options:        dockerbuild.Options{ContextDir: dir, LogLine: func(l string) { lines = append(lines, l) }},
		PushRepository: reg + "/buildkitd-unit/app",
		Platforms:      []string{"linux/amd64", "linux/386"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Daemon != addr || !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(res.Digest) {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "hello-from-run") {
		t.Errorf("no RUN output in the log: %q", lines)
	}
	if res.Stages[0].Name != "buildkitd "+addr {
		t.Errorf("first stage %q", res.Stages[0].Name)
	}
	t.Logf("stages: %d, digest %s", len(res.Stages), res.Digest)
}

// TestBuildMasksSecrets: a secret a RUN step prints is masked in the log
// lines, the stages and the error.
func TestBuildMasksSecrets(t *testing.T) {
	addr, base := os.Getenv("IMAGEBUILD_TEST_BUILDKIT_A"), os.Getenv("IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE")
	if addr == "" || base == "" {
		t.Skip("needs the test daemons and registry: run with make test (scripts/testenv.sh)")
	}
	secret := "masked-" + t.Name() + "-" + filepath.Base(t.TempDir())
	t.Setenv("IMAGEBUILD_UNIT_SECRET", secret)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN --mount=type=secret,id=s echo \"value $(cat /run/secrets/s)\" && exit 4\n"), 0o644)
	var lines []string
	res, err := Build(context.Background(), Daemons{Name: "test", Addresses: []string{addr}}, "buildkitd-unit/secret", Options{
		Options: dockerbuild.Options{ContextDir: dir, Secrets: []string{"id=s,env=IMAGEBUILD_UNIT_SECRET"}, LogLine: func(l string) { lines = append(lines, l) }},
	})
	if err == nil {
		t.Fatal("the build did not fail")
	}
	all := err.Error() + "\n" + strings.Join(lines, "\n")
	for _, s := range res.Stages {
		all += "\n" + s.Name + " " + s.Error
	}
	if strings.Contains(all, secret) {
		t.Errorf("the secret leaked:\n%s", all)
	}
	if !strings.Contains(err.Error(), "value ****") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error lacks the masked output or the daemon: %v", err)
	}
}

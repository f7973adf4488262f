package provider

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// The cluster's registry is down when the image is pushed: the apply fails
// naming the registry, the resource is tainted (the image was never
// published), and once the registry is back the next apply pushes.
func TestAccDockerImage_registryDownDuringPush(t *testing.T) {
	env := requireTestEnv(t)
	host := freeLoopbackAddr(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo pushed-later > /p.txt\n", env.BaseImage)})
	config := fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "flaky"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "flaky"
}`, host, uniqueRepo(t), ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)registry\s+` + regexp.QuoteMeta(host) + `.*(running|reachable)`),
			},
			{
				PreConfig: func() { startRegistry(t, host) },
				Config:    config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(host)+`/.*@sha256:`)),
					checkInRegistry(testImage),
				),
			},
		},
	})
}

// freeLoopbackAddr returns a 127.0.0.1 address that nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startRegistry runs Debian's docker-registry on addr until the test ends,
// or until the function it returns stops it.
func startRegistry(t *testing.T, addr string) (stop func()) {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	writeFile(t, config, fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n  secret: fault-test\n",
		filepath.Join(dir, "data"), addr))
	cmd := exec.Command("docker-registry", "serve", config)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(stop)
	for range 50 {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return stop
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("docker-registry did not answer on %s", addr)
	return stop
}

// A build that outlives timeouts.create is stopped; the error says which
// timeout ran out, no build process is left, and a quicker build then works.
func TestAccDockerImage_createTimeout(t *testing.T) {
	env := requireTestEnv(t)
	nonce := fmt.Sprint(time.Now().UnixNano() % 1e9)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nARG NAP\nRUN sleep $NAP.%s && echo %s > /done.txt\n", env.BaseImage, nonce, nonce)})
	config := func(nap int) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  args    = ["NAP=%d"]
  timeouts {
    create = "3s"
  }
}`, uniqueRepo(t), ctxDir, nap)
	}
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { started = time.Now() },
				Config:      config(120),
				ExpectError: regexp.MustCompile(`(?s)create\s+timeout\s+of\s+3s\s+ran\s+out.*timeouts\.create`),
			},
			{
				PreConfig: func() {
					t.Logf("the timed-out apply returned after %s", time.Since(started).Round(time.Millisecond))
					waitForNoProcessWithArg(t, nonce, 10*time.Second)
				},
				Config: config(0),
				Check:  checkRun(testImage, nonce, "cat", "/done.txt"),
			},
		},
	})
}

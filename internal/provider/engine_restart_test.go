package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// The engine restarts while it builds: the apply fails with an error naming
// the engine, state records no image, and the next apply succeeds. The
// test runs its own dockerd, so the shared engine is never disturbed.
func TestAccDockerImage_engineRestartMidBuild(t *testing.T) {
	env := requireTestEnv(t)
	engine := startPrivateEngine(t)
	t.Setenv("DOCKER_HOST", engine.host) // for the checks' docker CLI
	copyImage(t, env.BaseImage, engine.host)
	nonce := fmt.Sprint(time.Now().UnixNano() % 1e9)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(
		"FROM %s\nARG NAP\nRUN echo started-%s && sleep $NAP.%s && echo %s > /done.txt\n", env.BaseImage, nonce, nonce, nonce)})
	config := func(nap int) string {
		return fmt.Sprintf(`
provider "imagebuild" {
  host = %q
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  args    = ["NAP=%d"]
}`, engine.host, uniqueRepo(t), ctxDir, nap)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { go engine.restartWhenRunning(nonce) },
				Config:      config(120),
				ExpectError: regexp.MustCompile(`(?s)Docker\s+engine\s+at\s+` + regexp.QuoteMeta(engine.host) + `\s+dropped\s+the\s+build.*check\s+that\s+it\s+is\s+running`),
			},
			{
				PreConfig: func() {
					if err := <-engine.restarted; err != nil {
						t.Fatal(err)
					}
					// dockerd 20.10 leaves a running RUN step behind when it
					// stops (as with systemd's KillMode=process); that is the
					// engine's, not ours to stop, but the test's to clean up.
					if left := killProcessesWithArg(nonce); left > 0 {
						t.Logf("the restart left %d build processes running; killed them", left)
					}
				},
				Config: config(0),
				Check:  checkRun(testImage, nonce, "cat", "/done.txt"),
			},
		},
	})
}

// privateEngine is a dockerd of the test's own: vfs storage, its own bridge,
// no iptables rules.
type privateEngine struct {
	t         *testing.T
	args      []string
	host      string
	cmd       *exec.Cmd
	restarted chan error
}

func startPrivateEngine(t *testing.T) *privateEngine {
	t.Helper()
	// Short paths: containerd's sockets live under exec-root.
	root, err := os.MkdirTemp("", "ibd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bridge := fmt.Sprintf("ibd%d", os.Getpid()%100000)
	// dockerd given --bridge=none deletes docker0, the shared engine's
	// bridge; a bridge of our own avoids that.
	for _, args := range [][]string{
		{"link", "add", bridge, "type", "bridge"},
		{"addr", "add", "10.213.77.1/24", "dev", bridge},
		{"link", "set", bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s (the test needs root to make a bridge)", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", bridge).Run() })
	writeFile(t, filepath.Join(root, "daemon.json"), "{}")
	e := &privateEngine{
		t:    t,
		host: "unix://" + filepath.Join(root, "docker.sock"),
		args: []string{
			"--config-file", filepath.Join(root, "daemon.json"),
			"--data-root", filepath.Join(root, "data"),
			"--exec-root", filepath.Join(root, "exec"),
			"--pidfile", filepath.Join(root, "docker.pid"),
			"--host", "unix://" + filepath.Join(root, "docker.sock"),
			"--bridge", bridge, "--iptables=false", "--ip6tables=false",
			"--storage-driver", "vfs",
		},
		restarted: make(chan error, 1),
	}
	if err := e.start(filepath.Join(root, "dockerd.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	return e
}

func (e *privateEngine) start(logPath string) error {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	e.cmd = exec.Command("dockerd", e.args...)
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	if err := e.cmd.Start(); err != nil {
		return err
	}
	for range 100 {
		if _, err := dockerErr("-H", e.host, "version"); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	return fmt.Errorf("dockerd on %s did not answer within 20s:\n%s", e.host, log)
}

func (e *privateEngine) stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
}

// restartWhenRunning waits for a process holding marker (a RUN step) and
// then restarts the engine, as `systemctl restart docker` would.
func (e *privateEngine) restartWhenRunning(marker string) {
	deadline := time.Now().Add(90 * time.Second)
	for len(processesWithArg(marker)) == 0 {
		if time.Now().After(deadline) {
			e.restarted <- fmt.Errorf("no build step holding %q started within 90s", marker)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.stop()
	e.restarted <- e.start(filepath.Join(filepath.Dir(strings.TrimPrefix(e.host, "unix://")), "dockerd.log"))
}

// killProcessesWithArg kills the live processes holding marker and says
// how many there were.
func killProcessesWithArg(marker string) int {
	left := processesWithArg(marker)
	for _, p := range left {
		pid, _, _ := strings.Cut(p, ":")
		if n, err := strconv.Atoi(pid); err == nil {
			_ = syscall.Kill(n, syscall.SIGKILL)
		}
	}
	return len(left)
}

// copyImage loads ref from the shared engine into the engine at host.
func copyImage(t *testing.T, ref, host string) {
	t.Helper()
	save := exec.Command("docker", "-H", "unix:///var/run/docker.sock", "save", ref)
	load := exec.Command("docker", "-H", host, "load", "-q")
	pipe, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	load.Stdin = pipe
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("docker load into %s: %v\n%s", host, err, out)
	}
	if err := save.Wait(); err != nil {
		t.Fatalf("docker save %s: %v", ref, err)
	}
}

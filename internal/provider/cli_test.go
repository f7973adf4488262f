package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// providerBinary builds the provider once per test binary, for the tests
// that drive the terraform CLI themselves: signals, logs, plan output.
var providerBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "imagebuild-provider-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "terraform-provider-imagebuild")
	out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// terraformCLI is a working directory run with the real terraform binary
// and the provider built from this tree (dev_overrides, no init).
type terraformCLI struct {
	t       *testing.T
	rc      string // TF_CLI_CONFIG_FILE, with the dev_overrides
	dir     string
	tmpDir  string // TMPDIR of terraform and the provider
	logPath string // TF_LOG_PATH
	env     []string
}

func newTerraformCLI(t *testing.T, logLevel string) *terraformCLI {
	t.Helper()
	bin, err := providerBinary()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	c := &terraformCLI{t: t, rc: filepath.Join(home, "dev.tfrc"), dir: t.TempDir(), tmpDir: t.TempDir(), logPath: filepath.Join(home, "terraform.log")}
	c.useProvider(bin)
	c.env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+c.rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"TMPDIR="+c.tmpDir, "TF_LOG_PATH="+c.logPath, "TF_LOG="+logLevel)
	return c
}

// useProvider points the dev_overrides at the provider binary bin.
func (c *terraformCLI) useProvider(bin string) {
	c.t.Helper()
	writeFile(c.t, c.rc, fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"imagebuild/imagebuild\" = %q\n  }\n  direct {}\n}\n", filepath.Dir(bin)))
}

func (c *terraformCLI) writeConfig(config string) {
	c.t.Helper()
	const source = "terraform {\n  required_providers {\n    imagebuild = { source = \"imagebuild/imagebuild\" }\n  }\n}\n"
	writeFile(c.t, filepath.Join(c.dir, "main.tf"), source+config)
}

func (c *terraformCLI) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), append([]string{"-chdir=" + c.dir}, args...)...)
	cmd.Env = c.env
	return cmd
}

// run runs terraform to its end and returns its combined output.
func (c *terraformCLI) run(args ...string) (string, error) {
	out, err := c.command(args...).CombinedOutput()
	return string(out), err
}

// mustRun is run that fails the test on error.
func (c *terraformCLI) mustRun(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// log is what terraform and the provider logged so far.
func (c *terraformCLI) log() string {
	raw, _ := os.ReadFile(c.logPath)
	return string(raw)
}

// interruptWhenLogged starts terraform with args, sends it SIGINT (Ctrl-C)
// once the log shows marker, and returns how long terraform took to exit
// after the signal, and its output.
func (c *terraformCLI) interruptWhenLogged(marker string, timeout time.Duration, args ...string) (time.Duration, string) {
	c.t.Helper()
	cmd := c.command(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(timeout)
	for !strings.Contains(c.log(), marker) {
		select {
		case err := <-done:
			c.t.Fatalf("terraform exited (%v) before logging %q:\n%s", err, marker, out.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			c.t.Fatalf("terraform did not log %q within %s:\n%s", marker, timeout, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		c.t.Fatalf("terraform did not exit within %s of SIGINT:\n%s", timeout, out.String())
	}
	return time.Since(signalled), out.String()
}

// processesWithArg lists live processes whose command line holds marker.
func processesWithArg(marker string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(raw, []byte(marker)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if isZombie(string(stat)) {
			continue // PID 1 here does not reap orphans
		}
		found = append(found, e.Name()+": "+strings.ReplaceAll(string(raw), "\x00", " "))
	}
	return found
}

// isZombie reads the state field of /proc/PID/stat ("pid (comm) S ...").
func isZombie(stat string) bool {
	i := strings.LastIndex(stat, ") ")
	return i >= 0 && strings.HasPrefix(stat[i+2:], "Z")
}

// waitForNoProcessWithArg fails the test if a process holding marker is
// still alive after grace.
func waitForNoProcessWithArg(t *testing.T, marker string, grace time.Duration) {
	t.Helper()
	deadline := time.Now().Add(grace)
	for {
		left := processesWithArg(marker)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left %s after the interrupt:\n%s", grace, strings.Join(left, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

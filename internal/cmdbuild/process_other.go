//go:build !unix

package cmdbuild

import (
	"os"
	"os/exec"
	"time"
)

// Without Unix process groups, Run can only stop the command itself; what
// it started is left to the operating system.

func startInOwnGroup(c *exec.Cmd) {}

func terminate(p *os.Process) error { return p.Kill() }

func stopGroup(pid int, deadline time.Time) {}

func signalOf(state *os.ProcessState) string { return "" }

// lookPath uses os/exec's search (the provider's own PATH and PATHEXT).
func lookPath(name string, env []string) (string, error) {
	return exec.LookPath(name)
}

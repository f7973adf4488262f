//go:build unix

package cmdbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// killSettle bounds the wait for SIGKILLed processes to disappear, which the
// kernel does asynchronously.
const killSettle = 500 * time.Millisecond

// startInOwnGroup makes the command the leader of a new process group, so
// that one signal reaches it and everything it started. It also keeps a
// terminal's Ctrl-C, sent to Terraform's foreground group, from reaching the
// command directly: it is stopped through ctx instead, in the order Run wants.
func startInOwnGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the command's whole process group to stop.
func terminate(p *os.Process) error {
	return signalGroup(p.Pid, syscall.SIGTERM)
}

// signalGroup sends sig to every process in the group pgid. A group that no
// longer exists reports os.ErrProcessDone, which os/exec's Cancel expects.
func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// stopGroup makes sure nothing is left of the process group pgid: SIGTERM,
// then SIGKILL at deadline for whatever still runs. It returns at once when
// the group is already gone, the usual case.
//
// The group ID is the leader's PID, which the kernel does not hand out again
// while any member of the group exists, so the signals cannot reach an
// unrelated process.
func stopGroup(pgid int, deadline time.Time) {
	alive := func() bool { return groupAlive(pgid) }
	if !alive() {
		return
	}
	_ = signalGroup(pgid, syscall.SIGTERM)
	if waitUntilGone(alive, deadline) {
		return
	}
	_ = signalGroup(pgid, syscall.SIGKILL)
	waitUntilGone(alive, time.Now().Add(killSettle))
}

// groupAlive says whether any process of the group pgid still runs. A group
// whose only members are zombies counts as gone: orphans are reaped by PID 1,
// and in containers whose PID 1 never reaps they would otherwise look alive
// forever.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	return hasRunningMember(pgid)
}

// signalOf names the signal that ended the process, or returns "".
func signalOf(state *os.ProcessState) string {
	status, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !status.Signaled() {
		return ""
	}
	sig := status.Signal()
	return fmt.Sprintf("%d (%s)", int(sig), sig)
}

// lookPath finds the program to run. Unlike exec.Command, which searches
// the provider's own PATH, it searches the PATH of the command's environment,
// so that a PATH given to the command also decides which program runs.
// Relative PATH entries are skipped, as os/exec refuses them (exec.ErrDot):
// they would make the program depend on the working directory.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil // taken relative to Dir by os/exec
	}
	for _, dir := range filepath.SplitList(pathOf(env)) {
		if !filepath.IsAbs(dir) {
			continue
		}
		candidate := filepath.Join(dir, name)
		if isExecutable(candidate) {
			return candidate, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// pathOf is the PATH of env, the last one if there are several (as the
// command would see it), or the provider's own PATH if env has none.
func pathOf(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if value, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return value
		}
	}
	return os.Getenv("PATH")
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

// Package cmdbuild is the engine of the imagebuild_cmd_image resource: it runs
// the user's build command, composes its environment and finds the image ref
// the command produced. It knows nothing of Terraform; the provider maps its
// results and errors onto the resource.
package cmdbuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

const (
	// killGrace is how long a process group has between SIGTERM and SIGKILL:
	// enough for a build tool to cancel a request or remove temporary files,
	// short enough that Ctrl-C feels immediate.
	killGrace = 2 * time.Second

	// drainTimeout bounds the wait for the end of the output once the process
	// group is gone. Only a process that left the group (setsid) can still hold
	// the pipe then, and it must not keep Run from returning.
	drainTimeout = 500 * time.Millisecond
)

// Command is one run of a build command.
type Command struct {
	// Args is the program and its arguments, executed directly (no shell).
	// It must hold at least the program. A program without a slash is looked
	// up in the PATH of Env (falling back to Terraform's own PATH), so that a
	// PATH set for the command also finds the command.
	Args []string
	// Dir is the working directory; "" means the current directory. A
	// relative program path ("./build.sh") is taken from Dir.
	Dir string
	// Env is the command's full environment (see Environment); nil inherits
	// the current process's environment, as in os/exec.
	Env []string
	// LogLine, if set, receives the command's stdout and stderr, merged, one
	// line at a time (without the line ending) as they arrive. It is called
	// from a single goroutine and never after Run returns. A line longer than
	// 1 MiB arrives in pieces of about 1 MiB.
	LogLine func(line string)
	// Redact, if set, masks secrets in every line of output, whole, before
	// LogLine and the error's tail see it, and in the excerpt of a ref file
	// that an error quotes.
	Redact *redact.Masker
	// Started, if set, is called once the command is running, with its
	// process ID. On Unix that is also the ID of the process group that Run
	// kills when it is done, which lets callers (and tests) observe it.
	Started func(pid int)
}

// Run runs cmd to completion and returns nil if it exited with status 0.
//
// The command runs in a process group of its own. When ctx ends (Ctrl-C in
// Terraform, a timeout) the whole group gets SIGTERM and, after a grace of two
// seconds, SIGKILL; Run returns promptly even if a grandchild holds the output
// open. After the command exits, by itself or not, any process it left in its
// group is stopped the same way: a build command must not leave daemons or
// half-finished builds behind, since nothing would ever stop them and they
// would keep the output pipe (and Terraform) waiting.
//
// Any failure of the command, including one to start it, is a *CommandError;
// only an empty Args is a plain error (a bug in the caller).
func Run(ctx context.Context, cmd Command) error {
	if len(cmd.Args) == 0 {
		return errors.New("cmdbuild: a command needs at least one argument, the program to run")
	}
	failure := &CommandError{Args: cmd.Args, Dir: displayDir(cmd.Dir), ExitCode: -1}

	path, err := lookPath(cmd.Args[0], cmd.Env)
	if err != nil {
		return failure.notStarted(ctx, err)
	}
	// One pipe for stdout and stderr keeps their lines in the order they were
	// written. Passing an *os.File (rather than an io.Writer) means os/exec
	// starts no copying goroutine, so Wait returns as soon as the command
	// exits, whoever else still holds the pipe.
	output, childOutput, err := os.Pipe()
	if err != nil {
		return failure.notStarted(ctx, err)
	}
	defer output.Close()

	stop := &stopRequest{}
	c := newExecCmd(ctx, path, cmd, childOutput, stop)
	err = c.Start()
	// The child has its own copy; ours would keep the pipe open forever.
	childOutput.Close()
	if err != nil {
		return failure.notStarted(ctx, err)
	}
	pid := c.Process.Pid
	if cmd.Started != nil {
		cmd.Started(pid)
	}

	reader := startReading(output, cmd.Redact, cmd.LogLine)
	waitErr := c.Wait()
	stopGroup(pid, stop.killDeadline())
	failure.Tail = reader.finish(output, drainTimeout)

	return failure.afterExit(ctx, c.ProcessState, waitErr, stop.requested())
}

// newExecCmd prepares the command so that cancelling ctx terminates its whole
// process group, with os/exec's own SIGKILL of the leader after killGrace as
// the backstop should the leader ignore SIGTERM.
func newExecCmd(ctx context.Context, path string, cmd Command, output *os.File, stop *stopRequest) *exec.Cmd {
	c := exec.CommandContext(ctx, path, cmd.Args[1:]...)
	c.Args[0] = cmd.Args[0] // argv[0] as the user wrote it, not the resolved path
	c.Dir = cmd.Dir
	c.Env = cmd.Env
	c.Stdout = output
	c.Stderr = output
	startInOwnGroup(c)
	c.Cancel = func() error {
		stop.request()
		return terminate(c.Process)
	}
	c.WaitDelay = killGrace
	return c
}

// stopRequest records when ctx ended, so that the grace before SIGKILL counts
// from the SIGTERM, not from whenever the leader happened to exit.
type stopRequest struct {
	mu sync.Mutex
	at time.Time
}

func (s *stopRequest) request() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() {
		s.at = time.Now()
	}
}

func (s *stopRequest) requested() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.at.IsZero()
}

// killDeadline is when whatever is left of the process group gets SIGKILL.
func (s *stopRequest) killDeadline() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() {
		return time.Now().Add(killGrace)
	}
	return s.at.Add(killGrace)
}

// waitUntilGone polls alive until it reports false or deadline passes, and
// says whether the processes are gone. Polling is the only portable way to
// watch processes that are not our children.
func waitUntilGone(alive func() bool, deadline time.Time) bool {
	const interval = 20 * time.Millisecond
	for alive() {
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(interval)
	}
	return true
}

package cmdbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxArgBytes keeps a long inline script ("sh -c '...'") from swamping an
// error message; the start of it is enough to recognise the command.
const maxArgBytes = 200

// CommandError is the failure of a command run by Run.
type CommandError struct {
	// Args is the command as given.
	Args []string
	// Dir is the absolute working directory the command ran in.
	Dir string
	// ExitCode is the exit status, or -1 if the command did not exit by
	// itself (killed by a signal, or never started).
	ExitCode int
	// Signal names the signal that killed the command, if one did.
	Signal string
	// Tail holds the last lines of the command's output, tidied for display.
	Tail []string
	// Cancelled is set when the context ended before the command did: the
	// command was stopped (or never started), and its process group killed.
	Cancelled bool
	// StartFailed is set when no process was started at all.
	StartFailed bool
	// Cause is the underlying error: the context's cause when cancelled, the
	// start error, or the *exec.ExitError.
	Cause error
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command %s in %s ", quoteArgs(e.Args), e.Dir)
	switch {
	case e.Cancelled && e.StartFailed:
		fmt.Fprintf(&b, "was not started: %v", e.Cause)
		return b.String()
	case e.StartFailed:
		fmt.Fprintf(&b, "could not be started: %v; check that the executable %q exists and is on the PATH of the command's environment (or give its path), and that the directory %s exists", e.Cause, e.Args[0], e.Dir)
		return b.String()
	case e.Cancelled:
		fmt.Fprintf(&b, "was stopped: %v; its process group was killed", e.Cause)
	case e.Signal != "":
		fmt.Fprintf(&b, "was killed by signal %s", e.Signal)
	default:
		fmt.Fprintf(&b, "exited with status %d", e.ExitCode)
	}
	writeTail(&b, e.Tail)
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.Cause }

func writeTail(b *strings.Builder, lines []string) {
	if len(lines) == 0 {
		b.WriteString("; it printed nothing")
		return
	}
	b.WriteString("; last lines of its output:")
	for _, line := range lines {
		b.WriteString("\n  ")
		b.WriteString(line)
	}
}

// notStarted completes e for a command that never ran.
func (e *CommandError) notStarted(ctx context.Context, err error) error {
	e.StartFailed = true
	e.Cause = err
	if ctx.Err() != nil {
		// exec.Cmd.Start refuses to start once ctx has ended.
		e.Cancelled = true
		e.Cause = context.Cause(ctx)
	}
	return e
}

// afterExit completes e for a command that ran, or returns nil if it
// succeeded. A command stopped because ctx ended counts as cancelled even if
// it then exited 0: its group was signalled, so its work may be incomplete.
func (e *CommandError) afterExit(ctx context.Context, state *os.ProcessState, waitErr error, stopped bool) error {
	if !stopped && waitErr == nil {
		return nil
	}
	e.Cause = waitErr
	if state != nil {
		e.ExitCode = state.ExitCode()
		e.Signal = signalOf(state)
	}
	if stopped {
		e.Cancelled = true
		e.Cause = context.Cause(ctx)
	}
	return e
}

// quoteArgs formats args like fmt's %q of a []string, with each argument cut
// to maxArgBytes.
func quoteArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, arg := range args {
		quoted[i] = fmt.Sprintf("%q", truncate(arg, maxArgBytes))
	}
	return "[" + strings.Join(quoted, " ") + "]"
}

// displayDir is the absolute form of dir for messages, so that an error says
// where the command ran even when dir was empty or relative.
func displayDir(dir string) string {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	return abs
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// runner runs commands with one environment, appending what they print to a
// log file, so that the terminal shows only the figures.
type runner struct {
	env []string
	log *os.File
}

func newRunner(logPath string, env []string) (*runner, error) {
	log, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &runner{env: env, log: log}, nil
}

func (r *runner) close() error { return r.log.Close() }

// measurement is a timed command: its wall time, and the CPU time of its
// process and of the descendants it waited for (terraform waits for the
// provider; the Docker engine's work counts on neither side). On a busy
// machine the CPU time moves much less than the wall time.
type measurement struct {
	wall, cpu time.Duration
}

// execute runs args with stdout to out (the log when nil) and returns the
// exit status; err only when the command could not be run or was killed.
func (r *runner) execute(out io.Writer, args []string) (int, measurement, error) {
	start := r.header(args)
	if out == nil {
		out = r.log
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = r.env, out, r.log
	started := time.Now()
	err := cmd.Run()
	m := measurement{wall: time.Since(started)}
	if cmd.ProcessState != nil {
		m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		return exit.ExitCode(), m, nil
	}
	if err != nil {
		return -1, m, fmt.Errorf("%s: %w%s", strings.Join(args, " "), err, r.tailSince(start))
	}
	return 0, m, nil
}

func (r *runner) exitCode(args ...string) (int, measurement, error) { return r.execute(nil, args) }

// run runs args and fails on a non-zero exit status.
func (r *runner) run(args ...string) error {
	_, err := r.timed(args...)
	return err
}

// timed is run that returns the command's times.
func (r *runner) timed(args ...string) (measurement, error) {
	start := r.offset()
	code, m, err := r.execute(nil, args)
	if err == nil && code != 0 {
		err = r.exitError(args, code, start)
	}
	return m, err
}

// output runs args and returns what it prints on stdout, trimmed; a
// non-zero exit status is an error.
func (r *runner) output(args ...string) (string, error) {
	start := r.offset()
	out, code, err := r.tryOutput(args...)
	if err == nil && code != 0 {
		err = r.exitError(args, code, start)
	}
	return out, err
}

// tryOutput is output that returns a non-zero exit status instead of failing.
func (r *runner) tryOutput(args ...string) (string, int, error) {
	var stdout bytes.Buffer
	code, _, err := r.execute(&stdout, args)
	if code != 0 {
		r.log.Write(stdout.Bytes()) // it may say why
	}
	return strings.TrimSpace(stdout.String()), code, err
}

func (r *runner) exitError(args []string, code int, start int64) error {
	return fmt.Errorf("%s: exit status %d%s", strings.Join(args, " "), code, r.tailSince(start))
}

func (r *runner) header(args []string) int64 {
	start := r.offset()
	fmt.Fprintf(r.log, "\n$ %s   # %s\n", strings.Join(args, " "), time.Now().Format(time.TimeOnly))
	return start
}

// offset is the log's size: in append mode the writes always go there.
func (r *runner) offset() int64 {
	off, _ := r.log.Seek(0, io.SeekEnd)
	return off
}

// logSince returns what the commands logged after offset start.
func (r *runner) logSince(start int64) string {
	raw, err := os.ReadFile(r.log.Name())
	if err != nil || start > int64(len(raw)) {
		return ""
	}
	return string(raw[start:])
}

// tailSince quotes the last lines a failed command logged.
func (r *runner) tailSince(start int64) string {
	const maxLines = 25
	lines := strings.Split(strings.TrimRight(r.logSince(start), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return fmt.Sprintf("\n--- last lines of %s:\n%s", r.log.Name(), strings.Join(lines, "\n"))
}

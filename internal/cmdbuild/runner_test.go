//go:build unix

package cmdbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

// lineLog collects what Run passes to LogLine.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *lineLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// runResult is what run observed of one Run.
type runResult struct {
	err     error
	log     *lineLog
	pgid    int // 0 if Started was not called
	elapsed time.Duration
}

// run runs args under ctx, recording output, process group and duration.
func run(ctx context.Context, args ...string) runResult {
	r := runResult{log: &lineLog{}}
	start := time.Now()
	r.err = Run(ctx, Command{
		Args:    args,
		LogLine: r.log.add,
		Started: func(pid int) { r.pgid = pid },
	})
	r.elapsed = time.Since(start)
	return r
}

func testContext(t *testing.T, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// assertGroupGone fails unless no running process is left in the group.
// kill(-pgid, 0) returning ESRCH proves it; a group of zombies only is also
// accepted, since orphans wait for PID 1 to reap them and some containers'
// PID 1 never does. ps tells zombies apart independently of the code under
// test.
func assertGroupGone(t *testing.T, pgid int) {
	t.Helper()
	if pgid <= 0 {
		t.Fatalf("Started was not called")
	}
	err := syscall.Kill(-pgid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return
	}
	out, psErr := exec.Command("ps", "-A", "-o", "pid=", "-o", "pgid=", "-o", "stat=", "-o", "args=").Output()
	if psErr != nil {
		t.Fatalf("group %d still exists (kill: %v) and ps failed: %v", pgid, err, psErr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[1] != strconv.Itoa(pgid) {
			continue
		}
		if !strings.HasPrefix(fields[2], "Z") {
			t.Errorf("process of group %d survived: %s", pgid, line)
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}
}

func asCommandError(t *testing.T, err error) *CommandError {
	t.Helper()
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *CommandError", err, err)
	}
	return ce
}

func TestRunStreamsLinesInOrder(t *testing.T) {
	// The command waits for a file that LogLine creates on seeing "first":
	// it only finishes if lines are delivered while it still runs.
	signal := filepath.Join(t.TempDir(), "seen-first")
	script := `echo first; echo second >&2; while [ ! -e "$1" ]; do sleep 0.01; done; echo third; printf 'no newline'`
	var log lineLog
	err := Run(testContext(t, 10*time.Second), Command{
		Args: []string{"sh", "-c", script, "sh", signal},
		LogLine: func(line string) {
			log.add(line)
			if line == "first" {
				os.WriteFile(signal, nil, 0o644)
			}
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"first", "second", "third", "no newline"}
	if got := log.all(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestRunLongLines(t *testing.T) {
	// 150 000 bytes, then 2.5 MiB, which arrives in 1 MiB pieces.
	script := `head -c 150000 /dev/zero | tr '\0' x; echo; echo after; head -c 2621440 /dev/zero | tr '\0' y; echo`
	r := run(testContext(t, 20*time.Second), "sh", "-c", script)
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	got := r.log.all()
	if len(got) != 5 {
		t.Fatalf("got %d lines, want 5", len(got))
	}
	if got[0] != strings.Repeat("x", 150000) || got[1] != "after" {
		t.Errorf("long line arrived as %d bytes then %.20q", len(got[0]), got[1])
	}
	for i, want := range []int{maxLineBytes, maxLineBytes, 2621440 - 2*maxLineBytes} {
		if line := got[2+i]; len(line) != want || strings.Trim(line, "y") != "" {
			t.Errorf("piece %d: %d bytes, want %d y's", i, len(line), want)
		}
	}
}

func TestRunEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	var log lineLog
	err := Run(testContext(t, 10*time.Second), Command{
		Args:    []string{"sh", "-c", `echo "$GREETING"; pwd -P`},
		Dir:     dir,
		Env:     []string{"GREETING=hello", "PATH=" + os.Getenv("PATH")},
		LogLine: log.add,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	realDir, _ := filepath.EvalSymlinks(dir)
	if got := log.all(); len(got) != 2 || got[0] != "hello" || got[1] != realDir {
		t.Errorf("output = %q, want [hello %s]", got, realDir)
	}
}

func TestRunFindsProgramOnEnvPath(t *testing.T) {
	bin := t.TempDir()
	tool := filepath.Join(bin, "imagebuild-test-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\necho tool ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var log lineLog
	err := Run(testContext(t, 10*time.Second), Command{
		Args:    []string{"imagebuild-test-tool"},
		Env:     []string{"PATH=/nonexistent", "PATH=" + bin + ":" + os.Getenv("PATH")},
		LogLine: log.add,
	})
	if err != nil || strings.Join(log.all(), "") != "tool ran" {
		t.Fatalf("Run = %v, output %q", err, log.all())
	}
}

func TestRunExitStatusAndTail(t *testing.T) {
	dir := t.TempDir()
	var log lineLog
	err := Run(testContext(t, 10*time.Second), Command{
		Args:    []string{"sh", "-c", `for i in $(seq 1 30); do echo line$i; done; echo oops >&2; exit 3`},
		Dir:     dir,
		LogLine: log.add,
	})
	ce := asCommandError(t, err)
	if ce.ExitCode != 3 || ce.Cancelled || ce.StartFailed || ce.Signal != "" {
		t.Errorf("error fields = %+v", ce)
	}
	if len(ce.Tail) != tailLines || ce.Tail[0] != "line12" || ce.Tail[tailLines-1] != "oops" {
		t.Errorf("tail = %q", ce.Tail)
	}
	if len(log.all()) != 31 {
		t.Errorf("LogLine got %d lines, want 31", len(log.all()))
	}
	msg := err.Error()
	wantStart := `command ["sh" "-c" "for i in $(seq 1 30); do echo line$i; done; echo oops >&2; exit 3"] in ` + dir + ` exited with status 3; last lines of its output:` + "\n  line12\n"
	if !strings.HasPrefix(msg, wantStart) || !strings.HasSuffix(msg, "\n  line30\n  oops") {
		t.Errorf("message:\n%s", msg)
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Errorf("error does not wrap *exec.ExitError")
	}
}

func TestRunSilentFailure(t *testing.T) {
	r := run(testContext(t, 10*time.Second), "false")
	if msg := r.err.Error(); !strings.Contains(msg, `["false"]`) || !strings.HasSuffix(msg, "exited with status 1; it printed nothing") {
		t.Errorf("message: %s", msg)
	}
}

func TestRunKilledBySignal(t *testing.T) {
	r := run(testContext(t, 10*time.Second), "sh", "-c", "echo bye; kill -KILL $$")
	ce := asCommandError(t, r.err)
	if ce.ExitCode != -1 || ce.Signal != "9 (killed)" || ce.Cancelled {
		t.Errorf("error fields = %+v", ce)
	}
	if !strings.Contains(r.err.Error(), "was killed by signal 9 (killed); last lines of its output:\n  bye") {
		t.Errorf("message: %s", r.err)
	}
}

func TestRunNotFound(t *testing.T) {
	r := run(testContext(t, 10*time.Second), "imagebuild-no-such-command", "--flag")
	ce := asCommandError(t, r.err)
	if !ce.StartFailed || ce.Cancelled || r.pgid != 0 || !errors.Is(r.err, exec.ErrNotFound) {
		t.Errorf("error fields = %+v, Started(%d)", ce, r.pgid)
	}
	msg := r.err.Error()
	for _, want := range []string{`"imagebuild-no-such-command"`, "could not be started", "PATH", "directory"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

func TestRunMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := Run(testContext(t, 10*time.Second), Command{Args: []string{"true"}, Dir: dir})
	ce := asCommandError(t, err)
	if !ce.StartFailed || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("error: %v", err)
	}
}

func TestRunEmptyArgs(t *testing.T) {
	if err := Run(context.Background(), Command{}); err == nil {
		t.Fatal("Run without args succeeded")
	}
}

func TestRunAlreadyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := run(ctx, "true")
	ce := asCommandError(t, r.err)
	if !ce.Cancelled || !ce.StartFailed || r.pgid != 0 || !errors.Is(r.err, context.Canceled) {
		t.Errorf("error = %v, fields %+v", r.err, ce)
	}
}

func TestRunCancelKillsProcessGroup(t *testing.T) {
	ctx := testContext(t, 300*time.Millisecond)
	r := run(ctx, "sh", "-c", "echo started; sleep 100 & sleep 100; wait")
	if r.elapsed > 3*time.Second {
		t.Errorf("Run took %v after cancellation", r.elapsed)
	}
	ce := asCommandError(t, r.err)
	if !ce.Cancelled || !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("error fields = %+v", ce)
	}
	msg := r.err.Error()
	if !strings.Contains(msg, "was stopped: context deadline exceeded; its process group was killed") || !strings.Contains(msg, "\n  started") {
		t.Errorf("message: %s", msg)
	}
	assertGroupGone(t, r.pgid)
}

func TestRunCancelKillsGroupIgnoringTerm(t *testing.T) {
	// trap '' TERM is inherited: the shell and both sleeps ignore SIGTERM.
	ctx := testContext(t, 300*time.Millisecond)
	r := run(ctx, "sh", "-c", "trap '' TERM; sleep 100 & sleep 100; wait")
	if r.elapsed > 300*time.Millisecond+killGrace+time.Second {
		t.Errorf("Run took %v after cancellation", r.elapsed)
	}
	if r.elapsed < killGrace {
		t.Errorf("Run took only %v: SIGKILL came before the grace", r.elapsed)
	}
	if ce := asCommandError(t, r.err); !ce.Cancelled {
		t.Errorf("error fields = %+v", ce)
	}
	assertGroupGone(t, r.pgid)
}

func TestRunReturnsWhenGrandchildHoldsOutput(t *testing.T) {
	// sleep inherits stdout and outlives the shell, which exits 0.
	r := run(testContext(t, 10*time.Second), "sh", "-c", "sleep 100 & echo done")
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.elapsed > time.Second {
		t.Errorf("Run took %v", r.elapsed)
	}
	if got := r.log.all(); len(got) != 1 || got[0] != "done" {
		t.Errorf("output = %q", got)
	}
	assertGroupGone(t, r.pgid)
}

func TestRunKillsLeftoverIgnoringTerm(t *testing.T) {
	r := run(testContext(t, 10*time.Second), "sh", "-c", "trap '' TERM; sleep 100 & exit 0")
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.elapsed > killGrace+time.Second {
		t.Errorf("Run took %v", r.elapsed)
	}
	assertGroupGone(t, r.pgid)
}

func TestRunReturnsWhenEscapedProcessHoldsOutput(t *testing.T) {
	setsid, err := exec.LookPath("setsid")
	if err != nil {
		t.Skip("setsid is not installed")
	}
	// The escaped process leaves the group, so Run cannot kill it; it must
	// still not wait for it. It records its PID so the test can clean up.
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := `"$1" sh -c 'echo $$ > "$1"; exec sleep 100' sh "$2" & while [ ! -s "$2" ]; do sleep 0.01; done; echo ok`
	r := run(testContext(t, 10*time.Second), "sh", "-c", script, "sh", setsid, pidFile)
	if data, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.elapsed > drainTimeout+time.Second {
		t.Errorf("Run took %v", r.elapsed)
	}
}

func TestTidyForMessage(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  "plain",
		"10%\r50%\r100%":         "100%",
		"bad \xff byte":          "bad \uFFFD byte",
		strings.Repeat("é", 300): strings.Repeat("é", 256) + "…",
		strings.Repeat("a", 513): strings.Repeat("a", 512) + "…",
	} {
		if got := tidyForMessage(in); got != want {
			t.Errorf("tidyForMessage(%.30q) = %.30q…, want %.30q…", in, got, want)
		}
	}
}

func TestQuoteArgsTruncates(t *testing.T) {
	got := quoteArgs([]string{"sh", "-c", strings.Repeat("x", 500)})
	if want := `["sh" "-c" "` + strings.Repeat("x", maxArgBytes) + `…"]`; got != want {
		t.Errorf("quoteArgs = %s", got)
	}
}

func TestRunRedactsLogAndTail(t *testing.T) {
	var logged []string
	err := Run(context.Background(), Command{
		Args:    []string{"sh", "-c", "echo token=$TOKEN; exit 3"},
		Env:     []string{"PATH=" + os.Getenv("PATH"), "TOKEN=s3cr3t-value"},
		LogLine: func(line string) { logged = append(logged, line) },
		Redact:  redact.Values([]string{"s3cr3t-value"}),
	})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-value") || !strings.Contains(err.Error(), "token=****") {
		t.Errorf("error = %v, want the masked tail", err)
	}
	if strings.Join(logged, "\n") != "token=****" {
		t.Errorf("logged %q, want the masked line", logged)
	}
}

// testSecret is 40 bytes, as the secret of issue 23's proof.
const testSecret = "ghp_T0k3nV4lu3-0123456789abcdefghijklmno"

// leaks says whether s holds a run of 8 or more bytes of secret.
func leaks(s, secret string) bool {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+8]) {
			return true
		}
	}
	return false
}

// A line is masked whole before the error's tail cuts it to 512 bytes: 473
// bytes of padding put the secret across that cut.
func TestRunMasksBeforeTheTailCut(t *testing.T) {
	var log lineLog
	err := Run(testContext(t, 10*time.Second), Command{
		Args:    []string{"sh", "-c", `head -c 473 /dev/zero | tr '\0' p; echo "$TOKEN"; exit 3`},
		Env:     []string{"PATH=" + os.Getenv("PATH"), "TOKEN=" + testSecret},
		LogLine: log.add,
		Redact:  redact.Values([]string{testSecret}),
	})
	if err == nil || leaks(err.Error(), testSecret) || !strings.Contains(err.Error(), strings.Repeat("p", 473)+"****") {
		t.Errorf("error = %v; want the masked line, without a byte run of the secret", err)
	}
	if got := strings.Join(log.all(), "\n"); got != strings.Repeat("p", 473)+"****" {
		t.Errorf("logged %.40q…, want the masked line", got)
	}
}

// A secret across the 1 MiB split of a long line is masked whole: the rest
// of the piece is carried over into the next one.
func TestRunMasksAcrossTheLineSplit(t *testing.T) {
	if maxLineBytes%(64*1024) != 0 {
		t.Fatalf("maxLineBytes = %d: this test puts the secret across a split at a multiple of the reader's buffer", maxLineBytes)
	}
	for _, before := range []int{maxLineBytes - 20, maxLineBytes - 39, maxLineBytes - 1, maxLineBytes - 40} {
		var log lineLog
		script := fmt.Sprintf(`head -c %d /dev/zero | tr '\0' p; printf %%s "$TOKEN"; head -c 100 /dev/zero | tr '\0' q; echo`, before)
		err := Run(testContext(t, 20*time.Second), Command{
			Args:    []string{"sh", "-c", script},
			Env:     []string{"PATH=" + os.Getenv("PATH"), "TOKEN=" + testSecret},
			LogLine: log.add,
			Redact:  redact.Values([]string{testSecret}),
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		pieces := log.all()
		joined := strings.Join(pieces, "")
		if len(pieces) < 2 || leaks(strings.Join(pieces, "|"), testSecret) ||
			joined != strings.Repeat("p", before)+"****"+strings.Repeat("q", 100) {
			t.Errorf("secret after %d bytes: %d pieces of %d bytes in all; want the masked line in two or more pieces, without a byte run of the secret",
				before, len(pieces), len(joined))
		}
	}
}

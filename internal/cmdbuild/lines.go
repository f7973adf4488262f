package cmdbuild

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

const (
	// maxLineBytes caps the memory one line can take: a command that writes
	// binary data without newlines must not exhaust the provider's memory.
	maxLineBytes = 1 << 20
	// tailLines is how many of the last lines an error repeats.
	tailLines = 20
	// maxTailLineBytes keeps one long line from swamping an error message.
	maxTailLineBytes = 512
)

// outputReader collects the command's output in the background.
type outputReader struct {
	done chan struct{}
	tail *tail
}

// startReading reads lines from output until it ends, masks secrets in
// each, then passes it to logLine (when set) and keeps the last ones for an
// error message. Masking comes first: any cut (of a long line, of a line
// quoted in an error) must not leave a part of a secret that no longer
// matches the whole.
func startReading(output io.Reader, mask *redact.Masker, logLine func(string)) *outputReader {
	r := &outputReader{done: make(chan struct{}), tail: newTail(tailLines)}
	go func() {
		defer close(r.done)
		readLines(output, mask.SafeCut, func(line string) {
			line = mask.Replace(line)
			r.tail.add(line)
			if logLine != nil {
				logLine(line)
			}
		})
	}()
	return r
}

// finish waits for the output to end and returns its last lines. If it has
// not ended after timeout, some process outside the command's group still
// holds the pipe; closing our end stops the reader anyway.
func (r *outputReader) finish(output *os.File, timeout time.Duration) []string {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-r.done:
	case <-timer.C:
		output.Close()
		<-r.done
	}
	return r.tail.lines
}

// readLines calls emit for every line of r, without its line ending,
// including a last line that has none. A line longer than maxLineBytes is
// passed on in pieces of about that size, each cut where safeCut says (the
// rest is carried over into the next piece, so that a secret that spans the
// cut is still seen whole). It returns when r ends or fails.
func readLines(r io.Reader, safeCut func(string) int, emit func(string)) {
	br := bufio.NewReaderSize(r, 64*1024)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line) >= maxLineBytes {
				if cut := safeCut(string(line)); cut > 0 {
					emit(string(line[:cut]))
					line = line[:copy(line, line[cut:])]
				}
			}
			continue
		}
		if len(line) > 0 {
			emit(string(trimLineEnding(line)))
			line = line[:0]
		}
		if err != nil {
			return
		}
	}
}

func trimLineEnding(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// tail keeps the last lines of the output, tidied for an error message.
type tail struct {
	max   int
	lines []string
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) add(line string) {
	if len(t.lines) == t.max {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:t.max-1]
	}
	t.lines = append(t.lines, tidyForMessage(line))
}

// tidyForMessage makes a line safe and short enough to quote in an error: a
// progress line redrawn with carriage returns keeps only what a terminal
// would show last, invalid UTF-8 is replaced, and a long line is cut.
func tidyForMessage(line string) string {
	if i := strings.LastIndexByte(strings.TrimRight(line, "\r"), '\r'); i >= 0 {
		line = line[i+1:]
	}
	line = strings.ToValidUTF8(line, "\uFFFD")
	return truncate(line, maxTailLineBytes)
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

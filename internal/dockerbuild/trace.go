package dockerbuild

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/protobuf/proto"
)

// Stage is one BuildKit vertex as the build reported it.
type Stage struct {
	Name      string
	Cached    bool
	Error     string
	Started   *time.Time
	Completed *time.Time
}

// maxTailLines is how many lines of output a failed step's error quotes.
const maxTailLines = 20

// traceRecorder folds the build's status messages into one Stage per vertex,
// in the order the vertexes were first seen, and turns vertex logs into lines.
type traceRecorder struct {
	order   []string
	stages  map[string]*Stage
	partial map[string]*bytes.Buffer // unterminated log output per vertex
	tails   map[string][]string      // last lines of output per vertex
	logLine func(string)
}

func newTraceRecorder(logLine func(string)) *traceRecorder {
	if logLine == nil {
		logLine = func(string) {}
	}
	return &traceRecorder{
		stages:  map[string]*Stage{},
		partial: map[string]*bytes.Buffer{},
		tails:   map[string][]string{},
		logLine: logLine,
	}
}

// addAux decodes the Aux payload of a "moby.buildkit.trace" message: a JSON
// string holding the base64 of a protobuf StatusResponse.
func (r *traceRecorder) addAux(aux json.RawMessage) error {
	var raw []byte
	if err := json.Unmarshal(aux, &raw); err != nil {
		return fmt.Errorf("decoding BuildKit trace: %w", err)
	}
	var status controlapi.StatusResponse
	if err := proto.Unmarshal(raw, &status); err != nil {
		return fmt.Errorf("decoding BuildKit trace: %w", err)
	}
	r.add(&status)
	return nil
}

func (r *traceRecorder) add(status *controlapi.StatusResponse) {
	for _, v := range status.GetVertexes() {
		stage := r.stage(v.GetDigest())
		if v.GetName() != "" {
			stage.Name = v.GetName()
		}
		stage.Cached = stage.Cached || v.GetCached()
		if v.GetError() != "" {
			stage.Error = v.GetError()
		}
		if v.GetStarted() != nil {
			t := v.GetStarted().AsTime()
			stage.Started = &t
		}
		if v.GetCompleted() != nil {
			t := v.GetCompleted().AsTime()
			stage.Completed = &t
		}
	}
	for _, l := range status.GetLogs() {
		r.addLog(l.GetVertex(), l.GetMsg())
	}
}

func (r *traceRecorder) stage(digest string) *Stage {
	if s, ok := r.stages[digest]; ok {
		return s
	}
	s := &Stage{}
	r.stages[digest] = s
	r.order = append(r.order, digest)
	return s
}

func (r *traceRecorder) addLog(digest string, msg []byte) {
	buf := r.partial[digest]
	if buf == nil {
		buf = &bytes.Buffer{}
		r.partial[digest] = buf
	}
	buf.Write(msg)
	for {
		line, err := buf.ReadString('\n')
		if err != nil {
			// No newline yet: keep the fragment for the next message.
			buf.Reset()
			buf.WriteString(line)
			return
		}
		r.emit(digest, strings.TrimRight(line, "\r\n"))
	}
}

func (r *traceRecorder) emit(digest, line string) {
	tail := append(r.tails[digest], line)
	if len(tail) > maxTailLines {
		tail = tail[len(tail)-maxTailLines:]
	}
	r.tails[digest] = tail
	r.logLine(fmt.Sprintf("%s: %s", r.stage(digest).Name, line))
}

// flush emits output that never ended in a newline.
func (r *traceRecorder) flush() {
	for _, digest := range r.order {
		if buf := r.partial[digest]; buf != nil && buf.Len() > 0 {
			line := buf.String()
			buf.Reset()
			r.emit(digest, line)
		}
	}
}

// Stages returns the stages in first-seen order.
func (r *traceRecorder) Stages() []Stage {
	out := make([]Stage, 0, len(r.order))
	for _, d := range r.order {
		out = append(out, *r.stages[d])
	}
	return out
}

// failure returns the first failed stage's name, error and last output lines.
func (r *traceRecorder) failure() (name, errText string, tail []string, ok bool) {
	for _, d := range r.order {
		if s := r.stages[d]; s.Error != "" {
			return s.Name, s.Error, r.tails[d], true
		}
	}
	return "", "", nil, false
}

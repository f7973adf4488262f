package dockerbuild

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// traceAux encodes a StatusResponse the way dockerd puts it in a
// "moby.buildkit.trace" message.
func traceAux(t testing.TB, status *controlapi.StatusResponse) json.RawMessage {
	t.Helper()
	raw, err := proto.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	aux, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	return aux
}

func TestTraceRecorderStagesInFirstSeenOrder(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	var lines []string
	r := newTraceRecorder(func(l string) { lines = append(lines, l) })

	messages := []*controlapi.StatusResponse{
		{Vertexes: []*controlapi.Vertex{
			{Digest: "sha256:b", Name: "[2/2] RUN echo hi"},
			{Digest: "sha256:a", Name: "[1/2] FROM base", Cached: true, Started: timestamppb.New(start), Completed: timestamppb.New(start)},
		}},
		{Vertexes: []*controlapi.Vertex{{Digest: "sha256:b", Name: "[2/2] RUN echo hi", Started: timestamppb.New(start)}},
			Logs: []*controlapi.VertexLog{{Vertex: "sha256:b", Msg: []byte("hel")}}},
		{Logs: []*controlapi.VertexLog{{Vertex: "sha256:b", Msg: []byte("lo\nworld\npart")}}},
		{Vertexes: []*controlapi.Vertex{{Digest: "sha256:b", Name: "[2/2] RUN echo hi", Started: timestamppb.New(start),
			Completed: timestamppb.New(start.Add(time.Second)), Error: "exit code: 1"}}},
	}
	for _, m := range messages {
		if err := r.addAux(traceAux(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	r.flush()

	stages := r.Stages()
	if len(stages) != 2 || stages[0].Name != "[2/2] RUN echo hi" || stages[1].Name != "[1/2] FROM base" {
		t.Fatalf("stages = %+v", stages)
	}
	if !stages[1].Cached || stages[0].Cached {
		t.Errorf("cached flags wrong: %+v", stages)
	}
	if stages[0].Completed == nil || !stages[0].Completed.Equal(start.Add(time.Second)) || stages[0].Error != "exit code: 1" {
		t.Errorf("stage 0 = %+v", stages[0])
	}
	want := []string{"[2/2] RUN echo hi: hello", "[2/2] RUN echo hi: world", "[2/2] RUN echo hi: part"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", lines, want)
	}
	name, errText, tail, ok := r.failure()
	if !ok || name != "[2/2] RUN echo hi" || errText != "exit code: 1" || len(tail) != 3 {
		t.Errorf("failure() = %q %q %q %v", name, errText, tail, ok)
	}
}

func TestTraceRecorderKeepsOnlyLastLines(t *testing.T) {
	r := newTraceRecorder(nil)
	r.add(&controlapi.StatusResponse{Vertexes: []*controlapi.Vertex{{Digest: "d", Name: "RUN", Error: "boom"}}})
	for i := 0; i < 3*maxTailLines; i++ {
		r.addLog("d", []byte("line\n"))
	}
	if _, _, tail, _ := r.failure(); len(tail) != maxTailLines {
		t.Errorf("tail has %d lines, want %d", len(tail), maxTailLines)
	}
}

func TestTraceRecorderRejectsGarbage(t *testing.T) {
	r := newTraceRecorder(nil)
	if err := r.addAux(json.RawMessage(`{"not":"a string"}`)); err == nil {
		t.Error("want an error for a non-string aux")
	}
	if err := r.addAux(json.RawMessage(`"AAEC"`)); err == nil {
		t.Error("want an error for bytes that are not a StatusResponse")
	}
}

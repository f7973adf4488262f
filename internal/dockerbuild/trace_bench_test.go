package dockerbuild

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// recordedBuild is the status a build of a 30-step Dockerfile sends, in the
// shape dockerd sends it: every StatusResponse is a "moby.buildkit.trace"
// JSON message whose aux is the base64 of the protobuf. FROM steps pull
// layers (progress statuses), RUN steps print output in chunks, and every
// step is announced, started and completed.
func recordedBuild(tb testing.TB) []*controlapi.StatusResponse {
	tb.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) *timestamppb.Timestamp {
		return timestamppb.New(start.Add(time.Duration(ms) * time.Millisecond))
	}
	var messages []*controlapi.StatusResponse
	clock := 0
	previous := ""
	for step := range 30 {
		digest := fmt.Sprintf("sha256:%064x", step+1)
		name := fmt.Sprintf("[%d/30] RUN make -C src step%d", step+1, step)
		if step%10 == 0 {
			name = fmt.Sprintf("[%d/30] FROM docker.io/library/golang:1.26@sha256:%064x", step+1, step)
		}
		vertex := func() *controlapi.Vertex {
			return &controlapi.Vertex{Digest: digest, Name: name, Inputs: []string{previous}}
		}
		announced, started := vertex(), vertex()
		started.Started = at(clock)
		messages = append(messages,
			&controlapi.StatusResponse{Vertexes: []*controlapi.Vertex{announced}},
			&controlapi.StatusResponse{Vertexes: []*controlapi.Vertex{started}})
		if step%10 == 0 {
			messages = append(messages, layerPulls(digest, at, &clock)...)
		} else {
			messages = append(messages, commandOutput(digest, at, &clock)...)
		}
		completed := vertex()
		completed.Started, completed.Completed = at(0), at(clock)
		messages = append(messages, &controlapi.StatusResponse{Vertexes: []*controlapi.Vertex{completed}})
		previous = digest
	}
	return messages
}

// layerPulls is 5 layers downloading, each reported 10 times.
func layerPulls(vertex string, at func(int) *timestamppb.Timestamp, clock *int) []*controlapi.StatusResponse {
	var messages []*controlapi.StatusResponse
	for tick := 1; tick <= 10; tick++ {
		*clock += 50
		status := &controlapi.StatusResponse{}
		for layer := range 5 {
			total := int64(layer+1) << 22
			status.Statuses = append(status.Statuses, &controlapi.VertexStatus{
				ID: fmt.Sprintf("sha256:%064x", 1000+layer), Vertex: vertex, Name: "downloading",
				Current: total * int64(tick) / 10, Total: total, Timestamp: at(*clock), Started: at(0),
			})
		}
		messages = append(messages, status)
	}
	return messages
}

// commandOutput is 15 chunks of compiler-like output; lines are split
// across chunks as a process's writes split them.
func commandOutput(vertex string, at func(int) *timestamppb.Timestamp, clock *int) []*controlapi.StatusResponse {
	var messages []*controlapi.StatusResponse
	for chunk := range 15 {
		*clock += 20
		var msg bytes.Buffer
		for line := range 4 {
			fmt.Fprintf(&msg, "gcc -O2 -c src/module%02d_%d.c -o build/module%02d_%d.o\n", chunk, line, chunk, line)
		}
		fmt.Fprintf(&msg, "compiling part %d", chunk)
		messages = append(messages, &controlapi.StatusResponse{Logs: []*controlapi.VertexLog{
			{Vertex: vertex, Stream: 1, Msg: msg.Bytes(), Timestamp: at(*clock)},
		}})
	}
	return messages
}

// encodeStream is what the engine's /build endpoint returns for messages.
func encodeStream(tb testing.TB, messages []*controlapi.StatusResponse) (stream []byte, auxes []json.RawMessage) {
	tb.Helper()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	for _, m := range messages {
		aux := traceAux(tb, m)
		auxes = append(auxes, aux)
		if err := enc.Encode(map[string]any{"id": "moby.buildkit.trace", "aux": aux}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := enc.Encode(map[string]any{"id": "moby.image.id", "aux": map[string]string{"ID": "sha256:" + fmt.Sprintf("%064x", 7)}}); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes(), auxes
}

func TestRecordedBuildStreamDecodes(t *testing.T) {
	stream, _ := encodeStream(t, recordedBuild(t))
	lines := 0
	result, err := (&Builder{}).readStream(context.Background(), bytes.NewReader(stream), func(string) { lines++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(result.Stages) != 30 || result.ImageID == "" {
		t.Errorf("%d stages, image %q", len(result.Stages), result.ImageID)
	}
	// Each RUN step: 4 lines a chunk, the fragment that ends a chunk joined
	// to the next one's first line, and the last fragment flushed.
	if want := 27 * (15*4 + 1); lines != want {
		t.Errorf("%d lines, want %d", lines, want)
	}
}

// BenchmarkTraceDecode decodes the aux payloads alone: base64 in JSON, then
// protobuf, then folding into stages and lines.
func BenchmarkTraceDecode(b *testing.B) {
	_, auxes := encodeStream(b, recordedBuild(b))
	var size int64
	for _, aux := range auxes {
		size += int64(len(aux))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r := newTraceRecorder(func(string) {})
		for _, aux := range auxes {
			if err := r.addAux(aux); err != nil {
				b.Fatal(err)
			}
		}
		r.flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(auxes)), "ns/msg")
}

// BenchmarkReadStream reads the whole JSON message stream as a build does.
func BenchmarkReadStream(b *testing.B) {
	stream, auxes := encodeStream(b, recordedBuild(b))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := (&Builder{}).readStream(ctx, bytes.NewReader(stream), func(string) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(len(auxes)+1)), "ns/msg")
}

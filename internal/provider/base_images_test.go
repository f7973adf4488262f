package provider

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

// fakeRegistry answers look-ups from a map and counts them.
type fakeRegistry struct {
	digests map[string]string
	calls   atomic.Int32
}

func (f *fakeRegistry) resolve(_ context.Context, _ *registry.Credentials, ref string) (string, error) {
	f.calls.Add(1)
	if d, ok := f.digests[ref]; ok {
		return d, nil
	}
	return "", errors.New("dial tcp: connection refused")
}

func baseInputs(t *testing.T, ctx context.Context, data *providerData, m *dockerImageModel) (buildInputs, []string) {
	t.Helper()
	in, diags := dockerImageKind{}.inputs(ctx, data, m, data.clusters[DefaultClusterName])
	if diags.HasError() || in == nil {
		t.Fatalf("inputs: %v", diags)
	}
	var warnings []string
	for _, d := range diags.Warnings() {
		warnings = append(warnings, d.Summary()+": "+d.Detail())
	}
	return in, warnings
}

func TestBaseImageInputs(t *testing.T) {
	m, _ := fixedDockerImage(t)
	m.DockerfileContents = types.StringValue("ARG TAG=1\nFROM 127.0.0.1:5055/base:${TAG} AS build\nFROM build\n" +
		"COPY --from=busybox /bin/sh /sh\nFROM scratch\n")
	reg := &fakeRegistry{digests: map[string]string{"127.0.0.1:5055/base:1": "sha256:1", "docker.io/library/busybox:latest": "sha256:b"}}
	data := testData()
	data.resolve = reg.resolve
	data.walks = newWalkMemo()

	without, _ := baseInputs(t, context.Background(), data, m)
	if reg.calls.Load() != 0 {
		t.Fatalf("pull = false looked up %d images", reg.calls.Load())
	}

	m.Pull = types.BoolValue(true)
	in, warnings := baseInputs(t, context.Background(), data, m)
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if in[baseImageInput+"127.0.0.1:5055/base:1"] != "sha256:1" || in[baseImageInput+"busybox:latest"] != "sha256:b" || len(in) != len(without)+3 {
		t.Errorf("inputs with pull = true: %v (without: %v)", in, without)
	}

	// A plan whose last build recorded no bases (a state of an earlier
	// version) looks none up: its digest stays what it was.
	data.walks.read.Store(true)
	reg.calls.Store(0)
	if in, _ := baseInputs(t, planning(context.Background()), data, m); reg.calls.Load() != 0 || len(in) != len(without)+1 {
		t.Errorf("a plan without recorded bases made %d look-ups, inputs %v", reg.calls.Load(), in)
	}

	// A plan of the plan walk looks each base up once for all resources.
	m.basesRecorded = true
	for range 3 {
		baseInputs(t, planning(context.Background()), data, m)
	}
	if reg.calls.Load() != 2 {
		t.Errorf("3 plans of 2 bases made %d look-ups, want 2", reg.calls.Load())
	}
	// An apply asks afresh.
	data.walks.applied.Store(true)
	reg.calls.Store(0)
	baseInputs(t, planning(context.Background()), data, m)
	if reg.calls.Load() != 2 {
		t.Errorf("an apply made %d look-ups, want 2", reg.calls.Load())
	}

	// Unreachable: the recorded digest stands, with a warning naming it.
	reg.digests = map[string]string{"docker.io/library/busybox:latest": "sha256:b"}
	m.prior = in
	got, warnings := baseInputs(t, context.Background(), data, m)
	if got.digest() != in.digest() {
		t.Errorf("an unreachable registry changed the inputs: %v, want %v", got, in)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "127.0.0.1:5055/base:1") || !strings.Contains(warnings[0], "sha256:1") {
		t.Errorf("warnings: %v", warnings)
	}
	// ... and without a recorded digest the base is left out.
	m.prior = nil
	got, _ = baseInputs(t, context.Background(), data, m)
	if _, ok := got[baseImageInput+"127.0.0.1:5055/base:1"]; ok || got[baseImageInput+"busybox:latest"] != "sha256:b" {
		t.Errorf("inputs without a record: %v", got)
	}
}

// pull = true digests the same wherever the bases are unchanged: the
// inputs hold the digest the tag names, nothing of the machine.
func TestBaseImageInputsGolden(t *testing.T) {
	m, _ := fixedDockerImage(t)
	m.DockerfileContents = types.StringValue("FROM 127.0.0.1:5055/base:1\nCOPY app.txt /\n")
	m.Pull = types.BoolValue(true)
	data := testData()
	data.resolve = (&fakeRegistry{digests: map[string]string{
		"127.0.0.1:5055/base:1": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}).resolve
	const golden = "sha256:da8d184ad84f87131a62f1888c6d83fdf2f9fd8cfe676d00ff0219ad7b0a2381"
	if got := digestDocker(t, data, m, data.clusters[DefaultClusterName]); got != golden {
		t.Errorf("digest = %s, pinned %s", got, golden)
	}
}

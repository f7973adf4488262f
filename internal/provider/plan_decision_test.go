package provider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

func TestDecidePlan(t *testing.T) {
	built := buildInputs{"ref": digestOf("app"), "context files": "abc"}
	changed := buildInputs{"ref": digestOf("app"), "context files": "def"}
	withSecretEnv := buildInputs{"ref": digestOf("app"), "context files": "abc", "secret_env": "5eed"}
	withVersion := buildInputs{"ref": digestOf("app"), "context files": "abc", "secret_env_version": digestOf("2")}
	cases := []struct {
		name  string
		facts planFacts
		want  planDecision
	}{
		{"new resource", planFacts{inputs: built}, planDecision{true, reasonCreated}},
		{"new resource, inputs unknown", planFacts{}, planDecision{true, reasonCreated}},
		{"unchanged", planFacts{exists: true, inputs: built, priorDigest: built.digest(), priorInputs: built}, planDecision{}},
		{"unchanged, no recorded inputs", planFacts{exists: true, inputs: built, priorDigest: built.digest()}, planDecision{}},
		{"changed", planFacts{exists: true, inputs: changed, priorDigest: built.digest(), priorInputs: built},
			planDecision{true, "inputs changed: context files"}},
		{"changed, no recorded inputs", planFacts{exists: true, inputs: changed, priorDigest: built.digest()},
			planDecision{true, reasonInputsChanged}},
		{"inputs unknown until apply", planFacts{exists: true, priorDigest: built.digest(), priorInputs: built},
			planDecision{true, reasonInputsChanged}},
		{"image missing", planFacts{exists: true, imageMissing: true, inputs: built, priorDigest: built.digest()},
			planDecision{true, reasonImageMissing}},
		{"previous build failed", planFacts{exists: true, failed: true, inputs: built, priorDigest: built.digest()},
			planDecision{true, reasonFailed}},
		{"failed wins over missing", planFacts{exists: true, failed: true, imageMissing: true}, planDecision{true, reasonFailed}},
		{"never pushed, inputs unchanged", planFacts{exists: true, notPushed: true, inputs: built, priorDigest: built.digest()},
			planDecision{true, reasonNotPushed}},
		{"missing wins over never pushed", planFacts{exists: true, imageMissing: true, notPushed: true}, planDecision{true, reasonImageMissing}},
		{"digest of an earlier scheme", planFacts{exists: true, inputs: built, priorDigest: "sha256:0123"},
			planDecision{true, reasonInputsChanged}},
		// A state written when secret_env values were digested (a keyed hash).
		{"only the retired secret_env hash differs", planFacts{exists: true, inputs: built, priorDigest: withSecretEnv.digest(), priorInputs: withSecretEnv},
			planDecision{}},
		{"retired secret_env hash and a new secret_env_version", planFacts{exists: true, inputs: withVersion, priorDigest: withSecretEnv.digest(), priorInputs: withSecretEnv},
			planDecision{true, "inputs changed: secret_env_version"}},
		{"retired secret_env hash and a changed input", planFacts{exists: true, inputs: changed, priorDigest: withSecretEnv.digest(), priorInputs: withSecretEnv},
			planDecision{true, "inputs changed: context files"}},
		{"retired secret_env hash, recorded inputs not of the state's digest", planFacts{exists: true, inputs: built, priorDigest: changed.digest(), priorInputs: withSecretEnv},
			planDecision{true, reasonInputsChanged}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := decidePlan(c.facts); got != c.want {
				t.Errorf("decidePlan = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestApplyReason(t *testing.T) {
	prior := buildInputs{"ref": "1", "triggers": "a"}
	now := buildInputs{"ref": "1", "triggers": "b"}
	for planned, want := range map[string]string{
		reasonCreated:       reasonCreated,
		reasonImageMissing:  reasonImageMissing,
		reasonFailed:        reasonFailed,
		reasonInputsChanged: "inputs changed: triggers",
		"":                  "inputs changed: triggers",
	} {
		if got := applyReason(planned, now, prior); got != want {
			t.Errorf("applyReason(%q) = %q, want %q", planned, got, want)
		}
	}
}

func TestChangedReasonBaseImages(t *testing.T) {
	const base = baseImageInput + "127.0.0.1:5055/base:1"
	prior := buildInputs{"pull": "t", "dockerfile": "a", base: "sha256:1"}
	cases := []struct {
		name string
		now  buildInputs
		want string
	}{
		{"moved", buildInputs{"pull": "t", "dockerfile": "a", base: "sha256:2"}, "base image 127.0.0.1:5055/base:1 moved"},
		{"moved with other inputs", buildInputs{"pull": "t", "dockerfile": "b", base: "sha256:2"},
			"inputs changed: dockerfile; base image 127.0.0.1:5055/base:1 moved"},
		{"another base", buildInputs{"pull": "t", "dockerfile": "b", baseImageInput + "busybox:latest": "sha256:3"},
			"inputs changed: base image 127.0.0.1:5055/base:1, base image busybox:latest, dockerfile"},
		{"pull turned off", buildInputs{"dockerfile": "a"}, "inputs changed: base image 127.0.0.1:5055/base:1, pull"},
	}
	for _, c := range cases {
		if got := changedReason(c.now, prior); got != c.want {
			t.Errorf("%s: changedReason = %q, want %q", c.name, got, c.want)
		}
		if got := decidePlan(planFacts{exists: true, inputs: c.now, priorInputs: prior, priorDigest: prior.digest()}); got != (planDecision{true, c.want}) {
			t.Errorf("%s: decidePlan = %+v", c.name, got)
		}
	}
	moved := buildInputs{"pull": "t", "dockerfile": "a", base: "sha256:2"}
	if got := applyReason("base image 127.0.0.1:5055/base:1 moved", moved, prior); got != "base image 127.0.0.1:5055/base:1 moved" {
		t.Errorf("applyReason = %q", got)
	}
}

// testData is provider data with a digester that keeps no cache.
func testData(clusters ...Cluster) *providerData {
	data := &providerData{clusters: map[string]Cluster{DefaultClusterName: {Name: DefaultClusterName}}, digester: buildcontext.Digester{}}
	for _, c := range clusters {
		data.clusters[c.Name] = c
	}
	return data
}

func TestClusterUnknownProviderValues(t *testing.T) {
	data := testData(Cluster{Name: "kind", Unknown: true}, Cluster{Name: "known", RegistryHost: "localhost:5001"})
	var diags diag.Diagnostics
	if _, known := data.cluster(types.StringValue("kind"), &diags); known {
		t.Error("a cluster whose registry host is unknown reads as known")
	}
	if c, known := data.cluster(types.StringValue("known"), &diags); !known || c.RegistryHost != "localhost:5001" {
		t.Errorf("known cluster = %+v, %v", c, known)
	}
	if _, known := data.cluster(types.StringUnknown(), &diags); known {
		t.Error("an unknown cluster argument reads as known")
	}
	if diags.HasError() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	data.cluster(types.StringValue("nope"), &diags)
	if !diags.HasError() {
		t.Error("a cluster no block names is not an error")
	}
	data.clusterNamesUnknown = true
	diags = nil
	if _, known := data.cluster(types.StringValue("nope"), &diags); known || diags.HasError() {
		t.Errorf("with unknown cluster names, an unmatched cluster should be unknown, not an error: %v %v", known, diags)
	}
}

// fixedDockerImage is a docker_image configuration whose digest is pinned.
func fixedDockerImage(t *testing.T) (*dockerImageModel, string) {
	dir := t.TempDir()
	for name, content := range map[string]string{"Dockerfile": "FROM scratch\nCOPY app.txt /\n", "app.txt": "hello\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := &dockerImageModel{
		imageModel: imageModel{
			Ref: types.StringValue("registry.example.com/team/app"), Cluster: types.StringValue(DefaultClusterName),
			ClusterNeeds: types.StringValue(clusterNeedsPush), ImageMaps: types.ListNull(types.StringType),
			Triggers: types.MapNull(types.StringType),
		},
		Context: types.StringValue(dir), DockerfileContents: types.StringNull(),
		Args:      stringList("VERSION=1.4.2"),
		CacheFrom: types.ListNull(types.StringType), ExtraTags: types.ListNull(types.StringType),
		Network: types.StringNull(), Platform: types.StringNull(), Pull: types.BoolValue(false),
		Secrets: types.ListNull(types.StringType), SSHAgentConfigs: types.ListNull(types.StringType),
		Target: types.StringNull(),
	}
	return m, dir
}

func stringList(values ...string) types.List {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}

func digestDocker(t *testing.T, data *providerData, m *dockerImageModel, cluster Cluster) string {
	t.Helper()
	in, diags := dockerImageKind{}.inputs(context.Background(), data, m, cluster)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if in == nil {
		t.Fatal("inputs unknown")
	}
	return in.digest()
}

// TestInputDigestGolden pins the digest of a fixed configuration: a schema
// or digest change that moves it would rebuild every user's images. If this
// fails, the change is not canonical; do not update the value, fix the change.
func TestInputDigestGolden(t *testing.T) {
	const golden = "sha256:b8eb15e3bdb5075b10f9efb5d52400a17d6e35ddcd6e6819e87578009c1e437c"
	m, _ := fixedDockerImage(t)
	data := testData()
	if got := digestDocker(t, data, m, data.clusters[DefaultClusterName]); got != golden {
		t.Errorf("digest of the fixed configuration = %s, pinned %s", got, golden)
	}
}

func TestInputDigestCanonical(t *testing.T) {
	m, _ := fixedDockerImage(t)
	data := testData()
	base := digestDocker(t, data, m, data.clusters[DefaultClusterName])

	// Null, empty and default arguments contribute nothing.
	m.ExtraTags = types.ListValueMust(types.StringType, nil)
	m.Triggers = types.MapValueMust(types.StringType, map[string]attr.Value{})
	m.Pull = types.BoolValue(false)
	m.ClusterNeeds = types.StringValue(clusterNeedsPush)
	if got := digestDocker(t, data, m, data.clusters[DefaultClusterName]); got != base {
		t.Errorf("empty and default arguments moved the digest: %s != %s", got, base)
	}

	// host_from_cluster only changes cluster_ref.
	a := Cluster{Name: "kind", RegistryHost: "localhost:5001", RegistryHostFromCluster: "kind-registry:5000"}
	b := a
	b.RegistryHostFromCluster = "registry.kind:5000"
	if digestDocker(t, data, m, a) != digestDocker(t, data, m, b) {
		t.Error("changing only host_from_cluster changed the digest")
	}
	if digestDocker(t, data, m, a) == base {
		t.Error("a registry host did not change the digest")
	}

	m.Triggers = types.MapValueMust(types.StringType, map[string]attr.Value{"gen": types.StringValue("1")})
	withTrigger := digestDocker(t, data, m, data.clusters[DefaultClusterName])
	m.Triggers = types.MapValueMust(types.StringType, map[string]attr.Value{"gen": types.StringValue("2")})
	if withTrigger == base || withTrigger == digestDocker(t, data, m, data.clusters[DefaultClusterName]) {
		t.Error("a change of triggers did not change the digest")
	}

	m.Triggers = types.MapValueMust(types.StringType, map[string]attr.Value{"gen": types.StringUnknown()})
	if in, _ := (dockerImageKind{}).inputs(context.Background(), data, m, data.clusters[DefaultClusterName]); in != nil {
		t.Error("an unknown trigger gave known inputs")
	}
}

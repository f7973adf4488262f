package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestInputsRef is the decision whether an image is reused: where it goes,
// the switch, what the digest cannot see, and its names.
func TestInputsRef(t *testing.T) {
	ctx := context.Background()
	inputs := buildInputs{"ref": digestOf("app")}
	tag := "tf-in-" + inputs.digest()[len("sha256:"):][:32]
	reg := Cluster{RegistryHost: "127.0.0.1:5055"}
	cases := []struct {
		name    string
		cluster Cluster
		ref     string
		set     func(m *dockerImageModel)
		want    string
	}{
		{name: "pushed, by default", cluster: reg, ref: "app", want: "127.0.0.1:5055/app:" + tag},
		{name: "ref names a registry", ref: "127.0.0.1:5055/team/app", want: "127.0.0.1:5055/team/app:" + tag},
		{name: "single name: after the tag prefix", cluster: Cluster{RegistryHost: "127.0.0.1:5055", SingleName: "images"}, ref: "team/app",
			want: "127.0.0.1:5055/images:app-" + tag},
		{name: "switched on", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.ReuseFromRegistry = types.BoolValue(true) },
			want: "127.0.0.1:5055/app:" + tag},
		{name: "switched off", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.ReuseFromRegistry = types.BoolValue(false) }},
		{name: "stays in the engine", ref: "app"},
		{name: "base image", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.ClusterNeeds = types.StringValue("base-image") }},
		{name: "secrets", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.Secrets = stringList("id=tok,src=/tok") }},
		{name: "secret values", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.SecretValuesWOVersion = types.StringValue("1") }},
		{name: "ssh", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.SSHAgentConfigs = stringList("default") }},
		{name: "pull", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.Pull = types.BoolValue(true) }},
		{name: "load", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.Load = types.BoolValue(true) }},
		{name: "pull = false", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.Pull = types.BoolValue(false) },
			want: "127.0.0.1:5055/app:" + tag},
		{name: "no_cache", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.NoCache = types.BoolValue(true) },
			want: "127.0.0.1:5055/app:" + tag},
		{name: "extra tag in the repository", cluster: reg, ref: "app",
			set:  func(m *dockerImageModel) { m.ExtraTags = stringList("127.0.0.1:5055/app:latest") },
			want: "127.0.0.1:5055/app:" + tag},
		{name: "extra tag elsewhere", cluster: reg, ref: "app", set: func(m *dockerImageModel) { m.ExtraTags = stringList("app:local") }},
	}
	r := &imageResource{kind: dockerImageKind{}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &dockerImageModel{}
			m.Ref, m.ClusterNeeds = types.StringValue(tc.ref), types.StringValue(clusterNeedsPush)
			if tc.set != nil {
				tc.set(m)
			}
			target, err := newBuildTarget(tc.cluster, tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.inputsRef(ctx, m, m, target, inputs); got != tc.want {
				t.Errorf("inputsRef = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCmdReuseBlocker: a command with secret_env is never reused.
func TestCmdReuseBlocker(t *testing.T) {
	ctx := context.Background()
	m := &cmdImageModel{}
	if why := (cmdImageKind{}).reuseBlocker(ctx, m, m); why != "" {
		t.Errorf("a command without secrets is not reused: %s", why)
	}
	m.SecretEnv = types.MapValueMust(types.StringType, map[string]attr.Value{"TOKEN": types.StringValue("x")})
	if why := (cmdImageKind{}).reuseBlocker(ctx, m, m); why != "secret_env" {
		t.Errorf("a command with secret_env: blocker %q", why)
	}
}

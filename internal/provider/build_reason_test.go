package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

// expectBuildReason: the plan updates name in place and shows why.
func expectBuildReason(name, reason string) resource.ConfigPlanChecks {
	checks := expectInPlaceUpdate(name)
	checks.PreApply = append(checks.PreApply, plancheck.ExpectKnownValue(name, tfjsonpath.New("build_reason"), knownvalue.StringExact(reason)))
	return checks
}

// plannedBuildReason is build_reason of the first resource change of a
// saved plan; "(unknown)" when the plan leaves it unknown.
func plannedBuildReason(t *testing.T, cli *terraformCLI, planFile string) string {
	t.Helper()
	var plan struct {
		ResourceChanges []struct {
			Change struct {
				After        map[string]any `json:"after"`
				AfterUnknown map[string]any `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(cli.mustRun("show", "-json", planFile)), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.ResourceChanges) == 0 {
		t.Fatal("the plan has no resource change")
	}
	change := plan.ResourceChanges[0].Change
	if change.AfterUnknown["build_reason"] == true {
		return "(unknown)"
	}
	reason, _ := change.After["build_reason"].(string)
	return reason
}

// A reviewer of a plan sees which files changed, in a context of 2,000
// files and on a runner with no hash cache; the apply keeps the planned
// reason even when files change between plan and apply (here, after the
// plan was saved), and builds what it finds.
func TestAccDockerImage_buildReasonNamesChangedFiles(t *testing.T) {
	env := requireTestEnv(t)
	files := map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nARG FLAVOUR\nCOPY src /src\n", env.BaseImage)}
	for i := range 2000 {
		files[fmt.Sprintf("src/d%02d/f%04d.txt", i/100, i)] = fmt.Sprintf("file %d\n", i)
	}
	ctxDir := writeFiles(t, files)
	cli := newTerraformCLI(t, "")
	config := func(flavour string) {
		cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  args    = ["FLAVOUR=%s"]
}

output "ref"    { value = imagebuild_docker_image.test.status.ref }
output "reason" { value = imagebuild_docker_image.test.build_reason }
`, uniqueRepo(t), ctxDir, flavour))
	}
	config("a")
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })
	if got := strings.TrimSpace(cli.mustRun("output", "-raw", "reason")); got != "created" {
		t.Fatalf("build_reason after the first apply = %q, want created", got)
	}
	// A fresh runner: no hash cache from the build.
	cli.env = append(cli.env, "XDG_CACHE_HOME="+t.TempDir())

	edit := func(i int, content string) {
		writeFile(t, filepath.Join(ctxDir, fmt.Sprintf("src/d%02d/f%04d.txt", i/100, i)), content)
	}
	edit(301, "edited\n")
	out := cli.mustRun("plan", "-no-color", "-out=edit.tfplan")
	want := "inputs changed: context files src/d03/f0301.txt"
	if !strings.Contains(out, fmt.Sprintf("build_reason = %q", want)) && !strings.Contains(out, fmt.Sprintf("-> %q", want)) {
		t.Errorf("the plan does not show build_reason %q:\n%s", want, out)
	}
	if got := plannedBuildReason(t, cli, "edit.tfplan"); got != want {
		t.Errorf("show -json: build_reason = %q, want %q", got, want)
	}
	// Changed after the plan: the apply keeps the planned reason and
	// builds both edits.
	edit(1999, "edited after the plan\n")
	cli.mustRun("apply", "-no-color", "edit.tfplan")
	if got := strings.TrimSpace(cli.mustRun("output", "-raw", "reason")); got != want {
		t.Errorf("build_reason after the apply = %q, want the planned %q", got, want)
	}
	ref := strings.TrimSpace(cli.mustRun("output", "-raw", "ref"))
	if got := docker(t, "run", "--rm", ref, "cat", "/src/d19/f1999.txt"); strings.TrimSpace(got) != "edited after the plan" {
		t.Errorf("the image has f1999 = %q, want the edit made after the plan", got)
	}
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("plan after the apply: %v, want no changes:\n%s", err, out)
	}

	// Without a refresh the plan has nothing observed to name: unknown
	// until apply, which then names the file itself.
	edit(5, "edited again\n")
	cli.mustRun("plan", "-no-color", "-refresh=false", "-out=norefresh.tfplan")
	if got := plannedBuildReason(t, cli, "norefresh.tfplan"); got != "(unknown)" {
		t.Errorf("plan -refresh=false: build_reason = %q, want unknown", got)
	}
	cli.mustRun("apply", "-no-color", "norefresh.tfplan")
	if got, want := strings.TrimSpace(cli.mustRun("output", "-raw", "reason")), "inputs changed: context files src/d00/f0005.txt"; got != want {
		t.Errorf("build_reason after an apply of a plan without refresh = %q, want %q", got, want)
	}

	// An argument and a file at once.
	edit(42, "and again\n")
	config("b")
	cli.mustRun("plan", "-no-color", "-out=both.tfplan")
	if got, want := plannedBuildReason(t, cli, "both.tfplan"), "inputs changed: args, context files src/d00/f0042.txt"; got != want {
		t.Errorf("build_reason = %q, want %q", got, want)
	}
	cli.mustRun("apply", "-no-color", "both.tfplan")
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("plan after the last apply: %v, want no changes:\n%s", err, out)
	}
}

// The plan's reason is made of the state, the configuration's inputs and
// what the refresh observed, never of what the plan read itself.
func TestExplainPlan(t *testing.T) {
	tree := &imageModel{listings: map[string]buildcontext.Listing{contextFilesInput: nil}}
	prior := buildInputs{"args": "1", contextFilesInput: "a", baseImageInput + "b:1": "d1", "secret_env": "s"}
	for _, c := range []struct {
		name     string
		facts    planFacts
		decision planDecision
		observed map[string]string
		want     string
	}{
		{name: "created", decision: planDecision{true, reasonCreated}, want: reasonCreated},
		{name: "image missing", facts: planFacts{exists: true}, decision: planDecision{true, reasonImageMissing}, want: reasonImageMissing},
		{name: "unknown inputs", facts: planFacts{exists: true}, decision: planDecision{true, reasonInputsChanged}},
		{
			name:     "files read by the plan only",
			facts:    planFacts{exists: true, priorInputs: prior, inputs: buildInputs{"args": "1", contextFilesInput: "B", baseImageInput + "b:1": "d1"}},
			decision: planDecision{true, reasonInputsChanged},
		},
		{
			name:     "observed files and a changed argument",
			facts:    planFacts{exists: true, priorInputs: prior, inputs: buildInputs{"args": "2", contextFilesInput: "B", baseImageInput + "b:1": "d1"}},
			decision: planDecision{true, reasonInputsChanged},
			observed: map[string]string{contextFilesInput: "context files src/a.go", baseImageInput + "b:1": "base image b:1 moved"},
			want:     "inputs changed: args, context files src/a.go; base image b:1 moved",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := explainPlan(tree, c.facts, c.decision, c.observed); got != c.want {
				t.Errorf("explainPlan = %q, want %q", got, c.want)
			}
		})
	}
}

// The summaries of three trees of 20,000 files stay within 32 KiB of
// private state.
func TestSummariesStayWithinTheirBound(t *testing.T) {
	listings := map[string]buildcontext.Listing{}
	for _, name := range []string{contextFilesInput, buildContextsInput, depsInput} {
		var l buildcontext.Listing
		for i := range 20000 {
			l = append(l, buildcontext.Listed{Path: fmt.Sprintf("src/d%03d/%s_%05d.go", i/20, name, i), Sum: uint64(i) * 0x9e3779b97f4a7c15})
		}
		listings[name] = buildcontext.Merge(l)
	}
	private := &fakePrivate{}
	if diags := recordSummaries(context.Background(), private, listings); diags.HasError() {
		t.Fatal(diags)
	}
	if size := len(private.data[privateSummariesKey]); size > 32<<10 || size == 0 {
		t.Errorf("summaries take %d bytes of private state, want at most 32 KiB", size)
	}
}

// fakePrivate is private state in memory.
type fakePrivate struct{ data map[string][]byte }

func (p *fakePrivate) SetKey(_ context.Context, key string, value []byte) diag.Diagnostics {
	if p.data == nil {
		p.data = map[string][]byte{}
	}
	p.data[key] = value
	return nil
}

package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// Build once for many workspaces: each terraformCLI below is its own working
// directory and state, as staging and production workspaces are, building
// the same context into one registry.

// reuseOutputs is what one workspace's apply recorded for one image.
type reuseOutputs struct {
	Ref         string `json:"ref"`
	RepoDigest  string `json:"repo_digest"`
	InputDigest string `json:"input_digest"`
	Reason      string `json:"reason"`
	Stages      []struct {
		Name string `json:"name"`
	} `json:"stages"`
}

func (o reuseOutputs) stageNames() []string {
	var names []string
	for _, s := range o.Stages {
		names = append(names, s.Name)
	}
	return names
}

// reused says whether the apply adopted the image: its one stage is the
// reuse, and no build stage ran.
func (o reuseOutputs) reused() bool {
	return len(o.Stages) == 1 && strings.HasPrefix(o.Stages[0].Name, reuseStagePrefix) && strings.Contains(o.Reason, reuseStagePrefix)
}

// applyWorkspace applies config in a new workspace and returns the outputs
// of each image in it, and how long the apply took.
func applyWorkspace(t *testing.T, config string) (map[string]reuseOutputs, time.Duration) {
	t.Helper()
	cli := newTerraformCLI(t, "INFO")
	cli.writeConfig(config)
	started := time.Now()
	cli.mustRun("apply", "-auto-approve", "-input=false")
	took := time.Since(started)
	if out := cli.mustRun("plan", "-detailed-exitcode", "-input=false"); !strings.Contains(out, "No changes") {
		t.Errorf("second plan of the workspace is not empty:\n%s", out)
	}
	raw := cli.mustRun("output", "-json", "images")
	var images map[string]reuseOutputs
	if err := json.Unmarshal([]byte(raw), &images); err != nil {
		t.Fatalf("reading the outputs %s: %v", raw, err)
	}
	return images, took
}

// reuseConfig is one workspace: "app", reusable; "secret", which reads a
// secret file whose contents the digest cannot see. reuse is the value of
// app's reuse_from_registry ("" leaves it unset).
func reuseConfig(env testEnv, repo, ctxDir, secretFile, reuse string) string {
	setting := ""
	if reuse != "" {
		setting = "reuse_from_registry = " + reuse
	}
	return fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "reg"
    registry {
      host = %[1]q
    }
  }
}

resource "imagebuild_docker_image" "app" {
  ref     = "%[2]s-app"
  cluster = "reg"
  context = %[3]q
  %[5]s
}

resource "imagebuild_docker_image" "secret" {
  ref     = "%[2]s-secret"
  cluster = "reg"
  context = %[3]q
  secrets = ["id=tok,src=%[4]s"]
  dockerfile_contents = "FROM %[6]s\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /tok.txt && echo $RANDOM$RANDOM > /stamp.txt\n"
}

output "images" {
  value = { for name, image in {app = imagebuild_docker_image.app, secret = imagebuild_docker_image.secret} : name => {
    ref          = image.status.ref
    repo_digest  = image.repo_digest
    input_digest = image.input_digest
    reason       = image.status.completed.reason
    stages       = [for s in image.status.stage_statuses : { name = s.name }]
  } }
}
`, env.Registry, repo, ctxDir, secretFile, setting, env.BaseImage)
}

// TestAccDockerImage_reuseAcrossWorkspaces: the first workspace builds and
// pushes; a second one on the same registry builds nothing and records the
// same status.ref, which runs; a third with reuse_from_registry = false
// builds; an image that reads a secret is built in every workspace and
// never tagged by its inputs.
func TestAccDockerImage_reuseAcrossWorkspaces(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	secretFile := filepath.Join(writeFiles(t, map[string]string{"tok": "s3cret\n"}), "tok")
	// $RANDOM: a build makes a new image, unless the engine's cache has the step.
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY app.txt /app.txt\nRUN sleep 2 && echo $RANDOM$RANDOM > /stamp.txt\n", env.BaseImage),
		"app.txt":    "app\n",
	})

	first, _ := applyWorkspace(t, reuseConfig(env, repo, ctxDir, secretFile, ""))
	app := first["app"]
	if app.reused() || len(app.Stages) < 2 {
		t.Fatalf("first workspace: app was not built: stages %v, reason %q", app.stageNames(), app.Reason)
	}
	inputsRef := inputsTagRef(t, app.Ref, app.InputDigest)
	if status, digest, err := registryManifest(http.MethodHead, inputsRef); err != nil || status != http.StatusOK || !strings.HasSuffix(app.RepoDigest, "@"+digest) {
		t.Fatalf("registry: %s answered %d %q (%v); want the manifest of %s", inputsRef, status, digest, err, app.RepoDigest)
	}
	secretInputs := inputsTagRef(t, first["secret"].Ref, first["secret"].InputDigest)
	if status, _, err := registryManifest(http.MethodHead, secretInputs); err != nil || status != http.StatusNotFound {
		t.Errorf("registry: the secret-reading image is tagged by its inputs (%s answered %d, %v)", secretInputs, status, err)
	}

	second, took := applyWorkspace(t, reuseConfig(env, repo, ctxDir, secretFile, ""))
	reused := second["app"]
	if !reused.reused() {
		t.Errorf("second workspace: app was built: stages %v, reason %q", reused.stageNames(), reused.Reason)
	}
	if reused.Ref != app.Ref || reused.RepoDigest != app.RepoDigest || reused.InputDigest != app.InputDigest {
		t.Errorf("second workspace: app is %s (%s), want the first workspace's %s (%s)", reused.Ref, reused.RepoDigest, app.Ref, app.RepoDigest)
	}
	if !strings.Contains(reused.Reason, inputsRef) {
		t.Errorf("second workspace: reason %q does not name %s", reused.Reason, inputsRef)
	}
	if second["secret"].reused() || len(second["secret"].Stages) < 2 {
		t.Errorf("second workspace: the secret-reading image was not built: stages %v", second["secret"].stageNames())
	}
	// The build alone sleeps 2 s; the whole apply (two resources, one of
	// them built) stays well under what two builds take.
	t.Logf("second workspace applied in %s", took)

	// The adopted ref runs, pulled from the registry.
	want := runPulled(t, app.Ref)
	if got := runPulled(t, reused.Ref); got != want || !strings.Contains(got, "app") {
		t.Errorf("the second workspace's image prints %q, the first's %q", got, want)
	}

	third, _ := applyWorkspace(t, reuseConfig(env, repo, ctxDir, secretFile, "false"))
	if third["app"].reused() || len(third["app"].Stages) < 2 {
		t.Errorf("reuse_from_registry = false: app was not built: stages %v, reason %q", third["app"].stageNames(), third["app"].Reason)
	}
}

// inputsTagRef is the inputs tag beside status.ref.
func inputsTagRef(t *testing.T, statusRef, inputDigest string) string {
	t.Helper()
	tag, err := imageref.InputsTag(inputDigest)
	if err != nil {
		t.Fatal(err)
	}
	repo, _, _ := strings.Cut(statusRef, ":tf-")
	return repo + ":" + tag
}

// runPulled removes ref from the engine, then runs it, pulled from its
// registry, and returns what it prints.
func runPulled(t *testing.T, ref string) string {
	t.Helper()
	_, _ = dockerErr("rmi", ref)
	// Standard output only: the pull reports its progress on stderr.
	return strings.TrimSpace(docker(t, "run", "--rm", ref, "sh", "-c", "cat /app.txt /stamp.txt"))
}

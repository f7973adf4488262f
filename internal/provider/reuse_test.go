package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
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
func applyWorkspace(t *testing.T, config string, env ...string) (map[string]reuseOutputs, time.Duration) {
	t.Helper()
	cli := newTerraformCLI(t, "INFO")
	cli.env = append(cli.env, env...)
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
	want := runPulled(t, app.Ref, "/app.txt", "/stamp.txt")
	if got := runPulled(t, reused.Ref, "/app.txt", "/stamp.txt"); got != want || !strings.Contains(got, "app") {
		t.Errorf("the second workspace's image prints %q, the first's %q", got, want)
	}

	third, _ := applyWorkspace(t, reuseConfig(env, repo, ctxDir, secretFile, "false"))
	if third["app"].reused() || len(third["app"].Stages) < 2 {
		t.Errorf("reuse_from_registry = false: app was not built: stages %v, reason %q", third["app"].stageNames(), third["app"].Reason)
	}
}

// TestAccDockerImage_reuseOnTLSRegistryWithAuth: the look-up and the tags
// go through the registry's API with the provider's registry_auth and the
// engine's certs.d trust, as pushes do.
func TestAccDockerImage_reuseOnTLSRegistryWithAuth(t *testing.T) {
	env := requireTestEnv(t)
	reg := requireTLSRegistry(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo $RANDOM$RANDOM > /s.txt\n", env.BaseImage)})
	auth := fmt.Sprintf("registry_auth {\n    address  = %q\n    username = %q\n    password = %q\n  }", reg.host, reg.user, reg.password)
	config := tlsRegistryConfig(reg, auth, uniqueRepo(t), ctxDir) + `
output "images" {
  value = { app = {
    ref          = imagebuild_docker_image.test.status.ref
    repo_digest  = imagebuild_docker_image.test.repo_digest
    input_digest = imagebuild_docker_image.test.input_digest
    reason       = imagebuild_docker_image.test.status.completed.reason
    stages       = [for s in imagebuild_docker_image.test.status.stage_statuses : { name = s.name }]
  } }
}
`
	noLogins := "DOCKER_CONFIG=" + t.TempDir()
	first, _ := applyWorkspace(t, config, noLogins)
	second, _ := applyWorkspace(t, config, noLogins)
	if first["app"].reused() || !second["app"].reused() || second["app"].Ref != first["app"].Ref {
		t.Errorf("first %s (stages %v), second %s (stages %v, reason %q): want the second to reuse the first",
			first["app"].Ref, first["app"].stageNames(), second["app"].Ref, second["app"].stageNames(), second["app"].Reason)
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
// registry, and returns what cat prints of files.
func runPulled(t *testing.T, ref string, files ...string) string {
	t.Helper()
	_, _ = dockerErr("rmi", ref)
	// Standard output only: the pull reports its progress on stderr.
	return strings.TrimSpace(docker(t, append([]string{"run", "--rm", ref, "cat"}, files...)...))
}

// TestAccBuilder_reuseAcrossWorkspaces: an index of two platforms that a
// builder pushed is adopted by a workspace whose builder is another daemon;
// its status.ref is the first workspace's (tf- of the index digest).
func TestAccBuilder_reuseAcrossWorkspaces(t *testing.T) {
	env := requireBuildKit(t)
	repo := uniqueRepo(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY app.txt /app.txt\nRUN echo $RANDOM$RANDOM > /stamp.txt\n", env.RegistryBaseImage),
		"app.txt":    fmt.Sprintf("app %d\n", time.Now().UnixNano()),
	})
	config := func(daemon string) string {
		return oneBuilderProvider(t, env.Registry, daemon) + fmt.Sprintf(`
resource "imagebuild_docker_image" "app" {
  ref       = %q
  cluster   = "reg"
  context   = %q
  builder   = "one"
  platforms = ["linux/amd64", "linux/386"]
}

output "images" {
  value = { app = {
    ref          = imagebuild_docker_image.app.status.ref
    repo_digest  = imagebuild_docker_image.app.repo_digest
    input_digest = imagebuild_docker_image.app.input_digest
    reason       = imagebuild_docker_image.app.status.completed.reason
    stages       = [for s in imagebuild_docker_image.app.status.stage_statuses : { name = s.name }]
  } }
}
`, repo, ctxDir)
	}
	first, _ := applyWorkspace(t, config(env.a))
	second, _ := applyWorkspace(t, config(env.b))
	built, reused := first["app"], second["app"]
	if built.reused() || len(built.Stages) < 2 {
		t.Fatalf("first workspace: not built: stages %v, reason %q", built.stageNames(), built.Reason)
	}
	if !reused.reused() || reused.Ref != built.Ref || reused.RepoDigest != built.RepoDigest {
		t.Errorf("second workspace: %s (%s), stages %v, reason %q; want %s (%s) reused",
			reused.Ref, reused.RepoDigest, reused.stageNames(), reused.Reason, built.Ref, built.RepoDigest)
	}
	if _, digest, _ := strings.Cut(built.RepoDigest, "@"); !strings.HasSuffix(built.Ref, ":tf-"+strings.TrimPrefix(digest, "sha256:")[:16]) {
		t.Errorf("status.ref %s is not the content tag of %s", built.Ref, built.RepoDigest)
	}
}

// TestAccCmdImage_reuseAcrossWorkspaces: a command's pushed image is adopted
// by a second workspace without running the command; one with secret_env
// runs in every workspace.
func TestAccCmdImage_reuseAcrossWorkspaces(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	runs := filepath.Join(t.TempDir(), "runs")
	script := hclString(fmt.Sprintf(importScript, fmt.Sprintf(`echo "$NAME" >> %q; date +%%s%%N > "$ROOT/stamp.txt"`, runs)))
	// secret_env is write-only: a client before Terraform 1.11 cannot set
	// it, so there the write-only half of the test has nothing to show.
	withSecret, _ := cliHasWriteOnly(t)
	secretResource, images, wantRuns := "", "app = imagebuild_cmd_image.app", "app"
	if withSecret {
		secretResource = fmt.Sprintf(`
resource "imagebuild_cmd_image" "secret" {
  ref        = "%s-secret"
  cluster    = "reg"
  env        = { NAME = "secret" }
  secret_env = { TOKEN = var.token }
  args       = ["sh", "-c", %s]
}
`, repo, script)
		images, wantRuns = "app = imagebuild_cmd_image.app, secret = imagebuild_cmd_image.secret", "app,secret,secret"
	}
	config := fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "reg"
    registry {
      host = %[1]q
    }
  }
}

variable "token" {
  type      = string
  default   = "s3cret"
  sensitive = true
}

resource "imagebuild_cmd_image" "app" {
  ref     = "%[2]s-app"
  cluster = "reg"
  env     = { NAME = "app" }
  args    = ["sh", "-c", %[3]s]
}

%[4]s
output "images" {
  value = { for name, image in {%[5]s} : name => {
    ref          = image.status.ref
    repo_digest  = image.repo_digest
    input_digest = image.input_digest
    reason       = image.status.completed.reason
  } }
}
`, env.Registry, repo, script, secretResource, images)
	first, _ := applyWorkspace(t, config)
	second, _ := applyWorkspace(t, config)
	got := readLines(t, runs)
	sort.Strings(got)
	if strings.Join(got, ",") != wantRuns {
		t.Errorf("the commands ran for %v, want %s: app once and secret in each workspace", got, wantRuns)
	}
	if r := second["app"]; r.Ref != first["app"].Ref || r.RepoDigest != first["app"].RepoDigest || !strings.Contains(r.Reason, reuseStagePrefix) {
		t.Errorf("second workspace: app is %s (%s), reason %q; want %s reused", r.Ref, r.RepoDigest, r.Reason, first["app"].Ref)
	}
	if withSecret && (second["secret"].Ref == first["secret"].Ref || strings.Contains(second["secret"].Reason, reuseStagePrefix)) {
		t.Errorf("second workspace: the secret_env image was reused: %s, reason %q", second["secret"].Ref, second["secret"].Reason)
	}
	if got := runPulled(t, second["app"].Ref, "/stamp.txt"); got == "" {
		t.Errorf("the adopted image prints nothing")
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(raw))
}

// TestAccDockerImage_buildOnReusedBase: a workspace adopts the base image,
// which its engine does not hold, and builds its own app on it through
// image_maps: the build pulls the base from the registry.
func TestAccDockerImage_buildOnReusedBase(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	baseDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo base-$RANDOM$RANDOM > /base.txt\n", env.BaseImage),
	})
	config := func(workspace string) string {
		return fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "reg"
    registry {
      host = %[1]q
    }
  }
}

resource "imagebuild_docker_image" "base" {
  ref     = "%[2]s-base"
  cluster = "reg"
  context = %[3]q
}

resource "imagebuild_docker_image" "app" {
  ref                 = "%[2]s-app"
  cluster             = "reg"
  context             = %[3]q
  image_maps          = [imagebuild_docker_image.base.status.ref]
  dockerfile_contents = "FROM %[2]s-base\nRUN echo %[4]s > /workspace.txt\n"
}

output "images" {
  value = { for name, image in {base = imagebuild_docker_image.base, app = imagebuild_docker_image.app} : name => {
    ref          = image.status.ref
    repo_digest  = image.repo_digest
    input_digest = image.input_digest
    reason       = image.status.completed.reason
    stages       = [for s in image.status.stage_statuses : { name = s.name }]
  } }
}
`, env.Registry, repo, baseDir, workspace)
	}
	first, _ := applyWorkspace(t, config("staging"))
	// The engine forgets the base: the second workspace's build must pull it.
	docker(t, "rmi", first["base"].Ref, first["app"].Ref)
	second, _ := applyWorkspace(t, config("production"))
	if !second["base"].reused() || second["base"].Ref != first["base"].Ref {
		t.Errorf("second workspace: base %s, stages %v; want %s reused", second["base"].Ref, second["base"].stageNames(), first["base"].Ref)
	}
	if second["app"].reused() || second["app"].Ref == first["app"].Ref {
		t.Errorf("second workspace: app %s, stages %v; want its own build", second["app"].Ref, second["app"].stageNames())
	}
	want := strings.TrimSpace(docker(t, "run", "--rm", first["base"].Ref, "cat", "/base.txt")) + "\nproduction"
	if got := runPulled(t, second["app"].Ref, "/base.txt", "/workspace.txt"); got != want {
		t.Errorf("the second workspace's app prints %q, want %q", got, want)
	}
}

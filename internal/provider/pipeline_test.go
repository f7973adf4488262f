package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// The pipeline patterns of Terraform's contract: a step of the same apply
// writes into a context, a provider value comes from another resource, a
// plan runs where there is no engine, a lint job validates without secrets,
// and an upgrade of the provider rebuilds nothing.

const testGenImage = "imagebuild_cmd_image.gen"

// generatorConfig is a terraform_data generator that writes content into
// ctxDir/gen.txt with local-exec, a docker_image and a cmd_image that copy
// that file, both either depending on the generator (depends_on) or
// triggered by it (triggers).
func generatorConfig(t *testing.T, ctxDir, content string, triggered bool) string {
	link := "depends_on = [terraform_data.gen]"
	if triggered {
		link = "triggers   = { gen = terraform_data.gen.id }"
	}
	script := fmt.Sprintf(importScript, fmt.Sprintf(`cp %q "$ROOT/gen.txt"`, filepath.Join(ctxDir, "gen.txt")))
	return fmt.Sprintf(`
resource "terraform_data" "gen" {
  triggers_replace = %[1]q
  provisioner "local-exec" {
    command = "printf '%%s\\n' '%[1]s' > '%[2]s/gen.txt'"
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = "%[3]s-docker"
  context = %[2]q
  %[4]s
}

resource "imagebuild_cmd_image" "gen" {
  ref  = "%[3]s-cmd"
  args = ["sh", "-c", %[5]s]
  deps = [%[2]q]
  %[4]s
}
`, content, ctxDir, uniqueRepo(t), link, hclString(script))
}

func generatorContext(t *testing.T) string {
	env := requireTestEnv(t)
	// gen.txt does not exist at plan time: the generator writes it during
	// the apply, before the images that depend on it build.
	return writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY gen.txt /gen.txt\n", env.BaseImage),
	})
}

func TestAccPipeline_generatorWithDependsOn(t *testing.T) {
	ctxDir := generatorContext(t)
	var dockerRef, cmdRef string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&dockerRef, &cmdRef),
		Steps: []resource.TestStep{{
			// The plan after the apply, which the framework runs, must be empty.
			Config: generatorConfig(t, ctxDir, "generation 1", false),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(testImage, tfjsonpath.New("input_digest")),
				plancheck.ExpectUnknownValue(testGenImage, tfjsonpath.New("input_digest")),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, "generation 1", "cat", "/gen.txt"),
				checkRun(testGenImage, "generation 1", "cat", "/gen.txt"),
				resource.TestMatchResourceAttr(testImage, "input_digest", regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)),
				saveAttr(testImage, "status.ref", &dockerRef),
				saveAttr(testGenImage, "status.ref", &cmdRef),
			),
		}, {
			Config:           generatorConfig(t, ctxDir, "generation 1", false),
			ConfigPlanChecks: expectNoChange(),
		}},
	})
}

func TestAccPipeline_generatorWithTriggers(t *testing.T) {
	ctxDir := generatorContext(t)
	var dockerRef, cmdRef, firstDocker, firstCmd string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&dockerRef, &cmdRef),
		Steps: []resource.TestStep{{
			Config: generatorConfig(t, ctxDir, "generation 1", true),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, "generation 1", "cat", "/gen.txt"),
				checkRun(testGenImage, "generation 1", "cat", "/gen.txt"),
				saveAttr(testImage, "status.ref", &firstDocker),
				saveAttr(testGenImage, "status.ref", &firstCmd),
			),
		}, {
			// A new generation: the generator is replaced, its id is unknown
			// at plan, so both images plan a build, and the build in that same
			// apply takes what the generator wrote.
			Config: generatorConfig(t, ctxDir, "generation 2", true),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(testImage, plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction(testGenImage, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(testImage, tfjsonpath.New("input_digest")),
				plancheck.ExpectUnknownValue(testGenImage, tfjsonpath.New("status")),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, "generation 2", "cat", "/gen.txt"),
				checkRun(testGenImage, "generation 2", "cat", "/gen.txt"),
				resource.TestCheckResourceAttr(testImage, "status.completed.reason", "inputs changed: context files, triggers"),
				resource.TestCheckResourceAttr(testGenImage, "status.completed.reason", "inputs changed: deps, triggers"),
				checkPreviousRefGone(testImage, &firstDocker),
				checkPreviousRefGone(testGenImage, &firstCmd),
				saveAttr(testImage, "status.ref", &dockerRef),
				saveAttr(testGenImage, "status.ref", &cmdRef),
			),
		}, {
			Config:           generatorConfig(t, ctxDir, "generation 2", true),
			ConfigPlanChecks: expectNoChange(),
		}},
	})
}

// The cluster's registry host is another resource's output, unknown at the
// first plan: the image is built and pushed there in the same apply.
func TestAccPipeline_registryHostFromAnotherResource(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo pushed > /pushed.txt\n", env.BaseImage),
	})
	config := fmt.Sprintf(`
resource "terraform_data" "registry" {
  input = %q
}

provider "imagebuild" {
  cluster {
    name = "dev"
    registry {
      host = terraform_data.registry.output
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "dev"
}
`, env.Registry, uniqueRepo(t), ctxDir)
	wantRef := regexp.MustCompile("^" + regexp.QuoteMeta(env.Registry+"/"+strings.ReplaceAll(uniqueRepo(t), "/", "_")) + `:tf-[0-9a-f]{16}$`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(testImage, tfjsonpath.New("input_digest")),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testImage, "status.ref", wantRef),
				checkInRegistry(testImage),
				checkRun(testImage, "pushed", "cat", "/pushed.txt"),
			),
		}, {
			Config:           config,
			ConfigPlanChecks: expectNoChange(),
		}},
	})
}

// A plan with existing resources where the engine cannot be reached (a CI
// plan job without Docker) succeeds and warns, naming the engine.
func TestAccPipeline_planWithoutEngine(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo one > /one.txt\n", env.BaseImage)})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}

resource "imagebuild_cmd_image" "test" {
  ref  = "%[1]s-cmd"
  args = ["sh", "-c", "docker tag %[3]s \"$EXPECTED_REF\""]
}
`, uniqueRepo(t), ctxDir, env.BaseImage))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	withEngine := cli.env
	t.Cleanup(func() {
		cli.env = withEngine
		cli.run("destroy", "-auto-approve", "-no-color")
	})

	nowhere := "unix://" + filepath.Join(t.TempDir(), "no-engine.sock")
	cli.env = append(slices.Clip(withEngine), "DOCKER_HOST="+nowhere)
	out, err := cli.run("plan", "-detailed-exitcode", "-no-color")
	if err != nil {
		t.Fatalf("plan without an engine failed (%v), want exit 0 and a warning:\n%s", err, out)
	}
	if !strings.Contains(out, "Warning: Cannot check the built image") || !strings.Contains(out, nowhere) {
		t.Errorf("plan output has no warning naming %s:\n%s", nowhere, out)
	}
	if !strings.Contains(out, "No changes") {
		t.Errorf("plan without an engine is not empty:\n%s", out)
	}
}

// terraform validate needs no files, variables or secrets; plan checks
// them, on the attribute.
func TestAccPipeline_validateNeedsNoFilesOrSecrets(t *testing.T) {
	requireTestEnv(t)
	missing := filepath.Join(t.TempDir(), "missing")
	const unset = "IMAGEBUILD_PIPELINE_UNSET_SECRET"
	os.Unsetenv(unset)
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = "pipeline/validate"
  context = %[1]q
  secrets = ["id=token,env=%[2]s", "id=npmrc,src=%[1]s/npmrc"]
}

resource "imagebuild_cmd_image" "test" {
  ref  = "pipeline/validate-cmd"
  args = ["true"]
  dir  = %[1]q
  deps = ["%[1]s/go.sum"]
}
`, missing, unset))
	if out, err := cli.run("validate", "-no-color"); err != nil {
		t.Fatalf("terraform validate failed without files and variables (%v):\n%s", err, out)
	}
	out, err := cli.run("plan", "-no-color")
	if err == nil {
		t.Fatalf("plan succeeded with a missing context, secret file and variable:\n%s", out)
	}
	for _, want := range []string{
		unset, "Secret not available", `secrets = ["id=token`, "npmrc",
		"Build context not found", "context = ",
		"Working directory not found", "Dependency not found", "go.sum",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan errors do not mention %q:\n%s", want, out)
		}
	}
}

// upgradeBaseCommit is the first commit of the canonical input digest
// (schema version 1): state written by any later version must plan nothing
// with the current one. State of version 0 (before it) is rebuilt once.
const upgradeBaseCommit = "c381375"

// TestAccPipeline_upgradeRebuildsNothing applies with the provider built
// from upgradeBaseCommit and plans with this tree's: the plan is empty.
func TestAccPipeline_upgradeRebuildsNothing(t *testing.T) {
	env := requireTestEnv(t)
	oldBin := buildProviderAt(t, upgradeBaseCommit)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile":    fmt.Sprintf("FROM %s\nARG NOTE\nCOPY app.txt /app.txt\nRUN echo $NOTE > /note.txt\n", env.BaseImage),
		"app.txt":       "app\n",
		".dockerignore": "*.md\n",
	})
	deps := writeFiles(t, map[string]string{"main.go": "package main\n"})
	cli := newTerraformCLI(t, "")
	cli.useProvider(oldBin)
	cli.writeConfig(fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "dev"
    registry {
      host              = %[4]q
      host_from_cluster = "registry.dev:5000"
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref           = %[1]q
  context       = %[2]q
  args          = ["NOTE=upgrade"]
  extra_tags    = ["%[1]s:stable"]
  cluster       = "dev"
  cluster_needs = "base-image" # the base commit cannot read Docker 29's containerd-store push
  triggers      = { release = "1" }
}

resource "imagebuild_cmd_image" "test" {
  ref        = "%[1]s-cmd"
  args       = ["sh", "-c", "docker tag %[3]s \"$EXPECTED_REF\""]
  env        = { MODE = "release" }
  deps       = [%[5]q]
  image_maps = [imagebuild_docker_image.test.status.ref]
}
`, uniqueRepo(t), ctxDir, env.BaseImage, env.Registry, deps))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })

	newBin, err := providerBinary()
	if err != nil {
		t.Fatal(err)
	}
	cli.useProvider(newBin)
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("the plan after upgrading from %s is not empty (%v):\n%s", upgradeBaseCommit, err, out)
	}
}

// TestAccPipeline_upgradePushesNeverPushedRef: an image whose ref names a
// registry, built (and never pushed) by a provider from before such refs were
// pushed without a cluster registry, is planned once for a build with the
// reason "not pushed", and pushed; an image with a local ref plans nothing.
func TestAccPipeline_upgradePushesNeverPushedRef(t *testing.T) {
	env := requireTestEnv(t)
	oldBin := buildProviderAt(t, upgradeBaseCommit)
	pushed := fmt.Sprintf("%s/team/%s", env.Registry, uniqueRepo(t))
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo upgraded > /u.txt\n", env.BaseImage)})
	cli := newTerraformCLI(t, "")
	cli.useProvider(oldBin)
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "pushed" {
  ref     = %q
  context = %q
}

resource "imagebuild_docker_image" "local" {
  ref     = "%s-local"
  context = %q
}

output "ref" {
  value = imagebuild_docker_image.pushed.status.ref
}
`, pushed, ctxDir, uniqueRepo(t), ctxDir))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })
	before := strings.TrimSpace(cli.mustRun("output", "-raw", "ref"))
	if status, _, err := registryManifest(http.MethodHead, before); err != nil || status != http.StatusNotFound {
		t.Fatalf("the provider at %s pushed %s (%d, %v); this test needs one that did not", upgradeBaseCommit, before, status, err)
	}

	newBin, err := providerBinary()
	if err != nil {
		t.Fatal(err)
	}
	cli.useProvider(newBin)
	out, err := cli.run("plan", "-detailed-exitcode", "-no-color")
	if err == nil || !strings.Contains(out, "imagebuild_docker_image.pushed will be updated in-place") ||
		strings.Contains(out, "imagebuild_docker_image.local will be") {
		t.Fatalf("want an update of the never-pushed image only (%v):\n%s", err, out)
	}
	cli.mustRun("apply", "-auto-approve", "-no-color")
	after := strings.TrimSpace(cli.mustRun("output", "-raw", "ref"))
	if status, _, err := registryManifest(http.MethodHead, after); err != nil || status != http.StatusOK {
		t.Errorf("after the upgrade's apply, the registry answers %d (%v) for %s; want it pushed", status, err, after)
	}
	if show := cli.mustRun("state", "show", "-no-color", "imagebuild_docker_image.pushed"); !regexp.MustCompile(`reason\s*=\s*"not pushed"`).MatchString(show) {
		t.Errorf("want status.completed.reason \"not pushed\":\n%s", show)
	}
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("the plan after the push is not empty (%v):\n%s", err, out)
	}
}

// secretEnvHashCommit is the last commit that digested secret_env values
// (a keyed hash, with the key in private state).
const secretEnvHashCommit = "a57000c"

// TestAccPipeline_upgradeKeepsSecretEnvState applies a cmd_image with
// secret_env with the provider that digested its values, and upgrades: the
// plan is empty (the retired hash alone rebuilds nothing), the next apply
// drops the digest key from private state, and only a secret_env_version
// then plans a rebuild.
func TestAccPipeline_upgradeKeepsSecretEnvState(t *testing.T) {
	env := requireTestEnv(t)
	requireWriteOnlyClient(t)
	oldBin := buildProviderAt(t, secretEnvHashCommit)
	repo := uniqueRepo(t)
	cli := newTerraformCLI(t, "")
	cli.env = append(cli.env, "TF_VAR_token=upgrade-secret-0123456789")
	config := func(version string) string {
		return fmt.Sprintf(`
variable "token" {
  type      = string
  ephemeral = true
}

resource "imagebuild_cmd_image" "test" {
  ref        = %q
  args       = ["sh", "-c", "docker tag %s \"$EXPECTED_REF\""]
  secret_env = { TOKEN = var.token }%s
}
`, repo, env.BaseImage, version)
	}
	base := config("")
	cli.useProvider(oldBin)
	cli.writeConfig(base)
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })
	if !strings.Contains(statePrivate(t, cli), `"digest key"`) {
		t.Fatalf("the provider at %s kept no digest key in private state; this test needs one that did", secretEnvHashCommit)
	}

	newBin, err := providerBinary()
	if err != nil {
		t.Fatal(err)
	}
	cli.useProvider(newBin)
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("the plan after upgrading from %s is not empty (%v):\n%s", secretEnvHashCommit, err, out)
	}
	cli.mustRun("apply", "-auto-approve", "-no-color")
	if private := statePrivate(t, cli); strings.Contains(private, `"digest key"`) || !strings.Contains(private, "inputs/v1") {
		t.Errorf("private state after an apply with this provider: %s; want the inputs without the digest key", private)
	}
	expectEmptyPlan(t, cli)

	cli.writeConfig(config("\n  secret_env_version = \"1\""))
	out, err := cli.run("plan", "-detailed-exitcode", "-no-color")
	if err == nil || !strings.Contains(out, "imagebuild_cmd_image.test will be updated in-place") {
		t.Fatalf("setting secret_env_version planned no rebuild (%v):\n%s", err, out)
	}
	cli.mustRun("apply", "-auto-approve", "-no-color")
	if show := cli.mustRun("state", "show", "-no-color", "imagebuild_cmd_image.test"); !regexp.MustCompile(`reason\s*=\s*"inputs changed: secret_env_version"`).MatchString(show) {
		t.Errorf("want status.completed.reason \"inputs changed: secret_env_version\":\n%s", show)
	}
	expectEmptyPlan(t, cli)
}

// statePrivate is the private state of the resources in cli's state,
// decoded, one resource a line.
func statePrivate(t *testing.T, cli *terraformCLI) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(cli.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Instances []struct {
				Private string `json:"private"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range state.Resources {
		for _, i := range r.Instances {
			private, err := base64.StdEncoding.DecodeString(i.Private)
			if err != nil {
				t.Fatalf("private state is not base64: %v", err)
			}
			out = append(out, string(private))
		}
	}
	return strings.Join(out, "\n")
}

// version0Commit is the last commit whose state is schema version 0, with
// the input digest of the earlier scheme.
const version0Commit = "fc66b14"

// TestAccPipeline_upgradeFromVersion0 applies with the provider of schema
// version 0 and upgrades: the state upgrades without error, each image is
// rebuilt once (the digest scheme changed before any release), and the plan
// after that is empty.
func TestAccPipeline_upgradeFromVersion0(t *testing.T) {
	env := requireTestEnv(t)
	oldBin := buildProviderAt(t, version0Commit)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo v0 > /v0.txt\n", env.BaseImage)})
	cli := newTerraformCLI(t, "")
	cli.useProvider(oldBin)
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %[1]q
  context = %[2]q
}

resource "imagebuild_cmd_image" "test" {
  ref  = "%[1]s-cmd"
  args = ["sh", "-c", "docker tag %[3]s \"$EXPECTED_REF\""]
}
`, uniqueRepo(t), ctxDir, env.BaseImage))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })

	newBin, err := providerBinary()
	if err != nil {
		t.Fatal(err)
	}
	cli.useProvider(newBin)
	out := cli.mustRun("apply", "-auto-approve", "-no-color")
	if !strings.Contains(out, "2 changed, 0 destroyed") {
		t.Errorf("upgrading from schema version 0: want both images rebuilt in place once:\n%s", out)
	}
	expectEmptyPlan(t, cli)
}

// buildProviderAt builds the provider as it was at commit, from a git
// worktree of this checkout.
func buildProviderAt(t *testing.T, commit string) string {
	t.Helper()
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v (the upgrade test needs the project's git history)", err)
	}
	repo := strings.TrimSpace(string(top))
	if out, err := exec.Command("git", "-C", repo, "cat-file", "-e", commit+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("commit %s is not in %s (%v: %s): the upgrade test needs the full history (git fetch --unshallow)", commit, repo, err, out)
	}
	tree := filepath.Join(t.TempDir(), "tree")
	if out, err := exec.Command("git", "-C", repo, "worktree", "add", "--detach", tree, commit).CombinedOutput(); err != nil {
		t.Fatalf("git worktree add %s: %v\n%s", commit, err, out)
	}
	t.Cleanup(func() { exec.Command("git", "-C", repo, "worktree", "remove", "--force", tree).Run() })
	bin := filepath.Join(t.TempDir(), "terraform-provider-imagebuild")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = tree
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build at %s: %v\n%s", commit, err, out)
	}
	return bin
}

// Two images on one context with a generator between them in one apply. The
// plan walk shares one walk of the context between the two images; the
// apply walk must not: image a re-plans (and turns out unchanged) before the
// generator writes, image b re-plans after it and must see what it wrote.
func TestAccPipeline_generatorBetweenImagesOfOneContext(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"app.txt": "app\n", "gen.txt": "generation 0\n"})
	config := func(generation string) string {
		return fmt.Sprintf(`
resource "terraform_data" "pre" {
  triggers_replace = %[1]q
  input            = "same"
}

resource "imagebuild_docker_image" "a" {
  ref                 = "%[2]s-a"
  context             = %[3]q
  dockerfile_contents = "FROM %[4]s\nCOPY app.txt /app.txt\n"
  triggers            = { pre = terraform_data.pre.output }
}

resource "terraform_data" "gen" {
  triggers_replace = %[1]q
  input            = "same"
  depends_on       = [imagebuild_docker_image.a]
  provisioner "local-exec" {
    command = "printf '%%s\\n' '%[1]s' > '%[3]s/gen.txt'"
  }
}

resource "imagebuild_docker_image" "b" {
  ref                 = "%[2]s-b"
  context             = %[3]q
  dockerfile_contents = "FROM %[4]s\nCOPY gen.txt /gen.txt\n"
  triggers            = { gen = terraform_data.gen.output }
}
`, generation, uniqueRepo(t), ctxDir, env.BaseImage)
	}
	const a, b = "imagebuild_docker_image.a", "imagebuild_docker_image.b"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// a was built before the generator wrote: it is behind.
				Config:             config("generation 1"),
				Check:              checkRun(b, "generation 1", "cat", "/gen.txt"),
				ExpectNonEmptyPlan: true,
			},
			{Config: config("generation 1")},
			{
				Config: config("generation 2"),
				Check:  checkRun(b, "generation 2", "cat", "/gen.txt"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(a, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(b, plancheck.ResourceActionUpdate),
					},
					// b recorded the digest of what it built; a is behind again.
					PostApplyPostRefresh: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(b, plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction(a, plancheck.ResourceActionUpdate),
					},
				},
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

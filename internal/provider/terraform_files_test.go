package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Terraform beside its Dockerfile (context = path.module): what Terraform
// writes there (state, its backup and lock, .terraform/, a saved plan) is
// neither sent nor digested, so applies in a row rebuild nothing and the image holds no
// state, even with a .dockerignore that re-includes terraform.tfstate.

// besideDockerfile is how a test of Terraform beside its Dockerfile builds
// and runs the image: the provider block, the resource's extra arguments,
// the base image and how to run the built ref.
type besideDockerfile struct {
	provider, extra, base string
	run                   func(t *testing.T, ref string, cmd ...string) string
}

func runLocal(t *testing.T, ref string, cmd ...string) string {
	return docker(t, append([]string{"run", "--rm", ref}, cmd...)...)
}

func pullAndRun(t *testing.T, ref string, cmd ...string) string {
	docker(t, "pull", "-q", ref)
	t.Cleanup(func() { dockerErr("rmi", ref) })
	return runLocal(t, ref, cmd...)
}

func testTerraformBesideDockerfile(t *testing.T, b besideDockerfile) {
	for name, ignore := range map[string]string{"without dockerignore": "", "dockerignore reincludes the state": "*.md\n!terraform.tfstate\n!.terraform\n"} {
		t.Run(name, func(t *testing.T) {
			cli := newTerraformCLI(t, "")
			files := map[string]string{
				"Dockerfile": fmt.Sprintf("FROM %s\nCOPY . /app\n", b.base),
				"app.txt":    "one\n",
				// What `terraform init` leaves (the CLI helper needs no init).
				".terraform/environment": "default\n",
			}
			if ignore != "" {
				files[".dockerignore"] = ignore
			}
			if err := os.MkdirAll(filepath.Join(cli.dir, ".terraform"), 0o755); err != nil {
				t.Fatal(err)
			}
			for p, content := range files {
				writeFile(t, filepath.Join(cli.dir, p), content)
			}
			cli.writeConfig(b.provider + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = path.module
%s
}

output "ref" {
  value = imagebuild_docker_image.test.status.ref
}
`, uniqueRepo(t), b.extra))
			cli.mustRun("apply", "-auto-approve", "-no-color")
			t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })
			// A change of a real file rebuilds, now with the state (and, during
			// the apply, its lock) beside the Dockerfile, through a saved plan
			// as CI applies: the plan file is there during the apply too.
			writeFile(t, filepath.Join(cli.dir, "app.txt"), "two\n")
			cli.mustRun("plan", "-out=tfplan", "-no-color")
			if out := cli.mustRun("apply", "-no-color", "tfplan"); !strings.Contains(out, "1 changed") {
				t.Fatalf("a changed app.txt did not rebuild:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(cli.dir, "terraform.tfstate.backup")); err != nil {
				t.Fatalf("the test needs Terraform's files beside the Dockerfile: %v", err)
			}
			for i := range 3 {
				// Each plan writes the plan file anew, with other contents.
				if out, err := cli.run("plan", "-out=tfplan", "-detailed-exitcode", "-no-color"); err != nil {
					t.Fatalf("plan %d after the apply is not empty (%v):\n%s", i+1, err, out)
				}
				if out := cli.mustRun("apply", "-auto-approve", "-no-color"); !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
					t.Fatalf("apply %d changed something:\n%s", i+1, out)
				}
			}
			ref := strings.TrimSpace(cli.mustRun("output", "-raw", "ref"))
			listing := b.run(t, ref, "ls", "-a", "/app")
			for _, want := range []string{"Dockerfile", "app.txt", "main.tf"} {
				if !strings.Contains(listing, want) {
					t.Errorf("the image's /app lacks %s: %q", want, listing)
				}
			}
			for _, name := range strings.Fields(listing) {
				if name == "terraform.tfstate" || name == "terraform.tfstate.backup" || name == ".terraform.tfstate.lock.info" || name == ".terraform" || name == "tfplan" {
					t.Errorf("the image holds /app/%s: %q", name, listing)
				}
			}
			if got := b.run(t, ref, "cat", "/app/app.txt"); strings.TrimSpace(got) != "two" {
				t.Errorf("/app/app.txt = %q, want two", got)
			}
		})
	}
}

func TestAccTerraformFiles_besideDockerfileOnTheEngine(t *testing.T) {
	env := requireTestEnv(t)
	testTerraformBesideDockerfile(t, besideDockerfile{base: env.BaseImage, run: runLocal})
}

func TestAccTerraformFiles_besideDockerfileOnABuilder(t *testing.T) {
	env := requireBuildKit(t)
	testTerraformBesideDockerfile(t, besideDockerfile{
		provider: oneBuilderProvider(t, env.Registry, env.b),
		extra:    "  cluster = \"reg\"\n  builder = \"one\"",
		base:     env.RegistryBaseImage,
		run:      pullAndRun,
	})
}

// cmd_image deps: a directory's .git, Terraform's files and what ignore
// excludes rebuild nothing; a real file does.
func TestAccTerraformFiles_cmdImageDeps(t *testing.T) {
	env := requireTestEnv(t)
	deps := writeFiles(t, map[string]string{
		"src/main.go": "package main\n", ".git/HEAD": "ref: refs/heads/main\n", "terraform.tfstate": "{}",
		"build.log": "1\n", "infra/.terraform/environment": "default\n",
	})
	config := fmt.Sprintf(`
resource "imagebuild_cmd_image" "gen" {
  ref    = %q
  args   = ["sh", "-c", "docker tag %s \"$EXPECTED_REF\""]
  deps   = [%q]
  ignore = ["*.log"]
}
`, uniqueRepo(t), env.BaseImage, deps)
	edit := func(files map[string]string) func() {
		return func() {
			for p, content := range files {
				writeFile(t, filepath.Join(deps, p), content)
			}
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: config,
		}, {
			PreConfig: edit(map[string]string{
				".git/HEAD": "ref: refs/heads/other\n", ".git/FETCH_HEAD": "abc\n", "terraform.tfstate": `{"serial":2}`,
				"terraform.tfstate.backup": "{}", "build.log": "2\n", "infra/.terraform/modules.json": "{}",
			}),
			Config:           config,
			ConfigPlanChecks: expectNoChange(),
		}, {
			PreConfig: edit(map[string]string{"src/main.go": "package main // changed\n"}),
			Config:    config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(testGenImage, plancheck.ResourceActionUpdate),
			}},
			Check: resource.TestCheckResourceAttr(testGenImage, "status.completed.reason", "inputs changed: deps"),
		}},
	})
}

// A context that sends .git: the plan warns, naming it and the line for
// .dockerignore; with .git in .dockerignore it does not.
func TestAccTerraformFiles_gitWarning(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\n", env.BaseImage), ".git/HEAD": "ref: refs/heads/main\n",
	})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}
`, uniqueRepo(t), ctxDir))
	// Terraform wraps the warning's lines.
	out := strings.Join(strings.Fields(cli.mustRun("plan", "-no-color")), " ")
	for _, want := range []string{"Warning: The build context sends .git", filepath.Join(ctxDir, ".git"), "add the line `.git` to " + filepath.Join(ctxDir, ".dockerignore")} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	writeFile(t, filepath.Join(ctxDir, ".dockerignore"), ".git\n")
	if out := cli.mustRun("plan", "-no-color"); strings.Contains(out, ".git") {
		t.Errorf("with .git in .dockerignore the plan still mentions it:\n%s", out)
	}
}

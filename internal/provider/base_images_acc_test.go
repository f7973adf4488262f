package provider

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// pull = true: a base image pushed anew under the same tag is a change.
// The plan looks the tag up in its registry and plans a rebuild naming the
// base; the rebuild is on the new base; a registry that cannot be reached
// at plan is a warning, and the plan stays empty. pull = false (the second
// resource) sees none of it and asks no registry at plan.
func TestAccDockerImage_pullBaseMoves(t *testing.T) {
	env := requireTestEnv(t)
	host := freeLoopbackAddr(t)
	stopRegistry := startRegistry(t, host)
	base := host + "/imagebuild-acc/base:1"
	pushImageWithMarker(t, env, base, "one")
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "ARG REGISTRY=127.0.0.1:1\nFROM ${REGISTRY}/imagebuild-acc/base:1 AS base\n" +
		"FROM scratch AS unused\nFROM base\nARG WHO\nRUN echo $WHO > /who.txt && cat /marker > /seen.txt\n"})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "moving" {
  ref     = %[1]q
  context = %[2]q
  args    = ["REGISTRY=%[3]s", "WHO=moving"]
  pull    = true
}

resource "imagebuild_docker_image" "fixed" {
  ref     = "%[1]s-fixed"
  context = %[2]q
  args    = ["REGISTRY=%[3]s", "WHO=fixed"]
}

output "moving" { value = imagebuild_docker_image.moving.status.ref }
output "fixed"  { value = imagebuild_docker_image.fixed.status.ref }
output "reason" { value = imagebuild_docker_image.moving.status.completed.reason }
`, uniqueRepo(t), ctxDir, host))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })
	seen := func(output string) string {
		t.Helper()
		return strings.TrimSpace(docker(t, "run", "--rm", strings.TrimSpace(cli.mustRun("output", "-raw", output)), "cat", "/marker"))
	}
	if got := seen("moving"); got != "one" {
		t.Fatalf("built on base %q, want one", got)
	}
	planEmpty := func(when string) string {
		t.Helper()
		out, err := cli.run("plan", "-detailed-exitcode", "-no-color")
		if err != nil || !strings.Contains(out, "No changes") {
			t.Fatalf("plan %s: %v, want exit 0 and no changes:\n%s", when, err, out)
		}
		return out
	}
	planEmpty("after the first apply")

	pushImageWithMarker(t, env, base, "two")
	out, err := cli.run("plan", "-detailed-exitcode", "-no-color")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("plan after the base moved: %v, want exit 2 (changes):\n%s", err, out)
	}
	if !strings.Contains(out, "imagebuild_docker_image.moving will be updated in-place") || strings.Contains(out, "imagebuild_docker_image.fixed will be") {
		t.Errorf("plan after the base moved does not update exactly the pull = true image:\n%s", out)
	}
	if want := fmt.Sprintf("-> %q", "base image "+base+" moved"); !strings.Contains(out, want) {
		t.Errorf("plan after the base moved does not show build_reason %s:\n%s", want, out)
	}
	cli.mustRun("apply", "-auto-approve", "-no-color")
	if got, want := strings.TrimSpace(cli.mustRun("output", "-raw", "reason")), "base image "+base+" moved"; got != want {
		t.Errorf("status.completed.reason = %q, want %q", got, want)
	}
	if got := seen("moving"); got != "two" {
		t.Errorf("rebuilt on base %q, want two", got)
	}
	if got := seen("fixed"); got != "one" {
		t.Errorf("the pull = false image was rebuilt on base %q", got)
	}
	planEmpty("after the rebuild")

	// The registry is gone: a warning naming it, and still no changes.
	stopRegistry()
	out = planEmpty("with the registry stopped")
	if !strings.Contains(out, "Warning: Base image not looked up") || !strings.Contains(out, base) {
		t.Errorf("plan with the registry stopped has no warning naming %s:\n%s", base, out)
	}
	if strings.Contains(out, "with imagebuild_docker_image.fixed") || strings.Contains(out, "similar warning") {
		t.Errorf("the pull = false image warned of its registry:\n%s", out)
	}

	// A listener in the registry's place counts who knocks: a plan of the
	// pull = false image alone knocks never.
	var knocks atomic.Int32
	l, err := net.Listen("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			knocks.Add(1)
			c.Close()
		}
	}()
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color", "-target=imagebuild_docker_image.fixed"); err != nil {
		t.Fatalf("plan of the pull = false image: %v\n%s", err, out)
	}
	if n := knocks.Load(); n != 0 {
		t.Errorf("a plan of the pull = false image connected to its base's registry %d times", n)
	}
	cli.mustRun("plan", "-no-color", "-out=empty.tfplan")
	if knocks.Load() == 0 {
		t.Error("the pull = true image's plan never asked the registry")
	}
	// An apply that builds nothing asks nothing.
	knocks.Store(0)
	cli.mustRun("apply", "-no-color", "empty.tfplan")
	if n := knocks.Load(); n != 0 {
		t.Errorf("an apply with no build planned connected to the registry %d times", n)
	}
}

// On a BuildKit builder (no engine at all), pull = true tracks the base the
// same way: the provider looks the tag up with the build's credentials.
func TestAccBuilder_pullBaseMoves(t *testing.T) {
	env := requireBuildKit(t)
	base := fmt.Sprintf("%s/%s-base:1", env.Registry, uniqueRepo(t))
	pushImageWithMarker(t, env.testEnv, base, "one")
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN cat /marker > /seen.txt\n", base)})
	config := oneBuilderProvider(t, env.Registry, env.a) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = "one"
  pull    = true
}`, uniqueRepo(t), ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config, Check: checkPullAndRun(t, testImage, "one", "cat", "/seen.txt")},
			{Config: config, ConfigPlanChecks: expectNoChange()},
			{
				PreConfig:        func() { pushImageWithMarker(t, env.testEnv, base, "two") },
				Config:           config,
				ConfigPlanChecks: expectInPlaceUpdate(testImage),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "base image "+base+" moved"),
					checkPullAndRun(t, testImage, "two", "cat", "/seen.txt"),
				),
			},
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

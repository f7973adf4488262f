package provider

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

const (
	baseImage = "imagebuild_docker_image.base"
	appImage  = "imagebuild_docker_image.app"
)

// imageMapsSteps: a base and an app on it in one apply; a file of the
// base's context changes, and one apply rebuilds both, the app on the new
// base; the plan after it is empty. run checks the app's /base.txt.
func imageMapsSteps(t *testing.T, config, baseDir string, run func(want string) resource.TestCheckFunc) []resource.TestStep {
	v1 := fmt.Sprintf("base v1 %d", time.Now().UnixNano())
	v2 := fmt.Sprintf("base v2 %d", time.Now().UnixNano())
	bothRebuilt := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(baseImage, plancheck.ResourceActionUpdate),
		plancheck.ExpectResourceAction(appImage, plancheck.ResourceActionUpdate),
	}}
	return []resource.TestStep{
		{
			PreConfig: func() { writeFile(t, filepath.Join(baseDir, "base.txt"), v1+"\n") },
			Config:    config,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(appImage, "status.completed.reason", "created"),
				run(v1),
			),
		},
		{
			PreConfig:        func() { writeFile(t, filepath.Join(baseDir, "base.txt"), v2+"\n") },
			Config:           config,
			ConfigPlanChecks: bothRebuilt,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(baseImage, "status.completed.reason", "inputs changed: context files"),
				resource.TestCheckResourceAttr(appImage, "status.completed.reason", "inputs changed: image_maps"),
				run(v2),
			),
		},
		{Config: config, ConfigPlanChecks: expectNoChange()},
	}
}

// engineImageMapsConfig is a base and an app whose Dockerfile names the
// base's repository as written, with the base's status.ref as image map.
func engineImageMapsConfig(t *testing.T, appDockerfile func(baseRepo string) string) (string, string) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	baseDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nCOPY base.txt /base.txt\n", env.BaseImage)})
	appDir := writeFiles(t, map[string]string{"Dockerfile": appDockerfile(repo + "/base")})
	return fmt.Sprintf(`
resource "imagebuild_docker_image" "base" {
  ref     = "%[1]s/base"
  context = %[2]q
}

resource "imagebuild_docker_image" "app" {
  ref        = "%[1]s/app"
  context    = %[3]q
  image_maps = [imagebuild_docker_image.base.status.ref]
}
`, repo, baseDir, appDir), baseDir
}

// TestAccImageMaps_fromArg: `ARG BASE=<base repo>` and `FROM ${BASE}` build
// on the base built in the same apply, not on <base repo>:latest (which
// does not exist: the build would fail).
func TestAccImageMaps_fromArg(t *testing.T) {
	config, baseDir := engineImageMapsConfig(t, func(baseRepo string) string {
		return fmt.Sprintf("ARG BASE=%s\nFROM --platform=$TARGETPLATFORM ${BASE} AS app\nRUN cp /base.txt /seen.txt\n", baseRepo)
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: imageMapsSteps(t, config, baseDir, func(want string) resource.TestCheckFunc {
			return checkRun(appImage, want, "cat", "/seen.txt")
		}),
	})
}

// TestAccImageMaps_copyFrom: `COPY --from=<base repo>` copies from the base
// built in the same apply.
func TestAccImageMaps_copyFrom(t *testing.T) {
	env := requireTestEnv(t)
	config, baseDir := engineImageMapsConfig(t, func(baseRepo string) string {
		return fmt.Sprintf("FROM %s\nCOPY --from=%s /base.txt /copied.txt\n", env.BaseImage, baseRepo)
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: imageMapsSteps(t, config, baseDir, func(want string) resource.TestCheckFunc {
			return checkRun(appImage, want, "cat", "/copied.txt")
		}),
	})
}

// TestAccImageMaps_builder: on a BuildKit builder, the base is pushed to
// the cluster's registry as <registry>/<escaped repo>; the app's
// `FROM <base repo>` builds on it there.
func TestAccImageMaps_builder(t *testing.T) {
	env := requireBuildKit(t)
	repo := uniqueRepo(t)
	baseDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nCOPY base.txt /base.txt\n", env.RegistryBaseImage)})
	appDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s/base\nRUN cp /base.txt /seen.txt\n", repo)})
	config := oneBuilderProvider(t, env.Registry, env.a) + fmt.Sprintf(`
resource "imagebuild_docker_image" "base" {
  ref     = "%[1]s/base"
  context = %[2]q
  cluster = "reg"
  builder = "one"
}

resource "imagebuild_docker_image" "app" {
  ref        = "%[1]s/app"
  context    = %[3]q
  cluster    = "reg"
  builder    = "one"
  image_maps = [imagebuild_docker_image.base.status.ref]
}
`, repo, baseDir, appDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: imageMapsSteps(t, config, baseDir, func(want string) resource.TestCheckFunc {
			return checkPullAndRun(t, appImage, want, "cat", "/seen.txt")
		}),
	})
}

// TestAccImageMaps_unmatchedWarning: a known map that no FROM or COPY
// --from names is a plan warning on its element; a map that matches (or
// is not known yet) is not.
func TestAccImageMaps_unmatchedWarning(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	dir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("ARG BASE=%s\nFROM ${BASE} AS build\nFROM build\nCOPY --from=%s/tools /t /t\n", env.BaseImage, repo),
	})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "app" {
  ref        = "%[1]s/app"
  context    = %[2]q
  image_maps = ["%[1]s/tools:tf-0123456789abcdef", "%[1]s/other:tf-0123456789abcdef", "sha256:%[3]s"]
}
`, repo, dir, strings.Repeat("0", 64)))
	out := cli.mustRun("plan", "-no-color")
	// One warning each for the map of another repository and the image ID;
	// none for the map that COPY --from names.
	for _, summary := range []string{"Warning: Image map matches no image of the Dockerfile", "Warning: Image map names no repository"} {
		if got := strings.Count(out, summary); got != 1 {
			t.Errorf("want 1 %q, got %d:\n%s", summary, got, out)
		}
	}
	if strings.Contains(out, "similar warning") || strings.Contains(out, "repository "+repo+"/tools ") {
		t.Errorf("a warning for the map that matches:\n%s", out)
	}
	for _, want := range []string{
		`names the repository ` + repo + `/other`,
		`COPY --from ` + repo + `/tools on line 4`,
		`FROM ${BASE} (` + env.BaseImage + `) on line 2`,
		`names no repository (an image ID`,
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("the plan does not say %q:\n%s", want, out)
		}
	}
}

// TestAccImageMaps_dockerfileIgnore: the build of a rewritten Dockerfile
// (dockerfile outside the context) still takes its context through
// <dockerfile>.dockerignore, not <context>/.dockerignore, as BuildKit does
// for the file as written.
func TestAccImageMaps_dockerfileIgnore(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	baseDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo base > /base.txt\n", env.BaseImage)})
	appDir := writeFiles(t, map[string]string{
		"a.txt":         "a\n",
		"b.txt":         "b\n",
		".dockerignore": "a.txt\n",
	})
	dfDir := writeFiles(t, map[string]string{
		"app.Dockerfile":              fmt.Sprintf("FROM %s/base\nCOPY . /ctx/\nRUN ls /ctx > /ls.txt && cat /base.txt >> /ls.txt\n", repo),
		"app.Dockerfile.dockerignore": "b.txt\n",
	})
	config := fmt.Sprintf(`
resource "imagebuild_docker_image" "base" {
  ref     = "%[1]s/base"
  context = %[2]q
}

resource "imagebuild_docker_image" "app" {
  ref        = "%[1]s/app"
  context    = %[3]q
  dockerfile = %[4]q
  image_maps = [imagebuild_docker_image.base.status.ref]
}
`, repo, baseDir, appDir, filepath.Join(dfDir, "app.Dockerfile"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				// a.txt, which only <context>/.dockerignore excludes, is
				// there; b.txt is not (the engine sends neither ignore file).
				Check: checkRun(appImage, "a.txt\nbase", "cat", "/ls.txt"),
			},
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

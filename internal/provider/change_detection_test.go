package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func expectNoChange() resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
}

func expectInPlaceUpdate(name string) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(name, plancheck.ResourceActionUpdate),
		plancheck.ExpectUnknownValue(name, tfjsonpath.New("status")),
		plancheck.ExpectUnknownValue(name, tfjsonpath.New("image_id")),
	}}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPreviousRefGone checks that the tag saved in *previous no longer exists
// and differs from the current status.ref.
func checkPreviousRefGone(name string, previous *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		current, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		if current == *previous {
			return fmt.Errorf("status.ref did not change: %s", current)
		}
		if _, err := dockerErr("image", "inspect", *previous); err == nil {
			return fmt.Errorf("the previous tag %s is still in the engine", *previous)
		}
		return nil
	}
}

func TestAccDockerImage_changeDetection(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile":    fmt.Sprintf("FROM %s\nARG FLAVOUR=plain\nCOPY app.txt /app.txt\nRUN echo $FLAVOUR > /flavour.txt\n", env.BaseImage),
		"app.txt":       "version 1\n",
		"notes.md":      "ignored\n",
		".dockerignore": "*.md\n",
	})
	config := func(flavour string) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  args    = ["FLAVOUR=%s"]
}`, uniqueRepo(t), ctxDir, flavour)
	}
	var ref string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&ref),
		Steps: []resource.TestStep{
			{
				Config: config("plain"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "version 1", "cat", "/app.txt"),
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "created"),
					saveAttr(testImage, "status.ref", &ref),
				),
			},
			{
				PreConfig:        func() { writeFile(t, filepath.Join(ctxDir, "notes.md"), "edited, but ignored\n") },
				Config:           config("plain"),
				ConfigPlanChecks: expectNoChange(),
			},
			{
				PreConfig: func() {
					past := time.Now().Add(-72 * time.Hour)
					for _, f := range []string{"Dockerfile", "app.txt", ".dockerignore"} {
						if err := os.Chtimes(filepath.Join(ctxDir, f), past, past); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config:           config("plain"),
				ConfigPlanChecks: expectNoChange(),
			},
			{
				PreConfig:        func() { writeFile(t, filepath.Join(ctxDir, "app.txt"), "version 2\n") },
				Config:           config("plain"),
				ConfigPlanChecks: expectBuildReason(testImage, "inputs changed: context files app.txt"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "version 2", "cat", "/app.txt"),
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "inputs changed: context files"),
					checkPreviousRefGone(testImage, &ref),
					checkImageMatchesState(testImage),
					saveAttr(testImage, "status.ref", &ref),
				),
			},
			{
				Config:           config("spicy"),
				ConfigPlanChecks: expectBuildReason(testImage, "inputs changed: args"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "spicy", "cat", "/flavour.txt"),
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "inputs changed: args"),
					resource.TestCheckResourceAttr(testImage, "build_reason", "inputs changed: args"),
					checkPreviousRefGone(testImage, &ref),
					saveAttr(testImage, "status.ref", &ref),
				),
			},
			{
				// The image deleted behind Terraform's back is rebuilt in place.
				PreConfig:        func() { docker(t, "rmi", ref) },
				Config:           config("spicy"),
				ConfigPlanChecks: expectBuildReason(testImage, "image missing"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "spicy", "cat", "/flavour.txt"),
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "image missing"),
					resource.TestCheckNoResourceAttr(testImage, "status.waiting"),
					checkImageMatchesState(testImage),
				),
			},
		},
	})
}

func TestAccCmdImage_rebuiltWhenImageMapChanges(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY base.txt /base.txt\n", env.BaseImage),
		"base.txt":   "base 1\n",
	})
	// The command builds on the image in TILT_IMAGE_0, as a Tilt custom_build would.
	config := fmt.Sprintf(`
resource "imagebuild_docker_image" "base" {
  ref     = %q
  context = %q
}

resource "imagebuild_cmd_image" "test" {
  ref        = %q
  image_maps = [imagebuild_docker_image.base.status.ref]
  args       = ["sh", "-c", "docker tag \"$TILT_IMAGE_0\" \"$EXPECTED_REF\""]
}`, uniqueRepo(t)+"-base", ctxDir, uniqueRepo(t))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testCmdImage, "base 1", "cat", "/base.txt"),
					resource.TestCheckResourceAttr(testCmdImage, "status.completed.reason", "created"),
				),
			},
			{
				PreConfig: func() { writeFile(t, filepath.Join(ctxDir, "base.txt"), "base 2\n") },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("imagebuild_docker_image.base", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(testCmdImage, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testCmdImage, "base 2", "cat", "/base.txt"),
					resource.TestCheckResourceAttr(testCmdImage, "status.completed.reason", "inputs changed: image_maps"),
				),
			},
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

func TestAccCmdImage_depsChangeRebuilds(t *testing.T) {
	requireTestEnv(t)
	depDir := writeFiles(t, map[string]string{"src/main.txt": "one\n"})
	script := fmt.Sprintf(importScript, `cp "$DEP" "$ROOT/main.txt"`)
	config := cmdImageConfig(fmt.Sprintf(`  ref  = %q
  deps = [%q]
  env  = { DEP = %q }
  args = ["sh", "-c", %s]`, uniqueRepo(t), filepath.Join(depDir, "src"), filepath.Join(depDir, "src/main.txt"), hclString(script)))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config, Check: checkRun(testCmdImage, "one", "cat", "/main.txt")},
			{Config: config, ConfigPlanChecks: expectNoChange()},
			{
				PreConfig:        func() { writeFile(t, filepath.Join(depDir, "src/main.txt"), "two\n") },
				Config:           config,
				ConfigPlanChecks: expectBuildReason(testCmdImage, "inputs changed: deps "+filepath.ToSlash(filepath.Join(depDir, "src/main.txt"))),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testCmdImage, "two", "cat", "/main.txt"),
					resource.TestCheckResourceAttr(testCmdImage, "status.completed.reason", "inputs changed: deps"),
					resource.TestMatchResourceAttr(testCmdImage, "input_digest", regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)),
				),
			},
		},
	})
}

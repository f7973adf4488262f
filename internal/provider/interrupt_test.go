package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Ctrl-C during a build: terraform stops within seconds, the build's
// processes are gone, no temporary files are left, state records no image
// that does not exist, and the next apply succeeds.
func TestAccDockerImage_interruptDuringBuild(t *testing.T) {
	env := requireTestEnv(t)
	// Digits, so that every process of the build can carry it: sleep N.<nonce>.
	nonce := fmt.Sprint(time.Now().UnixNano() % 1e9)
	ctxDir := writeFiles(t, map[string]string{"app.txt": "app\n"})
	cli := newTerraformCLI(t, "INFO")
	config := func(nap int) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref                 = %q
  context             = %q
  args                = ["NAP=%d"]
  dockerfile_contents = "FROM %s\nARG NAP\nRUN echo started-%s && sleep $NAP.%s && echo %s > /done.txt\n"
}`, uniqueRepo(t), ctxDir, nap, env.BaseImage, nonce, nonce, nonce)
	}
	cli.writeConfig(config(120))
	interruptApplyAndCheck(t, cli, nonce, 90*time.Second)

	cli.writeConfig(config(0))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	if got := strings.TrimSpace(docker(t, "run", "--rm", stateRef(t, cli, "imagebuild_docker_image"), "cat", "/done.txt")); got != nonce {
		t.Errorf("/done.txt = %q, want %q", got, nonce)
	}
	expectEmptyPlan(t, cli)
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

// Ctrl-C while a build command runs: its whole process group is stopped.
func TestAccCmdImage_interruptDuringCommand(t *testing.T) {
	env := requireTestEnv(t)
	nonce := fmt.Sprint(time.Now().UnixNano() % 1e9)
	cli := newTerraformCLI(t, "INFO")
	config := func(script string) string {
		return fmt.Sprintf(`
resource "imagebuild_cmd_image" "test" {
  ref  = %q
  args = ["sh", "-c", %q, %q]
}`, uniqueRepo(t), script, nonce)
	}
	// A child in the background and one in the foreground, as build tools have.
	cli.writeConfig(config(`echo started-$0; sleep 300.$0 & sleep 301.$0; wait`))
	interruptApplyAndCheck(t, cli, nonce, 60*time.Second)

	cli.writeConfig(config(fmt.Sprintf(`docker tag %s "$EXPECTED_REF" # $0`, env.BaseImage)))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	docker(t, "image", "inspect", stateRef(t, cli, "imagebuild_cmd_image"))
	expectEmptyPlan(t, cli)
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

// interruptApplyAndCheck starts an apply, sends SIGINT once the log shows
// "started-<nonce>", and checks what a user would after Ctrl-C: terraform
// stopped within seconds, no process carrying nonce is left, no temporary
// file is left, and state records no image.
func interruptApplyAndCheck(t *testing.T, cli *terraformCLI, nonce string, startTimeout time.Duration) {
	t.Helper()
	took, out := cli.interruptWhenLogged("started-"+nonce, startTimeout, "apply", "-auto-approve", "-no-color")
	t.Logf("terraform exited %s after SIGINT", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("terraform took %s to stop after SIGINT, want under 10s:\n%s", took, out)
	}
	waitForNoProcessWithArg(t, nonce, 10*time.Second)
	checkNoTempFiles(t, cli.tmpDir)
	checkStateHasNoImage(t, cli)
}

func checkNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) > 0 {
		t.Errorf("temporary files left in TMPDIR: %v", left)
	}
}

// stateResource is the part of `terraform show -json` these tests read.
type stateResource struct {
	Type    string         `json:"type"`
	Index   any            `json:"index"`
	Tainted bool           `json:"tainted"`
	Values  map[string]any `json:"values"`
}

func stateResources(t *testing.T, cli *terraformCLI) []stateResource {
	t.Helper()
	var show struct {
		Values struct {
			RootModule struct {
				Resources []stateResource `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if out := cli.mustRun("show", "-json"); strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &show); err != nil {
			t.Fatalf("terraform show -json: %v\n%s", err, out)
		}
	}
	return show.Values.RootModule.Resources
}

// checkStateHasNoImage: after an interrupted create, the resource is either
// absent or tainted without an image, never recorded as built.
func checkStateHasNoImage(t *testing.T, cli *terraformCLI) {
	t.Helper()
	for _, r := range stateResources(t, cli) {
		if !r.Tainted || r.Values["image_id"] != nil {
			t.Errorf("state after the interrupt holds %s (tainted %t, image_id %v); want it absent or tainted without an image", r.Type, r.Tainted, r.Values["image_id"])
		}
	}
}

func stateRef(t *testing.T, cli *terraformCLI, resourceType string) string {
	t.Helper()
	for _, r := range stateResources(t, cli) {
		if status, ok := r.Values["status"].(map[string]any); ok && r.Type == resourceType {
			if ref, ok := status["ref"].(string); ok {
				return ref
			}
		}
	}
	t.Fatalf("no %s with status.ref in state", resourceType)
	return ""
}

func expectEmptyPlan(t *testing.T, cli *terraformCLI) {
	t.Helper()
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("second plan is not empty (%v):\n%s", err, out)
	}
}

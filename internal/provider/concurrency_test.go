package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Twelve images in one apply with -parallelism=6, all from one context and
// sharing a base stage: each gets its own content and ref.
func TestAccDockerImage_twelveInParallel(t *testing.T) {
	env := requireTestEnv(t)
	const count = 12
	nonce := time.Now().UnixNano()
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s AS shared
RUN echo shared-%d > /shared.txt
FROM shared
ARG N
RUN echo image-$N > /n.txt
`, env.BaseImage, nonce)})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "many" {
  count   = %d
  ref     = "%s-${count.index}"
  context = %q
  args    = ["N=${count.index}"]
}`, count, uniqueRepo(t), ctxDir))
	started := time.Now()
	cli.mustRun("apply", "-auto-approve", "-no-color", "-parallelism=6")
	t.Logf("apply of %d images took %s", count, time.Since(started).Round(time.Millisecond))
	defer cli.mustRun("destroy", "-auto-approve", "-no-color")

	refs := map[string]bool{}
	for _, r := range stateResources(t, cli) {
		n, status := int(r.Index.(float64)), r.Values["status"].(map[string]any)
		ref, _ := status["ref"].(string)
		if refs[ref] || !strings.Contains(ref, ":tf-") {
			t.Errorf("image %d has status.ref %q, not a fresh immutable ref", n, ref)
		}
		refs[ref] = true
		got := docker(t, "run", "--rm", ref, "cat", "/shared.txt", "/n.txt")
		if want := fmt.Sprintf("shared-%d\nimage-%d\n", nonce, n); got != want {
			t.Errorf("image %d holds %q, want %q", n, got, want)
		}
		if id := strings.TrimSpace(docker(t, "image", "inspect", "-f", "{{.Id}}", ref)); id != r.Values["image_id"] {
			t.Errorf("image %d: engine has %s, state %v", n, id, r.Values["image_id"])
		}
	}
	if len(refs) != count {
		t.Errorf("state holds %d images, want %d", len(refs), count)
	}
	expectEmptyPlan(t, cli)
}

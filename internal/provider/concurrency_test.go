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

// With max_parallel_builds = 1, three images in one apply at -parallelism=3
// build one after another: the spans from each build's start to its end
// (status.completed, push included) do not overlap, and each is built.
func TestAccDockerImage_maxParallelBuilds(t *testing.T) {
	env := requireTestEnv(t)
	const count = 3
	nonce := time.Now().UnixNano()
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s
ARG N
RUN sleep 1 && echo slot-%d-$N > /n.txt
`, env.BaseImage, nonce)})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf(`
provider "imagebuild" {
  max_parallel_builds = 1
}

resource "imagebuild_docker_image" "one_at_a_time" {
  count   = %d
  ref     = "%s-${count.index}"
  context = %q
  args    = ["N=${count.index}"]
}`, count, uniqueRepo(t), ctxDir))
	cli.mustRun("apply", "-auto-approve", "-no-color", "-parallelism=3")
	defer cli.mustRun("destroy", "-auto-approve", "-no-color")

	type span struct{ start, end time.Time }
	var spans []span
	for _, r := range stateResources(t, cli) {
		n, status := int(r.Index.(float64)), r.Values["status"].(map[string]any)
		completed := status["completed"].(map[string]any)
		start, err1 := time.Parse(time.RFC3339Nano, completed["started_at"].(string))
		end, err2 := time.Parse(time.RFC3339Nano, completed["finished_at"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("image %d: completed = %v", n, completed)
		}
		spans = append(spans, span{start, end})
		if got, want := docker(t, "run", "--rm", status["ref"].(string), "cat", "/n.txt"), fmt.Sprintf("slot-%d-%d\n", nonce, n); got != want {
			t.Errorf("image %d holds %q, want %q", n, got, want)
		}
	}
	if len(spans) != count {
		t.Fatalf("state holds %d images, want %d", len(spans), count)
	}
	for i := range spans {
		for j := range i {
			if spans[i].start.Before(spans[j].end) && spans[j].start.Before(spans[i].end) {
				t.Errorf("builds %d (%s-%s) and %d (%s-%s) ran at the same time", j, spans[j].start.Format(time.StampMilli),
					spans[j].end.Format(time.StampMilli), i, spans[i].start.Format(time.StampMilli), spans[i].end.Format(time.StampMilli))
			}
		}
	}
	expectEmptyPlan(t, cli)
}

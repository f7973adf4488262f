package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Every recorded ref is one the registry holds, and the provider removes
// only the tags it created.

// TestAccCmdImage_outputModesWithClusterRegistry runs each output mode for a
// cluster with a registry: EXPECTED_REF names that registry (a command that
// pushes pushes there), and status.ref and repo_digest are in it.
func TestAccCmdImage_outputModesWithClusterRegistry(t *testing.T) {
	env := requireTestEnv(t)
	out := t.TempDir()
	repo := uniqueRepo(t)
	scripts := map[string]string{
		"local-docker":            `docker tag %s "$EXPECTED_REF"`,
		"local-docker-and-remote": `docker tag %s "$EXPECTED_REF" && docker push -q "$EXPECTED_REF" >/dev/null`,
		"remote":                  `docker tag %s "$EXPECTED_REF" && docker push -q "$EXPECTED_REF" >/dev/null && docker rmi "$EXPECTED_REF"`,
	}
	config := fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "dev"
    registry {
      host = %q
    }
  }
}
`, env.Registry)
	for mode, script := range scripts {
		script = fmt.Sprintf(`echo "$EXPECTED_REF" > %q && `, filepath.Join(out, mode)) + fmt.Sprintf(script, env.BaseImage)
		config += fmt.Sprintf(`
resource "imagebuild_cmd_image" %q {
  ref         = "%s-%s"
  cluster     = "dev"
  output_mode = %q
  args        = ["sh", "-c", %q]
}
`, mode, repo, mode, mode, script)
	}
	var checks []resource.TestCheckFunc
	for mode := range scripts {
		name := "imagebuild_cmd_image." + mode
		clusterRepo := env.Registry + "/" + strings.ReplaceAll(repo, "/", "_") + "-" + mode
		checks = append(checks,
			resource.TestMatchResourceAttr(name, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(clusterRepo)+`:tf-[0-9a-f]{16}$`)),
			resource.TestMatchResourceAttr(name, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(clusterRepo)+`@sha256:[0-9a-f]{64}$`)),
			checkInRegistry(name),
			checkFileMatches(filepath.Join(out, mode), "^"+regexp.QuoteMeta(clusterRepo)+`:tf-build-\d+-[0-9a-f]{8}$`),
		)
		if mode != "remote" {
			checks = append(checks, checkImageMatchesState(name))
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    []resource.TestStep{{Config: config, Check: resource.ComposeAggregateTestCheckFunc(checks...)}},
	})
}

func checkFileMatches(path, pattern string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(string(raw)); !regexp.MustCompile(pattern).MatchString(got) {
			return fmt.Errorf("%s holds %q, want a match of %s", path, got, pattern)
		}
		return nil
	}
}

// Twelve builds of one repository at once: each gets its own temporary tag
// and its own image, and none of those tags is left.
func TestAccCmdImage_twelveInParallelOneRepository(t *testing.T) {
	requireTestEnv(t)
	repo := uniqueRepo(t)
	script := fmt.Sprintf(importScript, `echo "build $N" > "$ROOT/n.txt"; sleep 1`)
	config := fmt.Sprintf(`
resource "imagebuild_cmd_image" "many" {
  count = 12
  ref   = %q
  env   = { N = count.index }
  args  = ["sh", "-c", %s]
}
`, repo, hclString(script))
	var checks []resource.TestCheckFunc
	for i := range 12 {
		checks = append(checks, checkRun(fmt.Sprintf("imagebuild_cmd_image.many.%d", i), fmt.Sprintf("build %d", i), "cat", "/n.txt"))
	}
	checks = append(checks, func(*terraform.State) error {
		tags := strings.Fields(docker(t, "images", "--format", "{{.Tag}}", repo))
		if len(tags) != 12 {
			return fmt.Errorf("%s has tags %v, want the 12 tf- tags", repo, tags)
		}
		for _, tag := range tags {
			if !regexp.MustCompile(`^tf-[0-9a-f]{16}$`).MatchString(tag) {
				return fmt.Errorf("%s has the tag %s left", repo, tag)
			}
		}
		return nil
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    []resource.TestStep{{Config: config, Check: resource.ComposeAggregateTestCheckFunc(checks...)}},
	})
}

// Two images share an extra tag: the later build holds it, and destroying
// the other resource leaves it there.
func TestAccDockerImage_sharedExtraTag(t *testing.T) {
	env := requireTestEnv(t)
	shared := uniqueRepo(t) + "-shared:latest"
	image := func(name, content, after string) string {
		dir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo %s > /who.txt\n", env.BaseImage, content)})
		return fmt.Sprintf(`
resource "imagebuild_docker_image" %q {
  ref        = "%s-%s"
  context    = %q
  extra_tags = [%q]
  %s
}
`, name, uniqueRepo(t), name, dir, shared, after)
	}
	a := image("a", "a", "")
	b := image("b", "b", "depends_on = [imagebuild_docker_image.a]")
	bAlone := strings.Replace(b, "depends_on = [imagebuild_docker_image.a]", "", 1)
	var sharedRef = shared
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&sharedRef),
		Steps: []resource.TestStep{
			{
				Config: a + b,
				Check:  checkSameImage("imagebuild_docker_image.b", &sharedRef),
			},
			{
				// a is destroyed: the tag names b's image, so it stays.
				Config: bAlone,
				Check:  checkSameImage("imagebuild_docker_image.b", &sharedRef),
			},
		},
	})
}

// A build that fails after it tagged (the push fails) leaves no tag; a
// failed update leaves every tag where it was.
func TestAccDockerImage_failureLeavesTagsWhereTheyWere(t *testing.T) {
	env := requireTestEnv(t)
	down := freeLoopbackAddr(t)
	name := uniqueRepo(t)
	clusterRepo := down + "/" + strings.ReplaceAll(name, "/", "_")
	stable := name + ":stable"
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nARG V\nRUN echo $V > /v.txt\n", env.BaseImage)})
	config := func(v, needs string) string {
		return fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "down"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref           = %q
  context       = %q
  args          = ["V=%s"]
  extra_tags    = [%q]
  cluster       = "down"
  cluster_needs = %q
}
`, down, name, ctxDir, v, stable, needs)
	}
	var ref, imageID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&ref, &stable),
		Steps: []resource.TestStep{
			{
				// The registry is down: built and tagged, then the push fails.
				Config:      config("1", "push"),
				ExpectError: regexp.MustCompile(`(?s)pushing\s.*` + regexp.QuoteMeta(down)),
			},
			{
				PreConfig: func() {
					if left := repoTags(t, clusterRepo, name); len(left) > 0 {
						t.Fatalf("a build that failed after tagging left the tags %v", left)
					}
				},
				Config: config("1", "base-image"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSameImage(testImage, &stable),
					saveAttr(testImage, "status.ref", &ref),
					saveAttr(testImage, "image_id", &imageID),
				),
			},
			{
				// A new build whose push fails: the old image keeps its tags.
				Config:      config("2", "push"),
				ExpectError: regexp.MustCompile(`(?s)pushing\s.*` + regexp.QuoteMeta(down)),
			},
			{
				PreConfig: func() {
					want := []string{ref, stable}
					if got := repoTags(t, clusterRepo, name); strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("after a failed update the tags are %v, want %v", got, want)
					}
					if id := strings.TrimSpace(docker(t, "image", "inspect", "--format", "{{.Id}}", stable)); id != imageID {
						t.Errorf("after a failed update %s names %s, want the previous image %s", stable, id, imageID)
					}
				},
				Config: config("1", "base-image"),
				Check:  resource.TestCheckResourceAttrPtr(testImage, "status.ref", &ref),
			},
		},
	})
}

// repoTags lists the engine's refs of the given repositories, sorted by repository.
func repoTags(t *testing.T, repos ...string) []string {
	t.Helper()
	var refs []string
	for _, repo := range repos {
		for _, tag := range strings.Fields(docker(t, "images", "--format", "{{.Tag}}", repo)) {
			refs = append(refs, repo+":"+tag)
		}
	}
	return refs
}

// A command that tags its image and then fails leaves no tag.
func TestAccCmdImage_failureLeavesNoTag(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: cmdImageConfig(fmt.Sprintf(`  ref  = %q
  args = ["sh", "-c", "docker tag %s \"$EXPECTED_REF\" && exit 3"]`, repo, env.BaseImage)),
				ExpectError: regexp.MustCompile(`exited\s+with\s+status\s+3`),
			},
			{
				PreConfig: func() {
					if left := repoTags(t, repo); len(left) > 0 {
						t.Fatalf("a failed command left the tags %v", left)
					}
				},
				Config: cmdImageConfig(fmt.Sprintf(`  ref  = %q
  args = ["sh", "-c", "docker tag %s \"$EXPECTED_REF\""]`, repo, env.BaseImage)),
				Check: checkImageMatchesState(testCmdImage),
			},
		},
	})
}

// With dir set, deps and outputs_image_ref_to are taken from it.
func TestAccCmdImage_pathsRelativeToDir(t *testing.T) {
	env := requireTestEnv(t)
	dir := writeFiles(t, map[string]string{"src/main.txt": "v1\n"})
	repo := uniqueRepo(t)
	config := cmdImageConfig(fmt.Sprintf(`  ref                  = %q
  dir                  = %q
  deps                 = ["src"]
  outputs_image_ref_to = "ref.txt"
  args                 = ["sh", "-c", "docker tag %s %s:chosen && echo %s:chosen > ref.txt"]`, repo, dir, env.BaseImage, repo, repo))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config, Check: checkImageMatchesState(testCmdImage)},
			{
				PreConfig:        func() { writeFile(t, filepath.Join(dir, "src", "main.txt"), "v2\n") },
				Config:           config,
				ConfigPlanChecks: expectInPlaceUpdate(testCmdImage),
				Check:            resource.TestCheckResourceAttr(testCmdImage, "status.completed.reason", "inputs changed: deps"),
			},
		},
	})
}

// TestAccDockerImage_tamperedTagRecordRemovesNothingElse: a tag record in
// private state is data. A record naming another image by ID or digest
// (tampered, or corrupted) removes nothing on destroy: only names that parse
// as name:tag are removed, and never by force.
func TestAccDockerImage_tamperedTagRecordRemovesNothingElse(t *testing.T) {
	env := requireTestEnv(t)
	victimDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo victim-%d > /victim.txt\n", env.BaseImage, os.Getpid())})
	victim := newTerraformCLI(t, "")
	victim.writeConfig(fmt.Sprintf("resource \"imagebuild_docker_image\" \"victim\" {\n  ref     = \"%s-victim\"\n  context = %q\n}\n"+
		"output \"id\" {\n  value = imagebuild_docker_image.victim.image_id\n}\noutput \"ref\" {\n  value = imagebuild_docker_image.victim.status.ref\n}\n",
		uniqueRepo(t), victimDir))
	victim.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { victim.run("destroy", "-auto-approve", "-no-color") })
	victimID := strings.TrimSpace(victim.mustRun("output", "-raw", "id"))
	victimRef := strings.TrimSpace(victim.mustRun("output", "-raw", "ref"))

	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf("resource \"imagebuild_docker_image\" \"test\" {\n  ref     = %q\n  context = %q\n}\n", uniqueRepo(t), writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo tampered > /t.txt\n", env.BaseImage),
	})))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	tamperTagRecord(t, filepath.Join(cli.dir, "terraform.tfstate"), map[string]string{
		victimID:                                victimID,
		strings.TrimPrefix(victimID, "sha256:"): victimID,
	})
	out := cli.mustRun("destroy", "-auto-approve", "-no-color")
	if !strings.Contains(out, "Tag record ignored") {
		t.Errorf("destroy gave no warning about the tampered record:\n%s", out)
	}
	if id, err := dockerErr("image", "inspect", "--format", "{{.Id}}", victimRef); err != nil || strings.TrimSpace(id) != victimID {
		t.Errorf("the other resource's image %s is gone or changed after the destroy (%q, %v)", victimRef, id, err)
	}
}

// tamperTagRecord adds entries to the tag record (private state key
// "tags/v1") of the only resource instance in the state file at path.
func tamperTagRecord(t *testing.T, path string, add map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	instance := state["resources"].([]any)[0].(map[string]any)["instances"].([]any)[0].(map[string]any)
	private := map[string][]byte{}
	if err := json.Unmarshal(mustBase64(t, instance["private"].(string)), &private); err != nil {
		t.Fatal(err)
	}
	record := map[string]string{}
	if err := json.Unmarshal(private["tags/v1"], &record); err != nil {
		t.Fatal(err)
	}
	for k, v := range add {
		record[k] = v
	}
	private["tags/v1"], _ = json.Marshal(record)
	encoded, _ := json.Marshal(private)
	instance["private"] = base64.StdEncoding.EncodeToString(encoded)
	raw, _ = json.MarshalIndent(state, "", "  ")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAccDockerImage_tagInUseStaysUntilFree: an update whose previous image
// a container still runs (a deployment not yet rolled over) leaves that
// tag, with no warning, and removes it at the next update once the
// container is gone.
func TestAccDockerImage_tagInUseStaysUntilFree(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY v.txt /v.txt\n", env.BaseImage),
		"v.txt":      "1\n",
	})
	cli := newTerraformCLI(t, "")
	cli.writeConfig(fmt.Sprintf("resource \"imagebuild_docker_image\" \"test\" {\n  ref     = %q\n  context = %q\n}\n"+
		"output \"ref\" {\n  value = imagebuild_docker_image.test.status.ref\n}\n", uniqueRepo(t), ctxDir))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { cli.run("destroy", "-auto-approve", "-no-color") })
	first := strings.TrimSpace(cli.mustRun("output", "-raw", "ref"))
	container := strings.TrimSpace(docker(t, "create", first, "cat", "/v.txt"))
	t.Cleanup(func() { dockerErr("rm", "-f", container) })

	writeFile(t, filepath.Join(ctxDir, "v.txt"), "2\n")
	// The only warning is Terraform's own about dev_overrides.
	if out := cli.mustRun("apply", "-auto-approve", "-no-color"); strings.Count(out, "Warning:") > 1 {
		t.Errorf("an image in use is no reason for a warning:\n%s", out)
	}
	if _, err := dockerErr("image", "inspect", first); err != nil {
		t.Fatalf("the tag %s of the image a container uses was removed: %v", first, err)
	}
	docker(t, "rm", container)
	writeFile(t, filepath.Join(ctxDir, "v.txt"), "3\n")
	cli.mustRun("apply", "-auto-approve", "-no-color")
	if _, err := dockerErr("image", "inspect", first); err == nil {
		t.Errorf("the tag %s stayed after its container was gone and the image was updated again", first)
	}
}

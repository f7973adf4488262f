package provider

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const testCmdImage = "imagebuild_cmd_image.test"

// importScript assembles a root filesystem with busybox and the files the
// caller's shell snippet writes into $ROOT, then `docker import`s it as
// $EXPECTED_REF: a real builder that is not `docker build`.
const importScript = `set -e
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/bin"
cp "$(command -v busybox)" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"; ln -s busybox "$ROOT/bin/cat"
%s
tar -C "$ROOT" -c . | docker import - "${TARGET_REF:-$EXPECTED_REF}"
`

// hclString quotes s as an HCL string literal, escaping template sequences.
func hclString(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(strconv.Quote(s))
}

func cmdImageConfig(body string) string {
	return fmt.Sprintf("resource \"imagebuild_cmd_image\" \"test\" {\n%s\n}\n", body)
}

func TestAccCmdImage_importScript(t *testing.T) {
	requireTestEnv(t)
	repo := uniqueRepo(t)
	script := fmt.Sprintf(importScript, `echo "built by a script" > "$ROOT/hello.txt"
echo "$EXPECTED_REF|$EXPECTED_IMAGE|$EXPECTED_TAG" > "$ROOT/expected.txt"`)
	config := cmdImageConfig(fmt.Sprintf(`  ref  = %q
  args = ["sh", "-c", %s]`, repo, hclString(script)))
	var ref, expected string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&ref),
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testCmdImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
				resource.TestCheckResourceAttrPair(testCmdImage, "id", testCmdImage, "status.ref"),
				resource.TestCheckResourceAttr(testCmdImage, "status.completed.reason", "created"),
				resource.TestCheckNoResourceAttr(testCmdImage, "status.completed.error"),
				resource.TestCheckNoResourceAttr(testCmdImage, "status.building"),
				resource.TestCheckResourceAttr(testCmdImage, "output_mode", "local-docker"),
				checkImageMatchesState(testCmdImage),
				checkRun(testCmdImage, "built by a script", "cat", "/hello.txt"),
				saveAttr(testCmdImage, "status.ref", &ref),
				func(s *terraform.State) error {
					out, err := dockerErr("run", "--rm", ref, "cat", "/expected.txt")
					expected = strings.TrimSpace(out)
					return err
				},
			),
		}, {
			Config:           config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: func(*terraform.State) error {
				// EXPECTED_* named the temporary tf-build-<unix> tag, which is
				// removed once the image has its content-addressed ref.
				parts := strings.Split(expected, "|")
				if len(parts) != 3 || !strings.HasPrefix(parts[2], "tf-build-") || parts[0] != repo+":"+parts[2] || parts[1] != repo {
					return fmt.Errorf("EXPECTED_REF|EXPECTED_IMAGE|EXPECTED_TAG = %q", expected)
				}
				if _, err := dockerErr("image", "inspect", parts[0]); err == nil {
					return fmt.Errorf("temporary tag %s was not removed", parts[0])
				}
				return nil
			},
		}},
	})
}

func TestAccCmdImage_outputTagRetagsExistingImage(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref        = %q
  output_tag = "v1"
  args       = ["sh", "-c", "test \"$EXPECTED_TAG\" = v1 && docker tag %s \"$EXPECTED_REF\""]`, repo, env.BaseImage)),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkImageMatchesState(testCmdImage),
				checkInspect(testCmdImage, "{{.Id}}", strings.TrimSpace(docker(t, "image", "inspect", "--format", "{{.Id}}", env.BaseImage))),
				// The command's own tag is the user's, so it stays.
				func(*terraform.State) error { _, err := dockerErr("image", "inspect", repo+":v1"); return err },
			),
		}},
	})
}

func TestAccCmdImage_refFileEnvAndDir(t *testing.T) {
	requireTestEnv(t)
	repo := uniqueRepo(t)
	dir := t.TempDir()
	refFile := filepath.Join(t.TempDir(), "ref.txt")
	// A stale file from an earlier run must not pass for this run's result.
	if err := os.WriteFile(refFile, []byte("stale:ref\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(importScript, `pwd > "$ROOT/pwd.txt"
echo "$GREETING|${EXPECTED_REF-unset}" > "$ROOT/env.txt"
test ! -e "$REF_FILE"
echo "$TARGET_REF" > "$REF_FILE"`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref                  = %q
  dir                  = %q
  outputs_image_ref_to = %q
  env = {
    GREETING   = "hello from env"
    TARGET_REF = "%s:chosen-by-script"
    REF_FILE   = %q
  }
  args = ["sh", "-c", %s]`, repo, dir, refFile, repo, refFile, hclString(script))),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkImageMatchesState(testCmdImage),
				resource.TestMatchResourceAttr(testCmdImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
				checkRun(testCmdImage, dir, "cat", "/pwd.txt"),
				checkRun(testCmdImage, "hello from env|unset", "cat", "/env.txt"),
			),
		}},
	})
}

func TestAccCmdImage_localDockerAndRemote(t *testing.T) {
	env := requireTestEnv(t)
	repo := fmt.Sprintf("%s/imagebuild-acc/cmd-both-%d", env.Registry, os.Getpid())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref         = %q
  output_mode = "local-docker-and-remote"
  args        = ["sh", "-c", "docker tag %s \"$EXPECTED_REF\" && docker push -q \"$EXPECTED_REF\""]`, repo, env.BaseImage)),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkImageMatchesState(testCmdImage),
				resource.TestCheckResourceAttr(testCmdImage, "output_mode", "local-docker-and-remote"),
				checkRegistryHasBuildTag(testCmdImage),
			),
		}},
	})
}

// checkRegistryHasBuildTag checks that the registry has the tf-build- tag
// the command pushed (the local tag was renamed; the pushed one stays).
func checkRegistryHasBuildTag(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		repo, err := stateAttr(s, name, "ref")
		if err != nil {
			return err
		}
		host, path, _ := strings.Cut(repo, "/")
		resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/tags/list", host, path))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if !strings.Contains(string(body), `"tf-build-`) {
			return fmt.Errorf("registry %s has no tf-build- tag of %s: %s", host, path, body)
		}
		return nil
	}
}

func TestAccCmdImage_remote(t *testing.T) {
	env := requireTestEnv(t)
	repo := fmt.Sprintf("%s/imagebuild-acc/cmd-remote-%d", env.Registry, os.Getpid())
	// The command pushes and keeps nothing locally: the provider must not
	// look in the engine.
	script := fmt.Sprintf(`docker tag %s "$EXPECTED_REF" && docker push -q "$EXPECTED_REF" && docker rmi "$EXPECTED_REF"`, env.BaseImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref         = %q
  output_mode = "remote"
  args        = ["sh", "-c", %q]`, repo, script)),
			Check: resource.ComposeAggregateTestCheckFunc(
				// Not the mutable tf-build- tag the command pushed: the
				// immutable tag of its manifest digest, made in the registry.
				resource.TestMatchResourceAttr(testCmdImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
				resource.TestMatchResourceAttr(testCmdImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`@sha256:[0-9a-f]{64}$`)),
				resource.TestCheckNoResourceAttr(testCmdImage, "image_id"),
				checkInRegistry(testCmdImage),
			),
		}},
	})
}

func TestAccCmdImage_failingCommand(t *testing.T) {
	requireTestEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref  = %q
  args = ["sh", "-c", "echo compiling; echo the-compiler-said-no >&2; exit 7"]`, uniqueRepo(t))),
			ExpectError: regexp.MustCompile(`(?s)"sh"\s+"-c".*exited\s+with\s+status\s+7.*compiling.*the-compiler-said-no`),
		}},
	})
}

func TestAccCmdImage_noImageProduced(t *testing.T) {
	requireTestEnv(t)
	repo := uniqueRepo(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref  = %q
  args = ["true"]`, repo)),
			ExpectError: regexp.MustCompile(`(?s)has\s+no\s+image\s+` + regexp.QuoteMeta(repo) + `:tf-build-\d+.*EXPECTED_REF`),
		}},
	})
}

func TestAccCmdImage_timeoutKillsProcessGroup(t *testing.T) {
	requireTestEnv(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The command and a background child both hang; the timeout must stop both.
	script := fmt.Sprintf(`echo $$ > %s; sleep 300 & sleep 300; wait`, pidFile)
	start := time.Now()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: cmdImageConfig(fmt.Sprintf(`  ref  = %q
  args = ["sh", "-c", %q]
  timeouts {
    create = "3s"
  }`, uniqueRepo(t), script)),
			ExpectError: regexp.MustCompile(`(?s)was\s+stopped:\s+the\s+create\s+timeout\s+of\s+3s\s+ran\s+out.*timeouts.create.*process\s+group\s+was\s+killed`),
		}},
	})
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("the apply took %s; the 3s timeout should have stopped it", elapsed)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if alive := liveProcessesInGroup(t, pgid); len(alive) > 0 {
		t.Errorf("processes of the command survived the timeout: %v", alive)
	}
}

// liveProcessesInGroup lists the processes of group pgid that are not
// zombies (this sandbox's PID 1 may not reap orphans).
func liveProcessesInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var alive []string
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command name: state ppid pgrp ...
		rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			alive = append(alive, p+": "+strings.TrimSpace(string(raw)))
		}
	}
	return alive
}

// TestAccCmdImage_fifoDepRefusedAtPlan: a dep file replaced by a FIFO makes
// the plan fail at once, on that element, naming it (an open of the FIFO
// would have waited forever for a writer).
func TestAccCmdImage_fifoDepRefusedAtPlan(t *testing.T) {
	env := requireTestEnv(t)
	deps := t.TempDir()
	dep := filepath.Join(deps, "input.txt")
	writeFile(t, dep, "one\n")
	cli := newTerraformCLI(t, "")
	cli.writeConfig(cmdImageConfig(fmt.Sprintf(`  ref  = %q
  deps = [%q]
  args = ["sh", "-c", "docker tag %s \"$EXPECTED_REF\""]`, uniqueRepo(t), dep, env.BaseImage)))
	cli.mustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { os.Remove(dep); writeFile(t, dep, "one\n"); cli.run("destroy", "-auto-approve", "-no-color") })
	if err := os.Remove(dep); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(dep, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := cli.command("plan", "-no-color")
	var out bytes.Buffer
	plan.Stdout, plan.Stderr = &out, &out
	if err := plan.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- plan.Wait() }()
	select {
	case err := <-done:
		if err == nil || !regexp.MustCompile(`(?s)deps = \[.*named\s+pipe`).MatchString(out.String()) {
			t.Errorf("plan with a FIFO dep: %v; want an error on deps that names the named pipe:\n%s", err, out.String())
		}
	case <-time.After(2 * time.Minute):
		plan.Process.Kill()
		t.Fatalf("the plan hangs on a FIFO dep:\n%s", out.String())
	}
}

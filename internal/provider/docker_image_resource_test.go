package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const testImage = "imagebuild_docker_image.test"

var immutableRef = regexp.MustCompile(`:tf-[0-9a-f]{16}$`)

// stateAttr reads an attribute of a resource from state.
func stateAttr(s *terraform.State, name, key string) (string, error) {
	rs, ok := s.RootModule().Resources[name]
	if !ok {
		return "", fmt.Errorf("%s is not in state", name)
	}
	v, ok := rs.Primary.Attributes[key]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %s", name, key)
	}
	return v, nil
}

// checkRun runs the built image with cmd and compares its output.
func checkRun(name, want string, cmd ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		out, err := dockerErr(append([]string{"run", "--rm", ref}, cmd...)...)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != want {
			return fmt.Errorf("docker run %s %s printed %q, want %q", ref, strings.Join(cmd, " "), out, want)
		}
		return nil
	}
}

// checkImageMatchesState checks that status.ref names the image_id in the
// engine and that id equals status.ref.
func checkImageMatchesState(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		id, _ := stateAttr(s, name, "image_id")
		got, err := dockerErr("image", "inspect", "--format", "{{.Id}}", ref)
		if err != nil {
			return err
		}
		if strings.TrimSpace(got) != id {
			return fmt.Errorf("%s is image %s in the engine, state says %s", ref, strings.TrimSpace(got), id)
		}
		if !strings.HasSuffix(ref, ":tf-"+strings.TrimPrefix(id, "sha256:")[:16]) {
			return fmt.Errorf("status.ref %s does not end in the image ID's first 16 hex digits (%s)", ref, id)
		}
		return nil
	}
}

// checkTagsGone is a CheckDestroy that the tags listed are gone.
func checkTagsGone(refs ...*string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, ref := range refs {
			if _, err := dockerErr("image", "inspect", *ref); err == nil {
				return fmt.Errorf("%s still exists after destroy", *ref)
			}
		}
		return nil
	}
}

// saveAttr copies an attribute into *dst, for later steps and CheckDestroy.
func saveAttr(name, key string, dst *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		v, err := stateAttr(s, name, key)
		*dst = v
		return err
	}
}

func TestAccDockerImage_basic(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile":    fmt.Sprintf("FROM %s\nCOPY greeting.txt /greeting.txt\nRUN echo built-by-run > /run.txt\n", env.BaseImage),
		"greeting.txt":  "hello from the context\n",
		"ignored.txt":   "must not be sent\n",
		".dockerignore": "ignored.txt\n",
	})
	var ref string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&ref),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, repo, ctxDir),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
				resource.TestCheckResourceAttrPair(testImage, "id", testImage, "status.ref"),
				resource.TestMatchResourceAttr(testImage, "image_id", regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)),
				resource.TestCheckResourceAttr(testImage, "status.completed.reason", "created"),
				resource.TestCheckNoResourceAttr(testImage, "status.completed.error"),
				resource.TestMatchResourceAttr(testImage, "status.completed.started_at", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)),
				resource.TestMatchResourceAttr(testImage, "status.completed.finished_at", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)),
				resource.TestCheckNoResourceAttr(testImage, "status.building"),
				resource.TestCheckNoResourceAttr(testImage, "status.waiting"),
				resource.TestMatchResourceAttr(testImage, "input_digest", regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)),
				resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{
					"name": "[2/3] COPY greeting.txt /greeting.txt",
				}),
				resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{
					"name": "[3/3] RUN echo built-by-run > /run.txt",
				}),
				checkImageMatchesState(testImage),
				checkRun(testImage, "hello from the context", "cat", "/greeting.txt"),
				checkRun(testImage, "built-by-run", "cat", "/run.txt"),
				checkRun(testImage, "absent", "sh", "-c", "test -e /ignored.txt && echo present || echo absent"),
				saveAttr(testImage, "status.ref", &ref),
			),
		}, {
			// The same configuration again plans nothing.
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, repo, ctxDir),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

func TestAccDockerImage_targetAndInlineDockerfile(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"src.txt": "source\n"})
	dockerfile := fmt.Sprintf(`FROM %[1]s AS builder
COPY src.txt /src.txt
RUN cat /src.txt /src.txt > /artifact.txt
FROM %[1]s AS release
COPY --from=builder /artifact.txt /artifact.txt
RUN echo release > /stage.txt
FROM %[1]s AS debug
RUN echo debug > /stage.txt
`, env.BaseImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref                 = %q
  context             = %q
  dockerfile_contents = %q
  target              = "release"
}`, uniqueRepo(t), ctxDir, dockerfile),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, "release", "cat", "/stage.txt"),
				checkRun(testImage, "source\nsource", "cat", "/artifact.txt"),
				checkImageMatchesState(testImage),
			),
		}},
	})
}

func TestAccDockerImage_buildArgs(t *testing.T) {
	env := requireTestEnv(t)
	t.Setenv("IMAGEBUILD_TEST_FROM_ENV", "value-from-environment")
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s
ARG LITERAL
ARG IMAGEBUILD_TEST_FROM_ENV
ARG UNSET_IN_ENV=dockerfile-default
RUN echo "$LITERAL|$IMAGEBUILD_TEST_FROM_ENV|$UNSET_IN_ENV" > /args.txt
`, env.BaseImage)})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  args    = ["LITERAL=a=b c", "IMAGEBUILD_TEST_FROM_ENV", "UNSET_IN_ENV"]
}`, uniqueRepo(t), ctxDir),
			Check: checkRun(testImage, "a=b c|value-from-environment|dockerfile-default", "cat", "/args.txt"),
		}},
	})
}

func TestAccDockerImage_secrets(t *testing.T) {
	env := requireTestEnv(t)
	fileSecret := fmt.Sprintf("file-secret-%d", time.Now().UnixNano())
	envSecret := fmt.Sprintf("env-secret-%d", time.Now().UnixNano())
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(fileSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMAGEBUILD_TEST_SECRET", envSecret)
	// The image keeps only digests of the secrets, which prove they arrived.
	// Secret values are not part of BuildKit's cache key, so a nonce in the
	// command keeps an earlier run's result from being reused.
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s
RUN --mount=type=secret,id=fromfile --mount=type=secret,id=fromenv \
    sha256sum /run/secrets/fromfile /run/secrets/fromenv | cut -c1-64 > /digests.txt # %d
`, env.BaseImage, time.Now().UnixNano())})
	want := sha256Hex(fileSecret) + "\n" + sha256Hex(envSecret)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  secrets = ["id=fromfile,src=%s", "id=fromenv,env=IMAGEBUILD_TEST_SECRET"]
}`, uniqueRepo(t), ctxDir, secretFile),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, want, "cat", "/digests.txt"),
				checkSecretsAbsent(testImage, fileSecret, envSecret),
			),
		}},
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// checkSecretsAbsent looks for the secret values in state and in the
// image's history and layers (all of `docker save`).
func checkSecretsAbsent(name string, secrets ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		history, err := dockerErr("history", "--no-trunc", ref)
		if err != nil {
			return err
		}
		layers, err := dockerErr("save", ref)
		if err != nil {
			return err
		}
		stateText := fmt.Sprint(s.RootModule().Resources[name].Primary.Attributes)
		for _, secret := range secrets {
			for where, text := range map[string]string{"state": stateText, "docker history": history, "image layers": layers} {
				if strings.Contains(text, secret) {
					return fmt.Errorf("secret value found in %s", where)
				}
			}
		}
		return nil
	}
}

func TestAccDockerImage_sshAgent(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s
COPY agentls /agentls
RUN --mount=type=ssh /agentls /run/buildkit/ssh_agent.0 > /keys.txt
`, env.BaseImage)})
	buildAgentLister(t, filepath.Join(ctxDir, "agentls"))
	comment := fmt.Sprintf("imagebuild-test-key-%d", time.Now().UnixNano())
	startSSHAgentWithKey(t, comment)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref               = %q
  context           = %q
  ssh_agent_configs = ["default"]
}`, uniqueRepo(t), ctxDir),
			Check: checkRun(testImage, comment, "cat", "/keys.txt"),
		}},
	})
}

// buildAgentLister compiles testdata/agentls, statically, to dst.
func buildAgentLister(t *testing.T, dst string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", dst, "./testdata/agentls")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building agentls: %v\n%s", err, out)
	}
}

// startSSHAgentWithKey starts an ssh-agent holding one new key with comment,
// and points SSH_AUTH_SOCK at it for the test.
func startSSHAgentWithKey(t *testing.T, comment string) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("starting ssh-agent (install openssh-client): %v", err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		add := exec.Command("ssh-add", key)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		out, err := add.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-add: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
}

func TestAccDockerImage_extraTags(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo tagged > /t.txt\n", env.BaseImage)})
	tagA, tagB, tagInRef := repo+"-extra:build-42", repo+"-other:latest", repo+":v1"
	var ref string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&ref, &tagA, &tagB, &tagInRef),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref        = %q
  context    = %q
  extra_tags = [%q, %q]
}`, tagInRef, ctxDir, tagA, tagB),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
				saveAttr(testImage, "status.ref", &ref),
				checkSameImage(testImage, &tagA, &tagB, &tagInRef),
			),
		}},
	})
}

// checkSameImage checks that every ref names the resource's image.
func checkSameImage(name string, refs ...*string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := stateAttr(s, name, "image_id")
		if err != nil {
			return err
		}
		for _, ref := range refs {
			got, err := dockerErr("image", "inspect", "--format", "{{.Id}}", *ref)
			if err != nil {
				return err
			}
			if strings.TrimSpace(got) != id {
				return fmt.Errorf("%s is %s, want %s", *ref, strings.TrimSpace(got), id)
			}
		}
		return nil
	}
}

func TestAccDockerImage_networkNone(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(
		"FROM %s\nRUN ls /sys/class/net | tr '\\n' ' ' > /interfaces.txt\n", env.BaseImage)})
	config := func(network string) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  network = %q
}`, uniqueRepo(t), ctxDir, network)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config("none"), Check: checkRun(testImage, "lo", "cat", "/interfaces.txt")},
			{Config: config("default"), Check: checkRun(testImage, "eth0 lo", "cat", "/interfaces.txt")},
		},
	})
}

func TestAccDockerImage_platform(t *testing.T) {
	requireTestEnv(t)
	// FROM scratch with COPY needs no emulator, so any platform builds here.
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY file.txt /file.txt\n",
		"file.txt":   "arm\n",
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref      = %q
  context  = %q
  platform = "linux/arm64"
}`, uniqueRepo(t), ctxDir),
			Check: checkInspect(testImage, "{{.Os}}/{{.Architecture}}", "linux/arm64"),
		}},
	})
}

// checkInspect compares a `docker image inspect --format` of the built image.
func checkInspect(name, format, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		got, err := dockerErr("image", "inspect", "--format", format, ref)
		if err != nil {
			return err
		}
		if strings.TrimSpace(got) != want {
			return fmt.Errorf("%s of %s is %q, want %q", format, ref, strings.TrimSpace(got), want)
		}
		return nil
	}
}

func TestAccDockerImage_pull(t *testing.T) {
	env := requireTestEnv(t)
	// The registry holds a base with /marker "registry"; the engine holds a
	// different image under the same name. Only pull = true sees the former.
	base := fmt.Sprintf("%s/imagebuild-acc/pullbase-%d:latest", env.Registry, os.Getpid())
	pushImageWithMarker(t, env, base, "registry")
	imageWithMarker(t, env, base, "local")
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN cat /marker > /seen.txt\n", base)})
	config := func(pull bool) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  pull    = %t
}`, uniqueRepo(t), ctxDir, pull)
	}
	// On the containerd image store (Docker 29's default) BuildKit resolves
	// a FROM tag in the registry even without pull, as `docker build` does
	// there; the local image is only a fallback.
	withoutPull := "local"
	if containerdImageStore(t) {
		withoutPull = "registry"
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config(false), Check: checkRun(testImage, withoutPull, "cat", "/seen.txt")},
			{Config: config(true), Check: checkRun(testImage, "registry", "cat", "/seen.txt")},
		},
	})
}

// containerdImageStore says whether the engine keeps images in containerd
// (Docker 29's default store) rather than in a graph driver.
func containerdImageStore(t *testing.T) bool {
	return strings.Contains(docker(t, "info", "--format", "{{json .DriverStatus}}"), "io.containerd.snapshotter")
}

// imageWithMarker builds ref locally from the base image with /marker.
func imageWithMarker(t *testing.T, env testEnv, ref, marker string) {
	t.Helper()
	dir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo %s > /marker\n", env.BaseImage, marker)})
	cmd := exec.Command("docker", "build", "-q", "-t", ref, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = dockerErr("rmi", "-f", ref) })
}

func pushImageWithMarker(t *testing.T, env testEnv, ref, marker string) {
	t.Helper()
	imageWithMarker(t, env, ref, marker)
	docker(t, "push", ref)
}

func TestAccDockerImage_cacheFrom(t *testing.T) {
	env := requireTestEnv(t)
	cache := fmt.Sprintf("%s/imagebuild-acc/cache-%d:latest", env.Registry, os.Getpid())
	stamp := fmt.Sprintf("stamp-%d", time.Now().UnixNano())
	dockerfile := fmt.Sprintf("FROM %s\nARG STAMP\nRUN echo $STAMP $RANDOM$RANDOM > /stamp.txt\n", env.RegistryBaseImage)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": dockerfile})
	want := seedInlineCache(t, t.TempDir(), cache, stamp, ctxDir) // no login needed

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref        = %q
  context    = %q
  args       = ["STAMP=%s"]
  cache_from = [%q]
}`, uniqueRepo(t), ctxDir, stamp, cache),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, want, "cat", "/stamp.txt"),
				resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{
					"name": "[2/2] RUN echo " + stamp + " $RANDOM$RANDOM > /stamp.txt", "cached": "true",
				}),
			),
		}},
	})
}

func TestAccDockerImage_failedBuild(t *testing.T) {
	env := requireTestEnv(t)
	repo := uniqueRepo(t)
	ctxDir := writeFiles(t, map[string]string{})
	config := func(dockerfile string) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref                 = %q
  context             = %q
  dockerfile_contents = %q
}`, repo, ctxDir, dockerfile)
	}
	failing := fmt.Sprintf("FROM %s\nRUN echo first-line && echo the-last-words && exit 3\n", env.BaseImage)
	fixed := fmt.Sprintf("FROM %s\nRUN echo fixed > /fixed.txt\n", env.BaseImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config(failing),
				// Terraform wraps the message, so words may be split by newlines.
				ExpectError: regexp.MustCompile(`(?s)step\s+"\[2/2\]\s+RUN\s+echo\s+first-line.*exit\s+code:\s+3.*last\s+lines.*the-last-words`),
			},
			{
				// The failed build was saved, tainted: the same config plans a rebuild.
				Config:             config(failing),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config(fixed),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "fixed", "cat", "/fixed.txt"),
					resource.TestCheckNoResourceAttr(testImage, "status.completed.error"),
				),
			},
		},
	})
}

package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// engineAPIVersion is the Engine API version of the engine the tests use
// (DOCKER_HOST or the local socket): the tests of arguments that only newer
// engines honour expect a build there and a clear error elsewhere.
func engineAPIVersion(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(docker(t, "version", "--format", "{{.Server.APIVersion}}"))
}

// checkAllStepsUncached checks that no Dockerfile step of the last build
// (RUN, COPY) came from the cache.
func checkAllStepsUncached(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[name].Primary.Attributes
		n, _ := strconv.Atoi(attrs["status.stage_statuses.#"])
		steps := 0
		for i := range n {
			stage := attrs[fmt.Sprintf("status.stage_statuses.%d.name", i)]
			if !strings.HasPrefix(stage, "[") || strings.Contains(stage, "] FROM ") {
				// BuildKit's own vertexes (loading the definition, metadata), and
				// base images, which a build resolves rather than runs.
				continue
			}
			steps++
			if attrs[fmt.Sprintf("status.stage_statuses.%d.cached", i)] == "true" {
				return fmt.Errorf("step %q was cached", stage)
			}
		}
		if steps == 0 {
			return fmt.Errorf("no Dockerfile step in status.stage_statuses: %v", attrs)
		}
		return nil
	}
}

// Labels (docker image inspect), add_hosts (/etc/hosts of a RUN step) and
// no_cache (a rebuild that reuses no step); every engine honours them.
func TestAccDockerImage_labelsHostsNoCache(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s
RUN awk '$2 == "db.internal" { print $1 }' /etc/hosts > /hosts.txt
RUN awk '$2 == "v6.internal" { print $1 }' /etc/hosts >> /hosts.txt
`, env.BaseImage)})
	repo := uniqueRepo(t)
	config := func(gen int, noCache bool) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref       = %q
  context   = %q
  labels    = { "org.example.team" = "platform", "org.opencontainers.image.source" = "https://example.com/api" }
  add_hosts = ["db.internal:10.0.0.5", "v6.internal=[fd00::5]"]
  no_cache  = %t
  triggers  = { gen = "%d" }
}`, repo, ctxDir, noCache, gen)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config(1, false),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkInspect(testImage, `{{index .Config.Labels "org.example.team"}}`, "platform"),
					checkInspect(testImage, `{{index .Config.Labels "org.opencontainers.image.source"}}`, "https://example.com/api"),
					checkRun(testImage, "10.0.0.5\nfd00::5", "cat", "/hosts.txt"),
				),
			},
			{
				// A rebuild without no_cache reuses the steps (so the next
				// check proves something).
				Config: config(2, false),
				Check: resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{
					"name": `[2/3] RUN awk '$2 == "db.internal" { print $1 }' /etc/hosts > /hosts.txt`, "cached": "true",
				}),
			},
			{
				Config: config(3, true),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAllStepsUncached(testImage),
					checkRun(testImage, "10.0.0.5\nfd00::5", "cat", "/hosts.txt"),
				),
			},
		},
	})
}

// A Dockerfile outside the context, with its own .dockerignore beside it,
// which wins over the context's.
func TestAccDockerImage_dockerfileOutsideContext(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{
		"kept-by-dockerfile-ignore.txt": "a\n",
		"dropped.txt":                   "b\n",
		".dockerignore":                 "kept-by-dockerfile-ignore.txt\n",
	})
	dfDir := writeFiles(t, map[string]string{
		"build/api.Dockerfile":              fmt.Sprintf("FROM %s\nCOPY . /ctx/\nRUN ls /ctx > /list.txt\n", env.BaseImage),
		"build/api.Dockerfile.dockerignore": "dropped.txt\n",
	})
	dockerfile := filepath.Join(dfDir, "build", "api.Dockerfile")
	config := fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref        = %q
  context    = %q
  dockerfile = %q
}`, uniqueRepo(t), ctxDir, dockerfile)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config, Check: checkRun(testImage, "kept-by-dockerfile-ignore.txt", "cat", "/list.txt")},
			{
				// A file the Dockerfile's ignore file drops changes nothing.
				PreConfig:          func() { writeFile(t, filepath.Join(ctxDir, "dropped.txt"), "changed\n") },
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
			{
				// The Dockerfile itself is an input.
				PreConfig: func() {
					writeFile(t, dockerfile, fmt.Sprintf("FROM %s\nCOPY . /ctx/\nRUN ls /ctx > /list.txt && echo v2 >> /list.txt\n", env.BaseImage))
				},
				Config: config,
				Check:  checkRun(testImage, "kept-by-dockerfile-ignore.txt\nv2", "cat", "/list.txt"),
			},
		},
	})
}

// shm_size, ulimits and build_contexts: honoured from Docker 23.0 (API
// 1.42); on older engines (Docker 20.10) the build fails with an error that
// names the engine's version and what to do instead, and builds nothing.
func TestAccDockerImage_engineFeatures(t *testing.T) {
	env := requireTestEnv(t)
	api := engineAPIVersion(t)
	assets := writeFiles(t, map[string]string{"asset.txt": "from a named context\n", "secret.key": "ignored\n", ".dockerignore": "*.key\n"})
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": `FROM base
COPY --from=assets / /assets/
COPY --from=tools /bin/busybox /tools-busybox
RUN df -k /dev/shm | awk 'NR == 2 { print $2 }' > /shm.txt && ulimit -Sn > /nofile.txt && ulimit -Hn >> /nofile.txt && ls /assets > /assets.txt
`})
	repo := uniqueRepo(t)
	config := fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref      = %q
  context  = %q
  shm_size = "96m"
  ulimits  = ["nofile=1234:2345"]
  build_contexts = {
    assets = %q
    base   = "docker-image://%s"
    tools  = "docker-image://%s"
  }
}`, repo, ctxDir, assets, env.BaseImage, env.BaseImage)
	if versions.LessThan(api, "1.42") {
		t.Logf("engine API %s: expecting the clear error", api)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{{
				Config: config,
				ExpectError: regexp.MustCompile(`(?s)Docker\s+\S+\s+\(API\s+` + regexp.QuoteMeta(api) + `\).*` +
					`build_contexts:.*named\s+contexts.*Docker\s+23\.0.*FROM\s+IMAGE\s+AS\s+NAME.*` +
					`shm_size:.*ignores.*--mount=type=tmpfs.*ulimits:.*ignores`),
			}},
		})
		if out, _ := dockerErr("image", "ls", "-q", repo); strings.TrimSpace(out) != "" {
			t.Errorf("an image of %s exists after the refused build: %s", repo, out)
		}
		return
	}
	t.Logf("engine API %s: expecting a build that honours every argument", api)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, "98304", "cat", "/shm.txt"),
					checkRun(testImage, "1234\n2345", "cat", "/nofile.txt"),
					checkRun(testImage, "asset.txt", "cat", "/assets.txt"),
					checkRun(testImage, "from a named context", "cat", "/assets/asset.txt"),
					checkRun(testImage, "yes", "sh", "-c", "test -x /tools-busybox && echo yes"),
					checkImageMatchesState(testImage),
				),
			},
			{
				// A file the named context's .dockerignore drops changes nothing.
				PreConfig: func() { writeFile(t, filepath.Join(assets, "other.key"), "x\n") },
				Config:    config,
				PlanOnly:  true,
			},
			{
				// A file of the named context rebuilds.
				PreConfig:        func() { writeFile(t, filepath.Join(assets, "asset.txt"), "changed\n") },
				Config:           config,
				ConfigPlanChecks: expectBuildReason(testImage, "inputs changed: build_contexts assets:asset.txt"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "inputs changed: build_contexts"),
					checkRun(testImage, "changed", "cat", "/assets/asset.txt"),
				),
			},
		},
	})
}

// cliVersion is the version of the terraform (or tofu) CLI the tests run.
func cliVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %v", os.Getenv("TF_ACC_TERRAFORM_PATH"), err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	// OpenTofu may print warnings (about a missing CLI configuration) first.
	if i := strings.Index(string(out), "{"); i > 0 {
		out = out[i:]
	}
	if err := json.NewDecoder(strings.NewReader(string(out))).Decode(&v); err != nil || v.Version == "" {
		t.Fatalf("cannot read the CLI's version from %s: %v", out, err)
	}
	return v.Version
}

// cliHasWriteOnly says whether the CLI has write-only arguments: Terraform
// 1.11 and OpenTofu 1.11 and later.
func cliHasWriteOnly(t *testing.T) (bool, string) {
	v := cliVersion(t)
	return !versions.LessThan(strings.SplitN(v, "-", 2)[0], "1.11.0"), v
}

// requireWriteOnlyClient skips a test of write-only arguments on a CLI that
// cannot send them.
func requireWriteOnlyClient(t *testing.T) {
	t.Helper()
	if ok, v := cliHasWriteOnly(t); !ok {
		t.Skipf("the CLI at TF_ACC_TERRAFORM_PATH is version %s: write-only arguments need Terraform 1.11 or OpenTofu 1.11 or later", v)
	}
}

// A write-only secret reaches the build (its digest is in the image) and is
// in neither the plan file, the plan's JSON, state, the output nor the
// image; a new value with a new secret_values_wo_version rebuilds.
func TestAccDockerImage_secretValuesWriteOnly(t *testing.T) {
	env := requireTestEnv(t)
	requireWriteOnlyClient(t)
	cli := newTerraformCLI(t, "INFO")
	ctxDir := writeFiles(t, map[string]string{"app.txt": "app\n"})
	secret1 := fmt.Sprintf("wo-secret-one-%d", time.Now().UnixNano())
	secret2 := fmt.Sprintf("wo-secret-two-%d", time.Now().UnixNano())
	config := func(version string) string {
		return fmt.Sprintf(`
variable "token" {
  type      = string
  ephemeral = true
}

resource "imagebuild_docker_image" "test" {
  ref                      = %q
  context                  = %q
  secret_values_wo         = { token = var.token }
  secret_values_wo_version = %q
  dockerfile_contents      = <<-EOT
    FROM %s
    RUN --mount=type=secret,id=token,required=true echo "token: $(cat /run/secrets/token)" && \
        sha256sum /run/secrets/token | cut -c1-64 > /digest.txt # %d
  EOT
}`, uniqueRepo(t), ctxDir, version, env.BaseImage, time.Now().UnixNano())
	}
	secrets := []string{secret1, secret2}
	check := func(what, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a write-only secret value is in %s", what)
			}
		}
	}
	apply := func(secret, version string) string {
		t.Helper()
		cli.writeConfig(config(version))
		env := cli.env
		cli.env = append(env, "TF_VAR_token="+secret)
		defer func() { cli.env = env }()
		plan := cli.mustRun("plan", "-no-color", "-out=tfplan")
		check("plan output", plan)
		raw, err := os.ReadFile(filepath.Join(cli.dir, "tfplan"))
		if err != nil {
			t.Fatal(err)
		}
		check("the plan file", string(raw))
		check("the plan's JSON", cli.mustRun("show", "-json", "tfplan"))
		out := cli.mustRun("apply", "-no-color", "tfplan")
		check("apply output", out)
		state, err := os.ReadFile(filepath.Join(cli.dir, "terraform.tfstate"))
		if err != nil {
			t.Fatal(err)
		}
		check("state", string(state))
		return stateRef(t, cli, "imagebuild_docker_image")
	}

	ref := apply(secret1, "1")
	if got, want := docker(t, "run", "--rm", ref, "cat", "/digest.txt"), sha256Hex(secret1)+"\n"; got != want {
		t.Errorf("the build did not receive the secret: /digest.txt = %q, want %q", got, want)
	}
	check("docker history", docker(t, "history", "--no-trunc", ref))
	check("docker inspect", docker(t, "image", "inspect", ref))
	if log := cli.log(); !strings.Contains(log, "token: ****") {
		t.Errorf("the provider log does not show the step's masked output")
	}

	// A new value alone rebuilds nothing; with a new version it does.
	cli.env = append(cli.env, "TF_VAR_token="+secret2)
	if out, err := cli.run("plan", "-no-color", "-detailed-exitcode"); err != nil {
		t.Errorf("a new write-only value with the same version planned a change (%v):\n%s", err, out)
	}
	cli.env = cli.env[:len(cli.env)-1]
	ref2 := apply(secret2, "2")
	if got, want := docker(t, "run", "--rm", ref2, "cat", "/digest.txt"), sha256Hex(secret2)+"\n"; got != want {
		t.Errorf("the rebuild did not receive the new secret: /digest.txt = %q, want %q", got, want)
	}
	check("the provider log", cli.log())
	cli.env = append(cli.env, "TF_VAR_token="+secret2)
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

// writeCLIContext writes a Docker CLI configuration whose context name
// points at host with the TLS files of certPath, as `docker context create`
// stores it; current makes it the config file's currentContext.
func writeCLIContext(t *testing.T, dir, name, host, certPath string, current bool) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	meta, _ := json.Marshal(map[string]any{
		"Name":      name,
		"Metadata":  map[string]any{"Description": "imagebuild test"},
		"Endpoints": map[string]any{"docker": map[string]any{"Host": host, "SkipTLSVerify": false}},
	})
	for _, d := range []string{filepath.Join(dir, "contexts", "meta", id), filepath.Join(dir, "contexts", "tls", id, "docker")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "contexts", "meta", id, "meta.json"), string(meta))
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		raw, err := os.ReadFile(filepath.Join(certPath, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "contexts", "tls", id, "docker", f), string(raw))
	}
	if current {
		writeFile(t, filepath.Join(dir, "config.json"), fmt.Sprintf(`{"currentContext": %q}`, name))
	}
}

// secondEngineSocket is an engine other than the one the tests use, for a
// build that only a CLI context can reach: IMAGEBUILD_TEST_SECOND_ENGINE, else
// whichever of the machine's engines (20.10 on /var/run/docker.sock, the
// matrix's Docker 29) the tests do not use. Without one, the same engine
// serves, still reachable only through the context's TLS endpoint.
func secondEngineSocket(t *testing.T) string {
	if s := os.Getenv("IMAGEBUILD_TEST_SECOND_ENGINE"); s != "" {
		return strings.TrimPrefix(s, "unix://")
	}
	current := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if current == "" {
		current = "/var/run/docker.sock"
	}
	for _, s := range []string{"/var/run/docker.sock", "/tmp/imagebuild-matrix/docker29-containerd/docker.sock", "/tmp/imagebuild-matrix/docker29-overlay2/docker.sock"} {
		if s == current {
			continue
		}
		if _, err := dockerErr("-H", "unix://"+s, "version"); err == nil {
			return s
		}
	}
	t.Logf("no second engine answers; the test's own engine serves behind the context's TLS endpoint")
	return current
}

// With no host and no DOCKER_HOST, the provider builds on the engine of the
// Docker CLI's current context (here a TLS endpoint, so its TLS material is
// used too); DOCKER_CONTEXT wins over the config file, and an engine error
// names the context.
func TestAccDockerImage_cliContext(t *testing.T) {
	requireTestEnv(t)
	second := secondEngineSocket(t)
	engine := startTLSEngine(t, second)
	dockerConfig := t.TempDir()
	writeCLIContext(t, dockerConfig, "second-engine", "tcp://"+engine.addr, engine.certPath, true)

	cli := newTerraformCLI(t, "INFO")
	var env []string
	for _, kv := range cli.env {
		if !strings.HasPrefix(kv, "DOCKER_HOST=") && !strings.HasPrefix(kv, "DOCKER_CONTEXT=") && !strings.HasPrefix(kv, "DOCKER_CONFIG=") &&
			!strings.HasPrefix(kv, "DOCKER_CERT_PATH=") {
			env = append(env, kv)
		}
	}
	cli.env = append(env, "DOCKER_CONFIG="+dockerConfig)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY msg.txt /msg.txt\n", "msg.txt": "built through a CLI context\n"})
	cli.writeConfig(fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
}`, uniqueRepo(t), ctxDir))

	// DOCKER_CONTEXT names a context that does not exist: the error says so.
	cli.env = append(cli.env, "DOCKER_CONTEXT=no-such-context")
	out, err := cli.run("apply", "-auto-approve", "-no-color")
	if err == nil || !regexp.MustCompile(`(?s)Docker\s+CLI\s+context\s+"no-such-context"\s+\(from\s+DOCKER_CONTEXT\)`).MatchString(out) {
		t.Fatalf("want an error naming the context of DOCKER_CONTEXT, got %v:\n%s", err, out)
	}
	cli.env = cli.env[:len(cli.env)-1]

	cli.mustRun("apply", "-auto-approve", "-no-color")
	ref := stateRef(t, cli, "imagebuild_docker_image")
	if engine.accepted.Load() == 0 {
		t.Error("no connection went through the context's TLS endpoint")
	}
	if _, err := dockerErr("-H", "unix://"+second, "image", "inspect", ref); err != nil {
		t.Errorf("%s is not in the context's engine (%s): %v", ref, second, err)
	}
	current := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if current == "" {
		current = "/var/run/docker.sock"
	}
	if current != second {
		if _, err := dockerErr("image", "inspect", ref); err == nil {
			t.Errorf("%s is in the tests' own engine too, which the context does not name", ref)
		}
	}
	t.Logf("built %s on %s through the CLI context (%d TLS connections)", ref, second, engine.accepted.Load())
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

// shm_size and ulimits without named contexts go through the Engine API's
// build endpoint: honoured there from Docker 23.0, refused before.
func TestAccDockerImage_shmSizeUlimitsBuildEndpoint(t *testing.T) {
	env := requireTestEnv(t)
	api := engineAPIVersion(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf(`FROM %s
RUN df -k /dev/shm | awk 'NR == 2 { print $2 }' > /shm.txt && ulimit -Sn > /nofile.txt && ulimit -Hn >> /nofile.txt
`, env.BaseImage)})
	config := fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref      = %q
  context  = %q
  shm_size = 100663296
  ulimits  = ["nofile=1500:3000"]
}`, uniqueRepo(t), ctxDir)
	step := resource.TestStep{Config: config, Check: resource.ComposeAggregateTestCheckFunc(
		checkRun(testImage, "98304", "cat", "/shm.txt"),
		checkRun(testImage, "1500\n3000", "cat", "/nofile.txt"),
	)}
	if versions.LessThan(api, "1.42") {
		step = resource.TestStep{Config: config, ExpectError: regexp.MustCompile(
			`(?s)Docker\s+\S+\s+\(API\s+` + regexp.QuoteMeta(api) + `\).*shm_size:.*ignores.*Docker\s+23\.0.*ulimits:.*ignores`)}
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProviders, Steps: []resource.TestStep{step}})
}

// TestAccDockerImage_namedContextImageKeys: build_contexts keys that are
// image names ("golang:latest", "docker.io/library/tools:1.0") replace the
// images the Dockerfile names, as buildx reduces them. On builders in every
// cell, and on the engine where its BuildKit has named contexts (API 1.42).
func TestAccDockerImage_namedContextImageKeys(t *testing.T) {
	env := requireBuildKit(t)
	dockerfile := "FROM golang:latest\nCOPY --from=tools:1.0 /bin/busybox /tools-busybox\nRUN test -x /tools-busybox && echo replaced > /r.txt\n"
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": dockerfile})
	image := func(name, base, extra string) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" %q {
  ref     = "%s-%s"
  context = %q
  build_contexts = {
    "golang:latest"               = "docker-image://%s"
    "docker.io/library/tools:1.0" = "docker-image://%s"
  }
%s
}`, name, uniqueRepo(t), name, ctxDir, base, base, extra)
	}
	config := oneBuilderProvider(t, env.Registry, env.a) + image("builder", env.RegistryBaseImage, "  builder = \"one\"\n  cluster = \"reg\"")
	checks := []resource.TestCheckFunc{checkInRegistry("imagebuild_docker_image.builder")}
	if api := engineAPIVersion(t); !versions.LessThan(api, "1.42") {
		config = builderProvider(testEngineHost(), env.Registry, fmt.Sprintf("  builder {\n    name = \"one\"\n    buildkit = [%q]\n  }", env.a)) +
			image("builder", env.RegistryBaseImage, "  builder = \"one\"\n  cluster = \"reg\"") + image("engine", env.BaseImage, "")
		checks = append(checks, checkRun("imagebuild_docker_image.engine", "replaced", "cat", "/r.txt"))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config, Check: resource.ComposeAggregateTestCheckFunc(checks...)},
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

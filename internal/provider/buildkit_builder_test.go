package provider

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildkitd"
)

// buildkitEnv are the daemons scripts/buildkitd.sh starts for the tests.
type buildkitEnv struct {
	testEnv
	a, b, tls, certs, bin, config string
}

func requireBuildKit(t *testing.T) buildkitEnv {
	t.Helper()
	env := requireTestEnv(t)
	v := requireEnvVars(t, "IMAGEBUILD_TEST_BUILDKIT_A", "IMAGEBUILD_TEST_BUILDKIT_B", "IMAGEBUILD_TEST_BUILDKIT_TLS",
		"IMAGEBUILD_TEST_BUILDKIT_CERTS", "IMAGEBUILD_TEST_BUILDKIT_BIN", "IMAGEBUILD_TEST_BUILDKIT_CONFIG")
	return buildkitEnv{testEnv: env, a: v[0], b: v[1], tls: v[2], certs: v[3], bin: v[4], config: v[5]}
}

// noEngine is a provider host where no engine answers: a build on a
// builder that pushes must not need one.
func noEngine(t *testing.T) string {
	return "unix://" + filepath.Join(t.TempDir(), "no-engine.sock")
}

// checkStage checks that some stage has a name matching re and, when
// cached is not "", that cached value.
func checkStage(name string, re *regexp.Regexp, cached string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs := s.RootModule().Resources[name]
		if rs == nil {
			return fmt.Errorf("%s is not in state", name)
		}
		var names []string
		for i := 0; ; i++ {
			n, ok := rs.Primary.Attributes[fmt.Sprintf("status.stage_statuses.%d.name", i)]
			if !ok {
				break
			}
			c := rs.Primary.Attributes[fmt.Sprintf("status.stage_statuses.%d.cached", i)]
			if re.MatchString(n) && (cached == "" || c == cached) {
				return nil
			}
			names = append(names, fmt.Sprintf("%s (cached %s)", n, c))
		}
		return fmt.Errorf("no stage matches %s with cached=%q; stages: %s", re, cached, strings.Join(names, "; "))
	}
}

// checkImageIDIsDigest checks that image_id is the digest repo_digest names.
func checkImageIDIsDigest(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, _ := stateAttr(s, name, "image_id")
		rd, _ := stateAttr(s, name, "repo_digest")
		ref, _ := stateAttr(s, name, "status.ref")
		if _, d, _ := strings.Cut(rd, "@"); d != id || id == "" {
			return fmt.Errorf("image_id %q is not the digest of repo_digest %q", id, rd)
		}
		if !strings.HasSuffix(ref, ":tf-"+strings.TrimPrefix(id, "sha256:")[:16]) {
			return fmt.Errorf("status.ref %s does not end in the digest's first 16 hex digits (%s)", ref, id)
		}
		return nil
	}
}

// checkIndexInRegistry checks that the registry serves status.ref, an
// index or a manifest, with the digest of repo_digest.
func checkIndexInRegistry(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, _ := stateAttr(s, name, "status.ref")
		rd, _ := stateAttr(s, name, "repo_digest")
		_, want, _ := strings.Cut(rd, "@")
		host, rest, _ := strings.Cut(ref, "/")
		i := strings.LastIndex(rest, ":")
		req, _ := http.NewRequest(http.MethodHead, fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, rest[:i], rest[i+1:]), nil)
		req.Header.Set("Accept", indexMediaTypes+", "+manifestMediaTypes)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if got := resp.Header.Get("Docker-Content-Digest"); resp.StatusCode != http.StatusOK || got != want {
			return fmt.Errorf("registry: %s answered %d with digest %q, want 200 and %s", ref, resp.StatusCode, got, want)
		}
		return nil
	}
}

const indexMediaTypes = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json"

// registryPlatforms reads the index that ref names in a plain-HTTP registry
// and returns its manifests' platforms.
func registryPlatforms(ref string) ([]string, error) {
	host, rest, _ := strings.Cut(ref, "/")
	i := strings.LastIndex(rest, ":")
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, rest[:i], rest[i+1:]), nil)
	req.Header.Set("Accept", indexMediaTypes)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var index struct {
		MediaType string
		Manifests []struct {
			Platform struct{ OS, Architecture string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&index); err != nil {
		return nil, fmt.Errorf("GET %s: %d, %v", req.URL, resp.StatusCode, err)
	}
	var out []string
	for _, m := range index.Manifests {
		out = append(out, m.Platform.OS+"/"+m.Platform.Architecture)
	}
	slices.Sort(out)
	return out, nil
}

// checkPullAndRun pulls status.ref with the machine's engine (the image was
// never in it) and runs cmd in it.
func checkPullAndRun(t *testing.T, name, want string, cmd ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		if _, err := dockerErr("pull", "-q", ref); err != nil {
			return err
		}
		t.Cleanup(func() { dockerErr("rmi", ref) })
		out, err := dockerErr(append([]string{"run", "--rm", ref}, cmd...)...)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != want {
			return fmt.Errorf("docker run %s printed %q, want %q", ref, out, want)
		}
		return nil
	}
}

func buildctl(t *testing.T, env buildkitEnv, addr string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.bin, "buildctl"), append([]string{"--addr", addr}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buildctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// testEngineHost is the engine the tests' docker CLI talks to: the matrix
// cell's (DOCKER_HOST) or the machine's.
func testEngineHost() string {
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		return host
	}
	return "unix:///var/run/docker.sock"
}

func builderProvider(host, registryHost, builders string) string {
	return fmt.Sprintf(`
provider "imagebuild" {
  host = %q
  cluster {
    name = "reg"
    registry {
      host = %q
    }
  }
%s
}
`, host, registryHost, builders)
}

// oneBuilderProvider is builderProvider with one builder, "one", of the
// daemon at address, and no engine.
func oneBuilderProvider(t *testing.T, registryHost, address string) string {
	return builderProvider(noEngine(t), registryHost, fmt.Sprintf("  builder {\n    name = \"one\"\n    buildkit = [%q]\n  }", address))
}

// TestAccBuilder_fleetTwoPlatforms: two daemons as one builder, two
// platforms, pushed to the cluster's registry, with no Docker engine.
func TestAccBuilder_fleetTwoPlatforms(t *testing.T) {
	env := requireBuildKit(t)
	repo := uniqueRepo(t)
	clusterRepo := env.Registry + "/" + strings.ReplaceAll(repo, "/", "_")
	daemon := buildkitd.Order([]string{env.a, env.b}, clusterRepo)[0]
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY f /f\nRUN echo built-on-run >> /f\n", env.RegistryBaseImage),
		"f":          fmt.Sprintf("from the context %d\n", time.Now().UnixNano()),
	})
	content, _ := os.ReadFile(filepath.Join(ctxDir, "f"))
	config := builderProvider(noEngine(t), env.Registry, fmt.Sprintf("  builder {\n    name = \"fleet\"\n    buildkit = [%q, %q]\n  }", env.a, env.b)) +
		fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref       = %q
  context   = %q
  cluster   = "reg"
  builder   = "fleet"
  platforms = ["linux/amd64", "linux/386"]
}`, repo, ctxDir)
	var repoDigest string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(clusterRepo)+`:tf-[0-9a-f]{16}$`)),
					resource.TestMatchResourceAttr(testImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(clusterRepo)+`@sha256:[0-9a-f]{64}$`)),
					checkImageIDIsDigest(testImage),
					checkIndexInRegistry(testImage),
					checkStage(testImage, regexp.MustCompile("^buildkitd "+regexp.QuoteMeta(daemon)+"$"), ""),
					checkStage(testImage, regexp.MustCompile(`RUN echo built-on-run`), "false"),
					func(s *terraform.State) error {
						ref, _ := stateAttr(s, testImage, "status.ref")
						got, err := registryPlatforms(ref)
						if err != nil {
							return err
						}
						if want := []string{"linux/386", "linux/amd64"}; !slices.Equal(got, want) {
							return fmt.Errorf("the index of %s lists %v, want %v", ref, got, want)
						}
						return nil
					},
					checkPullAndRun(t, testImage, string(content)+"built-on-run", "cat", "/f"),
					saveAttr(testImage, "repo_digest", &repoDigest),
				),
			},
			// Read asks the registry, not the (absent) engine: nothing to do.
			{Config: config, ConfigPlanChecks: expectNoChange()},
			{
				// Gone from the registry: rebuilt, still without an engine.
				PreConfig:        func() { deleteFromRegistry(t, repoDigest) },
				Config:           config,
				ConfigPlanChecks: expectInPlaceUpdate(testImage),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "image missing"),
					checkIndexInRegistry(testImage),
				),
			},
		},
	})
}

// TestAccBuilder_cacheExportImport: cache_to local and registry, then
// cache_from each after the daemon's cache is pruned: the steps are cached.
func TestAccBuilder_cacheExportImport(t *testing.T) {
	env := requireBuildKit(t)
	repo := uniqueRepo(t)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	cacheRef := fmt.Sprintf("%s/imagebuild-acc/cache-%d:buildcache", env.Registry, os.Getpid())
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY f /f\nRUN echo %d > /run.txt && sleep 1\n", env.RegistryBaseImage, time.Now().UnixNano()),
		"f":          "cache me\n",
	})
	config := func(cache, trigger string) string {
		return oneBuilderProvider(t, env.Registry, env.a) +
			fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref      = %q
  context  = %q
  cluster  = "reg"
  builder  = "one"
  triggers = { n = %q }
  %s
}`, repo, ctxDir, trigger, cache)
	}
	prune := func() { buildctl(t, env, env.a, "prune", "--all") }
	run := regexp.MustCompile(`RUN echo \d+ > /run.txt`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config(fmt.Sprintf(`cache_to = ["type=local,dest=%s", "type=registry,ref=%s,mode=max"]`, cacheDir, cacheRef), "1"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStage(testImage, run, "false"),
					func(*terraform.State) error {
						if _, err := os.Stat(filepath.Join(cacheDir, "index.json")); err != nil {
							return fmt.Errorf("no local cache exported: %v", err)
						}
						if status, _, err := registryManifest(http.MethodHead, cacheRef); err != nil || status != http.StatusOK {
							return fmt.Errorf("no registry cache at %s: %d %v", cacheRef, status, err)
						}
						return nil
					},
				),
			},
			{
				PreConfig: prune,
				Config:    config(fmt.Sprintf(`cache_from = ["type=local,src=%s"]`, cacheDir), "2"),
				Check:     checkStage(testImage, run, "true"),
			},
			{
				PreConfig: prune,
				Config:    config(fmt.Sprintf(`cache_from = ["type=registry,ref=%s"]`, cacheRef), "3"),
				Check:     checkStage(testImage, run, "true"),
			},
			{
				// Without any cache import, after a prune, the step runs.
				PreConfig: prune,
				Config:    config("", "4"),
				Check:     checkStage(testImage, run, "false"),
			},
		},
	})
}

// TestAccBuilder_load: load = true puts the image into the engine; with a
// cluster registry the engine pushes it, as on the engine path.
func TestAccBuilder_load(t *testing.T) {
	env := requireBuildKit(t)
	repo := uniqueRepo(t)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo loaded > /loaded.txt\n", env.RegistryBaseImage),
	})
	var ref, ref2 string
	builders := fmt.Sprintf("  builder {\n    name = \"b\"\n    buildkit = [%q]\n  }", env.b)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkTagsGone(&ref2),
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf("provider \"imagebuild\" {\n%s\n}\n", builders) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  builder = "b"
  load    = true
}`, repo, ctxDir),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
					resource.TestCheckNoResourceAttr(testImage, "repo_digest"),
					checkImageMatchesState(testImage),
					checkRun(testImage, "loaded", "cat", "/loaded.txt"),
					checkStage(testImage, regexp.MustCompile("^buildkitd "+regexp.QuoteMeta(env.b)+"$"), ""),
					saveAttr(testImage, "status.ref", &ref),
					func(*terraform.State) error {
						// The load's temporary name is gone.
						out, _ := dockerErr("images", "--format", "{{.Tag}}", repo)
						if strings.Contains(out, "tf-build-") {
							return fmt.Errorf("a temporary tag is left: %s", out)
						}
						return nil
					},
				),
			},
			{
				Config: builderProvider(testEngineHost(), env.Registry, builders) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = "b"
  load    = true
}`, repo, ctxDir),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkImageMatchesState(testImage),
					checkIndexInRegistry(testImage),
					checkStage(testImage, regexp.MustCompile("^docker push$"), "false"),
					saveAttr(testImage, "status.ref", &ref2),
					// The previous build's tag is removed.
					func(*terraform.State) error { return checkTagsGone(&ref)(nil) },
				),
			},
		},
	})
}

// TestAccBuilder_tls: mutual TLS with certificates from cert_path; a
// cert_path without them is an error that names the missing file.
func TestAccBuilder_tls(t *testing.T) {
	env := requireBuildKit(t)
	repo := uniqueRepo(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo tls > /tls.txt\n", env.RegistryBaseImage)})
	config := func(certs string) string {
		return builderProvider(noEngine(t), env.Registry, fmt.Sprintf("  builder {\n    name = \"tls\"\n    buildkit = [%q]\n    cert_path = %q\n  }", env.tls, certs)) +
			fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = "tls"
}`, repo, ctxDir)
	}
	empty := t.TempDir()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      config(empty),
				ExpectError: regexp.MustCompile(`(?s)cert_path\s.*has\s+no\s+ca\.pem`),
			},
			{
				Config: config(env.certs),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkIndexInRegistry(testImage),
					checkStage(testImage, regexp.MustCompile("^buildkitd "+regexp.QuoteMeta(env.tls)+"$"), ""),
				),
			},
		},
	})
	// Without client certificates the daemon refuses, and the error names it.
	// A fresh state with the same inputs would adopt the image pushed above
	// without asking the daemon: reuse is off so that it builds.
	noCerts := strings.Replace(config(env.certs), fmt.Sprintf("    cert_path = %q\n", env.certs), "", 1)
	noCerts = strings.Replace(noCerts, `builder = "tls"`, "builder = \"tls\"\n  reuse_from_registry = false", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      noCerts,
			ExpectError: regexp.MustCompile(`(?s)no daemon of builder "tls" answers.*` + regexp.QuoteMeta(env.tls)),
		}},
	})
}

// startDaemon starts a buildkitd of the test's own on a free port.
func startDaemon(t *testing.T, env buildkitEnv) (string, *exec.Cmd) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + l.Addr().String()
	l.Close()
	root, err := os.MkdirTemp("", "imagebuild-buildkitd-")
	if err != nil {
		t.Fatal(err)
	}
	log, _ := os.Create(root + ".log")
	cmd := exec.Command(filepath.Join(env.bin, "buildkitd"), "--config", env.config, "--root", root, "--addr", addr)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
		os.RemoveAll(root)
		os.Remove(root + ".log")
	})
	for i := 0; i < 100; i++ {
		if exec.Command(filepath.Join(env.bin, "buildctl"), "--addr", addr, "debug", "workers").Run() == nil {
			return addr, cmd
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, _ := os.ReadFile(root + ".log")
	t.Fatalf("buildkitd on %s did not answer:\n%s", addr, out)
	return "", nil
}

// TestAccBuilder_failover: an image goes to its daemon; once that daemon
// is killed, the next build goes to the next in the hash order.
func TestAccBuilder_failover(t *testing.T) {
	env := requireBuildKit(t)
	own, cmd := startDaemon(t, env)
	// A repository whose first daemon is the test's own.
	var repo, clusterRepo string
	for i := 0; ; i++ {
		repo = fmt.Sprintf("%s-%d", uniqueRepo(t), i)
		clusterRepo = env.Registry + "/" + strings.ReplaceAll(repo, "/", "_")
		if buildkitd.Order([]string{own, env.a}, clusterRepo)[0] == own {
			break
		}
	}
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY f /f\n", env.RegistryBaseImage),
		"f":          "one\n",
	})
	config := builderProvider(noEngine(t), env.Registry, fmt.Sprintf("  builder {\n    name = \"fleet\"\n    buildkit = [%q, %q]\n  }", env.a, own)) +
		fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = "fleet"
}`, repo, ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  checkStage(testImage, regexp.MustCompile("^buildkitd "+regexp.QuoteMeta(own)+"$"), ""),
			},
			{
				PreConfig: func() {
					syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					cmd.Wait()
					if err := os.WriteFile(filepath.Join(ctxDir, "f"), []byte("two\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStage(testImage, regexp.MustCompile("^buildkitd "+regexp.QuoteMeta(env.a)+"$"), ""),
					checkIndexInRegistry(testImage),
					checkPullAndRun(t, testImage, "two", "cat", "/f"),
				),
			},
		},
	})
}

// TestAccBuilder_secretMaskedAndFailure: a failed build on a daemon names
// the daemon, the failing step and its last lines, with the secret it
// printed masked.
func TestAccBuilder_secretMaskedAndFailure(t *testing.T) {
	env := requireBuildKit(t)
	secret := fmt.Sprintf("s3cr3t-%d", time.Now().UnixNano())
	t.Setenv("IMAGEBUILD_BUILDER_SECRET", secret)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN --mount=type=secret,id=tok echo \"token is $(cat /run/secrets/tok)\" && exit 3\n", env.RegistryBaseImage),
	})
	config := oneBuilderProvider(t, env.Registry, env.b) +
		fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = "one"
  secrets = ["id=tok,env=IMAGEBUILD_BUILDER_SECRET"]
}`, uniqueRepo(t), ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: regexp.MustCompile(`(?s)buildkitd\s+` + regexp.QuoteMeta(env.b) + `.*step\s+"\[[^\]]*2/2\]\s+RUN.*failed.*exit\s+code:\s+3.*token\s+is\s+\*\*\*\*`),
		}},
	})
}

// TestAccBuilder_timeoutCancelsSolve: a create timeout cancels the solve on
// the daemon at once: the error says which timeout ran out, and the RUN
// step's process is gone.
func TestAccBuilder_timeoutCancelsSolve(t *testing.T) {
	env := requireBuildKit(t)
	// Unique on the machine: another matrix cell may run this test meanwhile.
	sleep := fmt.Sprintf("%d", 100000+time.Now().UnixNano()%900000)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN sleep %s\n", env.RegistryBaseImage, sleep)})
	config := oneBuilderProvider(t, env.Registry, env.a) +
		fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = "one"
  timeouts {
    create = "5s"
  }
}`, uniqueRepo(t), ctxDir)
	started := time.Now()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: regexp.MustCompile(`(?s)build\s+cancelled.*create\s+timeout\s+of\s+5s\s+ran\s+out`),
		}},
	})
	if took := time.Since(started); took > 60*time.Second {
		t.Errorf("the cancelled build took %s", took)
	}
	time.Sleep(2 * time.Second)
	out, _ := exec.Command("pgrep", "-f", "^sleep "+sleep+"$").Output()
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("the RUN step still runs on the daemon after the cancel: pids %s", out)
	}
}

// TestAccBuilder_buildSurface: the engine path's build arguments work on a
// daemon too: a Dockerfile outside the context, a named local context,
// labels, add_hosts and a write-only-free secret spec.
func TestAccBuilder_buildSurface(t *testing.T) {
	env := requireBuildKit(t)
	ctxDir := writeFiles(t, map[string]string{"app.txt": "app\n"})
	extra := writeFiles(t, map[string]string{"extra.txt": "extra\n"})
	dockerfile := filepath.Join(writeFiles(t, map[string]string{
		"build.Dockerfile": fmt.Sprintf("FROM %s\nCOPY app.txt /app.txt\nCOPY --from=assets extra.txt /extra.txt\n"+
			"RUN grep -q 'db.internal' /etc/hosts && cat /app.txt /extra.txt > /both.txt\n", env.RegistryBaseImage),
	}), "build.Dockerfile")
	config := oneBuilderProvider(t, env.Registry, env.b) +
		fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref            = %q
  context        = %q
  dockerfile     = %q
  build_contexts = { assets = %q }
  labels         = { "org.example.built-by" = "buildkitd" }
  add_hosts      = ["db.internal:10.0.0.5"]
  cluster        = "reg"
  builder        = "one"
}`, uniqueRepo(t), ctxDir, dockerfile, extra)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkIndexInRegistry(testImage),
				checkPullAndRun(t, testImage, "app\nextra", "cat", "/both.txt"),
				checkInspect(testImage, `{{index .Config.Labels "org.example.built-by"}}`, "buildkitd"),
			),
		}},
	})
}

// TestAccBuilder_registryAuth: the daemon pulls FROM and pushes with the
// credentials of registry_auth, served from this machine by the session,
// and the tf- tag is made with the same credentials.
func TestAccBuilder_registryAuth(t *testing.T) {
	env := requireBuildKit(t)
	reg := requireTLSRegistry(t)
	reg.host = requireEnvVars(t, "IMAGEBUILD_TEST_AUTH_REGISTRY")[0]
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s/imagebuild-test/busybox:latest\nRUN echo %d > /stamp\n", reg.host, time.Now().UnixNano()),
	})
	config := fmt.Sprintf(`
provider "imagebuild" {
  host = %q
  builder {
    name     = "one"
    buildkit = [%q]
  }
  registry_auth {
    address  = %q
    username = %q
    password = %q
  }
  cluster {
    name = "auth"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "auth"
  builder = "one"
}`, noEngine(t), env.a, reg.host, reg.user, reg.password, reg.host, uniqueRepo(t), ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(reg.host)+`/.*:tf-[0-9a-f]{16}$`)),
					checkImageIDIsDigest(testImage),
				),
			},
			// The refresh asks the registry with the same credentials.
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

// A tcp:// daemon on another host without cert_path is accepted when the
// block says insecure = true; loopback and unix:// addresses, and any with
// cert_path, need nothing (the refusals are in TestAccBadInput). Planning
// contacts no daemon.
func TestAccBuilder_plainTCPAcceptedWhenSafe(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	builders := `  builder {
    name     = "remote"
    buildkit = ["tcp://buildkitd.example.com:1234", "tcp://10.0.0.5:1234"]
    insecure = true
  }
  builder {
    name     = "local"
    buildkit = ["tcp://127.0.0.1:1", "tcp://127.1.2.3:1", "tcp://localhost:1", "tcp://[::1]:1", "unix:///run/no-buildkitd.sock"]
  }
  builder {
    name      = "tls"
    buildkit  = ["tcp://buildkitd.example.com:1234"]
    cert_path = "/nonexistent/certs"
  }`
	config := builderProvider(noEngine(t), env.Registry, builders)
	for _, name := range []string{"remote", "local", "tls"} {
		config += fmt.Sprintf(`
resource "imagebuild_docker_image" %q {
  ref     = %q
  context = %q
  cluster = "reg"
  builder = %q
}
`, name, uniqueRepo(t)+"-"+name, ctxDir, name)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    []resource.TestStep{{Config: config, PlanOnly: true, ExpectNonEmptyPlan: true}},
	})
}

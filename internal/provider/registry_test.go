package provider

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const manifestMediaTypes = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"

// registryManifest asks a plain-HTTP registry for ref's manifest and returns
// the HTTP status and the digest it reports.
func registryManifest(method, ref string) (int, string, error) {
	host, rest, _ := strings.Cut(ref, "/")
	name, tagOrDigest, ok := strings.Cut(rest, "@")
	if !ok {
		i := strings.LastIndex(rest, ":")
		name, tagOrDigest = rest[:i], rest[i+1:]
	}
	req, err := http.NewRequest(method, fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, name, tagOrDigest), nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", manifestMediaTypes)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), nil
}

// deleteFromRegistry deletes the manifest that the digest ref names, as a
// registry clean-up would: the image is then gone from the registry.
func deleteFromRegistry(t *testing.T, digestRef string) {
	t.Helper()
	status, _, err := registryManifest(http.MethodDelete, digestRef)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("deleting %s from the registry: %d %v", digestRef, status, err)
	}
}

// checkInRegistry checks that the registry serves each ref (attribute values
// of name, or literal refs) with the digest recorded in repo_digest.
func checkInRegistry(name string, literal ...*string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		repoDigest, err := stateAttr(s, name, "repo_digest")
		if err != nil {
			return err
		}
		_, wantDigest, _ := strings.Cut(repoDigest, "@")
		refs := []string{ref}
		for _, l := range literal {
			refs = append(refs, *l)
		}
		for _, r := range refs {
			status, digest, err := registryManifest(http.MethodHead, r)
			if err != nil {
				return err
			}
			if status != http.StatusOK || digest != wantDigest {
				return fmt.Errorf("registry: %s answered %d with digest %q, want 200 and %s", r, status, digest, wantDigest)
			}
		}
		return nil
	}
}

func TestAccDockerImage_pushToClusterRegistry(t *testing.T) {
	env := requireTestEnv(t)
	name := fmt.Sprintf("imagebuild-acc/push-%d", os.Getpid())
	pushed := fmt.Sprintf("%s/imagebuild-acc_push-%d", env.Registry, os.Getpid())
	// Extra tags are applied as written: one that names the registry is
	// pushed, a local one is not.
	stable := pushed + ":stable"
	local := name + ":local"
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo pushed > /pushed.txt\n", env.BaseImage),
	})
	config := fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "local"
    registry {
      host              = %q
      host_from_cluster = "registry.cluster.internal:5000"
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref        = %q
  context    = %q
  cluster    = "local"
  extra_tags = [%q, %q]
}`, env.Registry, name, ctxDir, stable, local)
	var ref, repoDigest string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`:tf-[0-9a-f]{16}$`)),
					resource.TestMatchResourceAttr(testImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`@sha256:[0-9a-f]{64}$`)),
					resource.TestMatchResourceAttr(testImage, "cluster_ref", regexp.MustCompile(
						fmt.Sprintf(`^registry\.cluster\.internal:5000/imagebuild-acc_push-%d:tf-[0-9a-f]{16}$`, os.Getpid()))),
					resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{"name": "docker push", "cached": "false"}),
					checkInRegistry(testImage, &stable),
					checkRun(testImage, "pushed", "cat", "/pushed.txt"),
					checkSameImage(testImage, &local),
					saveAttr(testImage, "status.ref", &ref),
					saveAttr(testImage, "repo_digest", &repoDigest),
				),
			},
			{
				// A fresh CI runner: the engine lost the image, the registry has it.
				PreConfig:        func() { docker(t, "rmi", ref, stable, local) },
				Config:           config,
				ConfigPlanChecks: expectNoChange(),
			},
			{
				// Gone from both: rebuilt and pushed again.
				PreConfig:        func() { deleteFromRegistry(t, repoDigest) },
				Config:           config,
				ConfigPlanChecks: expectInPlaceUpdate(testImage),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(testImage, "status.completed.reason", "image missing"),
					checkInRegistry(testImage, &stable),
					saveAttr(testImage, "status.ref", &ref),
				),
			},
			{
				// host_from_cluster changes cluster_ref only: no build.
				Config: strings.Replace(config, "registry.cluster.internal:5000", "registry.other:5000", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testImage, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testImage, tfjsonpath.New("status").AtMapKey("ref"), knownvalue.StringFunc(func(v string) error {
						if v != ref {
							return fmt.Errorf("planned status.ref %s, want the unchanged %s", v, ref)
						}
						return nil
					})),
					plancheck.ExpectKnownValue(testImage, tfjsonpath.New("cluster_ref"),
						knownvalue.StringRegexp(regexp.MustCompile(`^registry\.other:5000/`))),
				}},
				Check: resource.TestCheckResourceAttr(testImage, "status.completed.reason", "image missing"),
			},
		},
	})
}

func TestAccDockerImage_clusterArchAndBaseImage(t *testing.T) {
	env := requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY f /f\n", "f": "x\n"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "arm"
    arch = "arm64"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref           = %q
  context       = %q
  cluster       = "arm"
  cluster_needs = "base-image"
}`, env.Registry, uniqueRepo(t), ctxDir),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkInspect(testImage, "{{.Os}}/{{.Architecture}}", "linux/arm64"),
				// base-image: named for the registry, but kept local.
				resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(env.Registry)+"/")),
				resource.TestCheckNoResourceAttr(testImage, "repo_digest"),
				func(s *terraform.State) error {
					ref, _ := stateAttr(s, testImage, "status.ref")
					if status, _, err := registryManifest(http.MethodHead, ref); err != nil || status != http.StatusNotFound {
						return fmt.Errorf("cluster_needs = base-image pushed %s anyway (%d, %v)", ref, status, err)
					}
					return nil
				},
			),
		}},
	})
}

func TestAccCmdImage_pushToClusterRegistry(t *testing.T) {
	env := requireTestEnv(t)
	pushed := fmt.Sprintf("%s/imagebuild-acc_cmd-push-%d", env.Registry, os.Getpid())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "local"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_cmd_image" "test" {
  ref     = "imagebuild-acc/cmd-push-%d"
  cluster = "local"
  args    = ["sh", "-c", "test \"$EXPECTED_REGISTRY\" = \"$REGISTRY_HOST\" && docker tag %s \"$EXPECTED_REF\""]
}`, env.Registry, os.Getpid(), env.BaseImage),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testCmdImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`:tf-[0-9a-f]{16}$`)),
				resource.TestMatchResourceAttr(testCmdImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`@sha256:`)),
				// No host_from_cluster: the cluster pulls what was pushed.
				resource.TestCheckResourceAttrPair(testCmdImage, "cluster_ref", testCmdImage, "status.ref"),
				checkInRegistry(testCmdImage),
			),
		}},
	})
}

func TestAccDockerImage_unknownCluster(t *testing.T) {
	requireTestEnv(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = "x"
  context = %q
  cluster = "staging"
}`, ctxDir),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Unknown cluster.*"staging"`),
		}},
	})
}

// tlsRegistry is the registry with TLS and htpasswd auth that
// scripts/testenv.sh starts; the engine trusts its CA through certs.d.
type tlsRegistry struct {
	host, user, password string
}

func requireTLSRegistry(t *testing.T) tlsRegistry {
	t.Helper()
	r := tlsRegistry{
		host:     os.Getenv("IMAGEBUILD_TEST_TLS_REGISTRY"),
		user:     os.Getenv("IMAGEBUILD_TEST_TLS_REGISTRY_USER"),
		password: os.Getenv("IMAGEBUILD_TEST_TLS_REGISTRY_PASSWORD"),
	}
	if r.host == "" || r.user == "" || r.password == "" {
		t.Fatal("IMAGEBUILD_TEST_TLS_REGISTRY, _USER and _PASSWORD are not set: run the tests with `make test`")
	}
	return r
}

func tlsRegistryConfig(reg tlsRegistry, auth, repo, ctxDir string) string {
	return fmt.Sprintf(`
provider "imagebuild" {
  %s
  cluster {
    name = "secure"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  cluster = "secure"
}`, auth, reg.host, repo, ctxDir)
}

func TestAccDockerImage_pushWithRegistryAuth(t *testing.T) {
	env := requireTestEnv(t)
	reg := requireTLSRegistry(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no stored logins
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo secure > /s.txt\n", env.BaseImage)})
	auth := func(password string) string {
		return fmt.Sprintf("registry_auth {\n    address  = %q\n    username = %q\n    password = %q\n  }", reg.host, reg.user, password)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      tlsRegistryConfig(reg, auth("wrong-password"), uniqueRepo(t)+"-denied", ctxDir),
				ExpectError: regexp.MustCompile(`(?s)pushing.*to\s+registry\s+` + regexp.QuoteMeta(reg.host) + `.*credentials`),
			},
			{
				Config: tlsRegistryConfig(reg, auth(reg.password), uniqueRepo(t), ctxDir),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(reg.host)+"/")),
					resource.TestMatchResourceAttr(testImage, "repo_digest", regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)),
					checkPasswordAbsent(testImage, reg.password),
				),
			},
		},
	})
}

func TestAccDockerImage_pushWithDockerConfigCredentials(t *testing.T) {
	env := requireTestEnv(t)
	reg := requireTLSRegistry(t)
	t.Setenv("DOCKER_CONFIG", dockerConfigWithLogin(t, reg.host, reg.user, reg.password))
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo from-config > /s.txt\n", env.BaseImage)})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: tlsRegistryConfig(reg, "", uniqueRepo(t), ctxDir),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(reg.host)+`/.*@sha256:[0-9a-f]{64}$`)),
				resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{"name": "docker push"}),
			),
		}},
	})
}

// dockerConfigWithLogin writes a Docker config directory holding a login for
// host, as `docker login` would.
func dockerConfigWithLogin(t *testing.T, host, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	token := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	writeFile(t, filepath.Join(dir, "config.json"), fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, token))
	return dir
}

// BuildKit itself needs the credentials here: FROM and cache_from both come
// from a registry that refuses anonymous pulls; authprovider serves them.
func TestAccDockerImage_pullAndCacheFromWithRegistryAuth(t *testing.T) {
	requireTestEnv(t)
	reg := requireTLSRegistry(t)
	reg.host = requireEnvVars(t, "IMAGEBUILD_TEST_AUTH_REGISTRY")[0]
	base := reg.host + "/imagebuild-test/busybox:latest"
	cache := fmt.Sprintf("%s/imagebuild-acc/authcache-%d:latest", reg.host, os.Getpid())
	stamp := fmt.Sprintf("stamp-%d", time.Now().UnixNano())
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nARG STAMP\nRUN echo $STAMP $RANDOM$RANDOM > /stamp.txt\n", base),
	})
	want := seedInlineCache(t, dockerConfigWithLogin(t, reg.host, reg.user, reg.password), cache, stamp, ctxDir)

	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no stored logins: only registry_auth
	config := func(auth string) string {
		return fmt.Sprintf(`
provider "imagebuild" {
  %s
}

resource "imagebuild_docker_image" "test" {
  ref        = %q
  context    = %q
  args       = ["STAMP=%s"]
  cache_from = [%q]
  pull       = true
}`, auth, uniqueRepo(t), ctxDir, stamp, cache)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      config(""),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(reg.host) + `.*401\s+Unauthorized.*registry_auth`),
			},
			{
				Config: config(fmt.Sprintf("registry_auth {\n    address  = %q\n    username = %q\n    password = %q\n  }", reg.host, reg.user, reg.password)),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRun(testImage, want, "cat", "/stamp.txt"),
					resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{
						"name": "[2/2] RUN echo " + stamp + " $RANDOM$RANDOM > /stamp.txt", "cached": "true",
					}),
					checkPasswordAbsent(testImage, reg.password),
				),
			},
		},
	})
}

// seedInlineCache builds ctxDir with inline cache metadata as cache, pushes
// it with the Docker config in dockerConfig, and forgets it locally, build
// cache included, so that only the registry can supply it. It returns the
// image's /stamp.txt.
func seedInlineCache(t *testing.T, dockerConfig, cache, stamp, ctxDir string) string {
	t.Helper()
	cli := func(args ...string) string {
		cmd := exec.Command("/usr/bin/docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1", "DOCKER_CONFIG="+dockerConfig)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cli("build", "-q", "--build-arg", "BUILDKIT_INLINE_CACHE=1", "--build-arg", "STAMP="+stamp, "-t", cache, ctxDir)
	cli("push", cache)
	stamped := strings.TrimSpace(cli("run", "--rm", cache, "cat", "/stamp.txt"))
	cli("rmi", cache)
	cli("builder", "prune", "-af")
	return stamped
}

// checkPasswordAbsent checks that the registry password is nowhere in state.
func checkPasswordAbsent(name, password string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, rs := range s.RootModule().Resources {
			if strings.Contains(fmt.Sprint(rs.Primary.Attributes), password) {
				return fmt.Errorf("the registry password is in the state of %s", name)
			}
		}
		return nil
	}
}

// TestAccDockerImage_refNamingRegistryIsPushed: with no provider cluster
// block (the README's first example), a ref that names a registry, one with
// a path in it, is pushed there; a ref without a registry stays in the
// engine, and so does a base-image one.
func TestAccDockerImage_refNamingRegistryIsPushed(t *testing.T) {
	env := requireTestEnv(t)
	pushed := fmt.Sprintf("%s/team/%s", env.Registry, uniqueRepo(t))
	local := uniqueRepo(t) + "-local"
	base := fmt.Sprintf("%s/team/%s-base", env.Registry, uniqueRepo(t))
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo pushed > /pushed.txt\n", env.BaseImage),
	})
	config := fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = "%[1]s:v1"
  context = %[4]q
}

resource "imagebuild_docker_image" "local" {
  ref     = %[2]q
  context = %[4]q
}

resource "imagebuild_docker_image" "base" {
  ref           = %[3]q
  context       = %[4]q
  cluster_needs = "base-image"
}

resource "imagebuild_cmd_image" "test" {
  ref  = "%[1]s-cmd"
  args = ["sh", "-c", "docker tag %[5]s \"$EXPECTED_REF\""]
}`, pushed, local, base, ctxDir, env.BaseImage)
	tagged := pushed + ":v1"
	var ref string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`:tf-[0-9a-f]{16}$`)),
					resource.TestMatchResourceAttr(testImage, "repo_digest", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`@sha256:[0-9a-f]{64}$`)),
					resource.TestCheckTypeSetElemNestedAttrs(testImage, "status.stage_statuses.*", map[string]string{"name": "docker push", "cached": "false"}),
					checkInRegistry(testImage, &tagged),
					checkRun(testImage, "pushed", "cat", "/pushed.txt"),
					saveAttr(testImage, "status.ref", &ref),
					resource.TestMatchResourceAttr(testCmdImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(pushed)+`-cmd:tf-[0-9a-f]{16}$`)),
					checkInRegistry(testCmdImage),
					resource.TestCheckNoResourceAttr("imagebuild_docker_image.local", "repo_digest"),
					checkImageMatchesState("imagebuild_docker_image.local"),
					resource.TestCheckNoResourceAttr("imagebuild_docker_image.base", "repo_digest"),
					checkNotInRegistry("imagebuild_docker_image.base"),
				),
			},
			{
				// A fresh CI runner: the engine lost the image, the registry
				// has it, so nothing is planned.
				PreConfig:        func() { docker(t, "rmi", ref, tagged) },
				Config:           config,
				ConfigPlanChecks: expectNoChange(),
			},
		},
	})
}

// checkNotInRegistry checks that the registry does not hold name's status.ref.
func checkNotInRegistry(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ref, err := stateAttr(s, name, "status.ref")
		if err != nil {
			return err
		}
		status, _, err := registryManifest(http.MethodHead, ref)
		if err != nil || status != http.StatusNotFound {
			return fmt.Errorf("registry: %s answered %d (%v), want 404: it must not be pushed", ref, status, err)
		}
		return nil
	}
}

// TestAccDockerImage_registryWithPath: a cluster registry with a path (as
// Artifact Registry requires), seen by the cluster under another host, and
// one with single_name: every image in one repository, its name in the tag.
func TestAccDockerImage_registryWithPath(t *testing.T) {
	env := requireTestEnv(t)
	name := fmt.Sprintf("team/api-%d", os.Getpid())
	escaped := strings.ReplaceAll(name, "/", "_")
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo with-path > /path.txt\n", env.BaseImage),
	})
	config := fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "path"
    registry {
      host              = "%[1]s/acme/images"
      host_from_cluster = "registry.cluster:5000/acme/images"
    }
  }
  cluster {
    name = "single"
    registry {
      host        = "%[1]s/acme"
      single_name = "all-images"
    }
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = %[2]q
  context = %[3]q
  cluster = "path"
}

resource "imagebuild_docker_image" "single" {
  ref     = "%[2]s:v1"
  context = %[3]q
  cluster = "single"
}

resource "imagebuild_cmd_image" "test" {
  ref     = %[2]q
  cluster = "single"
  args    = ["sh", "-c", "case \"$EXPECTED_REF\" in %[1]s/acme/all-images:api-%[4]d-tf-build-*) docker tag %[5]s \"$EXPECTED_REF\";; *) echo \"unexpected EXPECTED_REF $EXPECTED_REF\"; exit 1;; esac"]
}`, env.Registry, name, ctxDir, os.Getpid(), env.BaseImage)
	singleTagged := fmt.Sprintf("%s/acme/all-images:api-%d-v1", env.Registry, os.Getpid())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref",
						regexp.MustCompile("^"+regexp.QuoteMeta(env.Registry+"/acme/images/"+escaped)+`:tf-[0-9a-f]{16}$`)),
					resource.TestMatchResourceAttr(testImage, "cluster_ref",
						regexp.MustCompile("^"+regexp.QuoteMeta("registry.cluster:5000/acme/images/"+escaped)+`:tf-[0-9a-f]{16}$`)),
					checkInRegistry(testImage),
					checkRun(testImage, "with-path", "cat", "/path.txt"),
					resource.TestMatchResourceAttr("imagebuild_docker_image.single", "status.ref",
						regexp.MustCompile(fmt.Sprintf("^%s:api-%d-tf-[0-9a-f]{16}$", regexp.QuoteMeta(env.Registry+"/acme/all-images"), os.Getpid()))),
					checkInRegistry("imagebuild_docker_image.single", &singleTagged),
					resource.TestMatchResourceAttr(testCmdImage, "status.ref",
						regexp.MustCompile(fmt.Sprintf("^%s:api-%d-tf-[0-9a-f]{16}$", regexp.QuoteMeta(env.Registry+"/acme/all-images"), os.Getpid()))),
					checkInRegistry(testCmdImage),
				),
			},
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

// TestAccCmdImage_remoteOutputTagKnowsNoRegistry: with output_tag, the
// command knows nothing of the cluster's registry, in remote mode too (as
// Tilt's ImageTarget.Refs): EXPECTED_REF is the ref as written with the tag,
// and the image is found where the command pushed it.
func TestAccCmdImage_remoteOutputTagKnowsNoRegistry(t *testing.T) {
	env := requireTestEnv(t)
	repo := fmt.Sprintf("%s/imagebuild-acc/remote-tag-%d", env.Registry, os.Getpid())
	script := fmt.Sprintf(`test "$EXPECTED_REF" = %s:v7 || { echo "EXPECTED_REF is $EXPECTED_REF"; exit 1; }
docker tag %s "$EXPECTED_REF" && docker push -q "$EXPECTED_REF" && docker rmi "$EXPECTED_REF"`, repo, env.BaseImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "imagebuild" {
  cluster {
    name = "reg"
    registry {
      host = "%s/cluster"
    }
  }
}
`, env.Registry) + cmdImageConfig(fmt.Sprintf(`  ref         = %q
  cluster     = "reg"
  output_mode = "remote"
  output_tag  = "v7"
  args        = ["sh", "-c", %q]`, repo, script)),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr(testCmdImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
				checkInRegistry(testCmdImage),
			),
		}},
	})
}

// TestAccBuilder_refNamingRegistryIsPushed: a builder with no cluster block
// pushes an image whose ref names a registry (no plan error asking for a
// cluster registry), and Read finds it there.
func TestAccBuilder_refNamingRegistryIsPushed(t *testing.T) {
	env := requireBuildKit(t)
	repo := fmt.Sprintf("%s/team/%s", env.Registry, uniqueRepo(t))
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo on-builder > /b.txt\n", env.RegistryBaseImage)})
	config := fmt.Sprintf(`
provider "imagebuild" {
  host = %q
  builder {
    name     = "one"
    buildkit = [%q]
  }
}

resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  builder = "one"
}`, noEngine(t), env.a, repo, ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(testImage, "status.ref", regexp.MustCompile("^"+regexp.QuoteMeta(repo)+`:tf-[0-9a-f]{16}$`)),
					checkInRegistry(testImage),
				),
			},
			{Config: config, ConfigPlanChecks: expectNoChange()},
		},
	})
}

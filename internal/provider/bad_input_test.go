package provider

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// badInput is a configuration that must fail at plan time: wantErr matches
// the error's text (what is wrong and what to write instead) and wantPath the
// attribute Terraform quotes from the configuration.
type badInput struct {
	name     string
	provider string // body of the provider block
	resource string // a whole resource block
	wantErr  string
	wantPath string
}

// TestAccBadInput plans each bad configuration against an engine socket that
// only counts connections: none may reach it, and no build may start.
func TestAccBadInput(t *testing.T) {
	requireTestEnv(t)
	engine := countingSocket(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n", "file.txt": "not a directory\n"})
	noDockerfile := writeFiles(t, map[string]string{"app.txt": "no Dockerfile here\n"})
	missing := filepath.Join(t.TempDir(), "missing")
	badDockerfile := filepath.Join(writeFiles(t, map[string]string{"Dockerfile.bad": "FORM scratch\n"}), "Dockerfile.bad")
	t.Setenv("IMAGEBUILD_BAD_INPUT_UNSET", "")
	os.Unsetenv("IMAGEBUILD_BAD_INPUT_UNSET")

	docker := func(attrs string) string {
		return fmt.Sprintf("resource \"imagebuild_docker_image\" \"test\" {\n  ref     = \"bad-input/app\"\n  context = %q\n%s\n}", ctxDir, attrs)
	}
	cmd := func(attrs string) string {
		return fmt.Sprintf("resource \"imagebuild_cmd_image\" \"test\" {\n  ref  = \"bad-input/app\"\n%s\n}", attrs)
	}
	dockerOnly := func(attrs string) string {
		return fmt.Sprintf("resource \"imagebuild_docker_image\" \"test\" {\n%s\n}", attrs)
	}
	const runs = `  args = ["true"]`
	cases := []badInput{
		// imagebuild_docker_image
		{name: "ref uppercase", resource: dockerOnly(fmt.Sprintf("  ref = \"Team/App\"\n  context = %q", ctxDir)), wantErr: `(?i)repository name must be lowercase|write`, wantPath: `ref\s*=`},
		{name: "ref with digest", resource: dockerOnly(fmt.Sprintf("  ref = \"app@sha256:%s\"\n  context = %q", strings.Repeat("a", 64), ctxDir)), wantErr: `digest`, wantPath: `ref\s*=`},
		{name: "ref empty", resource: dockerOnly(fmt.Sprintf("  ref = \"\"\n  context = %q", ctxDir)), wantErr: `write`, wantPath: `ref\s*=`},
		{name: "context missing", resource: dockerOnly(fmt.Sprintf("  ref = \"app\"\n  context = %q", missing)), wantErr: `(?s)not found|does not exist.*directory`, wantPath: `context\s*=`},
		{name: "context is a file", resource: dockerOnly(fmt.Sprintf("  ref = \"app\"\n  context = %q", filepath.Join(ctxDir, "file.txt"))), wantErr: `is a file.*Write the directory`, wantPath: `context\s*=`},
		{name: "no Dockerfile", resource: dockerOnly(fmt.Sprintf("  ref = \"app\"\n  context = %q", noDockerfile)), wantErr: `(?s)Dockerfile.*dockerfile_contents`, wantPath: `imagebuild_docker_image`},
		{name: "empty dockerfile_contents", resource: docker(`  dockerfile_contents = ""`), wantErr: `(?s)at least 1`, wantPath: `dockerfile_contents\s*=`},
		{name: "build arg empty name", resource: docker(`  args = ["=value"]`), wantErr: `empty name.*KEY=VALUE`, wantPath: `args\s*=`},
		{name: "build arg empty", resource: docker(`  args = [""]`), wantErr: `KEY=VALUE`, wantPath: `args\s*=`},
		{name: "build arg with space", resource: docker(`  args = ["MY KEY=1"]`), wantErr: `whitespace.*KEY=VALUE`, wantPath: `args\s*=`},
		{name: "secret bad type", resource: docker(`  secrets = ["id=a,type=vault"]`), wantErr: `(?s)type.*id=NAME,src=PATH`, wantPath: `secrets\s*=`},
		{name: "secret bad field", resource: docker(`  secrets = ["id=a,path=/x"]`), wantErr: `(?s)id=NAME,src=PATH`, wantPath: `secrets\s*=`},
		{name: "secret file missing", resource: docker(fmt.Sprintf(`  secrets = ["id=a,src=%s"]`, missing)), wantErr: `(?s)` + regexp.QuoteMeta(missing) + `.*write`, wantPath: `secrets\s*=`},
		{name: "secret env unset", resource: docker(`  secrets = ["id=a,env=IMAGEBUILD_BAD_INPUT_UNSET"]`), wantErr: `(?s)IMAGEBUILD_BAD_INPUT_UNSET.*not set`, wantPath: `secrets\s*=`},
		{name: "ssh empty id", resource: docker(`  ssh_agent_configs = ["=/tmp/agent.sock"]`), wantErr: `(?s)empty ID.*write`, wantPath: `ssh_agent_configs\s*=`},
		{name: "platform unknown os", resource: docker(`  platform = "beos/amd64"`), wantErr: `(?s)not a platform.*os/arch`, wantPath: `platform\s*=`},
		{name: "platform too many parts", resource: docker(`  platform = "linux/amd64/v2/extra"`), wantErr: `(?s)not a platform.*os/arch`, wantPath: `platform\s*=`},
		{name: "network bridge", resource: docker(`  network = "bridge"`), wantErr: `"default", "none" or "host"`, wantPath: `network\s*=`},
		{name: "extra tag without tag", resource: docker(`  extra_tags = ["bad-input/app"]`), wantErr: `no tag.*write`, wantPath: `extra_tags\s*=`},
		{name: "cache_from not a ref", resource: docker(`  cache_from = ["Not A Ref"]`), wantErr: `not a valid image reference.*write`, wantPath: `cache_from\s*=`},
		{name: "unknown cluster", resource: docker(`  cluster = "prod"`), wantErr: `(?s)No provider cluster block is named "prod".*Add`, wantPath: `cluster\s*=`},
		{name: "bad cluster_needs", resource: docker(`  cluster_needs = "always"`), wantErr: `(?s)value must be one of.*push`, wantPath: `cluster_needs\s*=`},
		{name: "empty target", resource: docker(`  target = ""`), wantErr: `at least 1`, wantPath: `target\s*=`},
		// arguments of issue 16
		{name: "dockerfile missing", resource: docker(fmt.Sprintf(`  dockerfile = %q`, missing)), wantErr: `(?s)no such file.*Write the path of the Dockerfile`, wantPath: `dockerfile\s*=`},
		{name: "dockerfile is a directory", resource: docker(fmt.Sprintf(`  dockerfile = %q`, ctxDir)), wantErr: `is a directory.*Write the path of the file`, wantPath: `dockerfile\s*=`},
		{name: "dockerfile with dockerfile_contents", resource: docker(fmt.Sprintf("  dockerfile = %q\n  dockerfile_contents = \"FROM scratch\"", filepath.Join(ctxDir, "Dockerfile"))), wantErr: `(?s)cannot be specified when`, wantPath: `dockerfile\s*=`},
		{name: "label empty name", resource: docker(`  labels = { "" = "x" }`), wantErr: `label name is empty; write`, wantPath: `labels\s*=`},
		{name: "add_hosts without IP", resource: docker(`  add_hosts = ["db.internal"]`), wantErr: `no IP address; write host:ip`, wantPath: `add_hosts\s*=`},
		{name: "add_hosts bad IP", resource: docker(`  add_hosts = ["db.internal:10.0.0.300"]`), wantErr: `not an IP address; write host:ip`, wantPath: `add_hosts\s*=`},
		{name: "add_hosts bad host", resource: docker(`  add_hosts = ["bad host:10.0.0.1"]`), wantErr: `not a host name; write host:ip`, wantPath: `add_hosts\s*=`},
		{name: "shm_size bad unit", resource: docker(`  shm_size = "64q"`), wantErr: `not a size; write`, wantPath: `shm_size\s*=`},
		{name: "shm_size zero", resource: docker(`  shm_size = 0`), wantErr: `above zero; write`, wantPath: `shm_size\s*=`},
		{name: "ulimit unknown name", resource: docker(`  ulimits = ["files=10"]`), wantErr: `unknown name "files"; write name=soft`, wantPath: `ulimits\s*=`},
		{name: "ulimit soft above hard", resource: docker(`  ulimits = ["nofile=10:5"]`), wantErr: `(?s)soft.*write name=soft`, wantPath: `ulimits\s*=`},
		{name: "ulimit without value", resource: docker(`  ulimits = ["nofile"]`), wantErr: `write name=soft\[:hard\]`, wantPath: `ulimits\s*=`},
		{name: "build context missing", resource: docker(fmt.Sprintf(`  build_contexts = { assets = %q }`, missing)), wantErr: `(?s)no such file.*Write the path of a directory`, wantPath: `build_contexts\s*=`},
		{name: "build context is a file", resource: docker(fmt.Sprintf(`  build_contexts = { assets = %q }`, filepath.Join(ctxDir, "file.txt"))), wantErr: `is a file. Write the directory`, wantPath: `build_contexts\s*=`},
		{name: "build context git", resource: docker(`  build_contexts = { src = "git://example.com/repo" }`), wantErr: `not supported; write the path of a local directory or docker-image://IMAGE`, wantPath: `build_contexts\s*=`},
		{name: "build context bad image", resource: docker(`  build_contexts = { base = "docker-image://Not An Image" }`), wantErr: `not a valid image reference.*write docker-image://`, wantPath: `build_contexts\s*=`},
		{name: "build context bad name", resource: docker(`  build_contexts = { "Bad Name" = "docker-image://alpine" }`), wantErr: `not a build context name: write`, wantPath: `build_contexts\s*=`},
		{name: "cache_from type local", resource: docker(`  cache_from = ["type=local,src=/tmp/cache"]`), wantErr: `(?s)needs a BuildKit builder.*write type=registry,ref=IMAGE`, wantPath: `cache_from\s*=`},
		{name: "cache_from type inline", resource: docker(`  cache_from = ["type=inline"]`), wantErr: `cache export.*write type=registry,ref=IMAGE`, wantPath: `cache_from\s*=`},
		{name: "cache_from registry without ref", resource: docker(`  cache_from = ["type=registry"]`), wantErr: `has no ref; write type=registry,ref=IMAGE`, wantPath: `cache_from\s*=`},
		{name: "cache_from unknown type", resource: docker(`  cache_from = ["type=ftp,ref=x"]`), wantErr: `unknown cache type "ftp"; write`, wantPath: `cache_from\s*=`},
		{name: "empty secret_values_wo_version", resource: docker(`  secret_values_wo_version = ""`), wantErr: `at least 1`, wantPath: `secret_values_wo_version\s*=`},
		// builders
		{name: "unknown builder", resource: docker(`  builder = "nope"`), wantErr: `(?s)No provider builder block is named "nope".*Add`, wantPath: `builder\s*=`},
		{name: "builder with neither push nor load", provider: builderBlockHCL, resource: docker(`  builder = "b"`), wantErr: `(?s)neither pushed.*set load = true.*registry`, wantPath: `builder\s*=`},
		{name: "builder with base-image cluster", provider: builderBlockHCL + "\n  cluster {\n    name = \"r\"\n    registry {\n      host = \"127.0.0.1:5055\"\n    }\n  }", resource: docker("  builder = \"b\"\n  cluster = \"r\"\n  cluster_needs = \"base-image\""), wantErr: `(?s)cluster_needs is "base-image".*load = true`, wantPath: `builder\s*=`},
		{name: "empty builder", resource: docker(`  builder = ""`), wantErr: `at least 1`, wantPath: `builder\s*=`},
		{name: "platforms without builder", resource: docker(`  platforms = ["linux/amd64", "linux/arm64"]`), wantErr: `(?s)manifest list.*set builder`, wantPath: `platforms\s*=`},
		{name: "platforms bad value", resource: docker(`  platforms = ["linux/amd46"]`), wantErr: `(?s)not a platform.*os/arch`, wantPath: `platforms\s*=`},
		{name: "platforms with platform", resource: docker("  platform = \"linux/amd64\"\n  platforms = [\"linux/arm64\"]"), wantErr: `(?s)cannot be specified when`, wantPath: `platforms\s*=`},
		{name: "platforms duplicate", resource: docker(`  platforms = ["linux/amd64", "linux/amd64"]`), wantErr: `(?s)listed twice.*list each platform once`, wantPath: `platforms\s*=`},
		{name: "platforms empty", resource: docker(`  platforms = []`), wantErr: `at least 1`, wantPath: `platforms\s*=`},
		{name: "load without builder", resource: docker(`  load = true`), wantErr: `(?s)always in the engine.*set builder`, wantPath: `load\s*=`},
		{name: "load with two platforms", provider: builderBlockHCL, resource: docker("  builder = \"b\"\n  load = true\n  platforms = [\"linux/amd64\", \"linux/386\"]"), wantErr: `(?s)cannot load a manifest list.*give one platform`, wantPath: `load\s*=`},
		{name: "cache_to bad type", resource: docker(`  cache_to = ["type=s3,bucket=x"]`), wantErr: `(?s)not supported.*write type=registry`, wantPath: `cache_to\s*=`},
		{name: "cache_to local without dest", resource: docker(`  cache_to = ["type=local"]`), wantErr: `(?s)needs dest=.*write`, wantPath: `cache_to\s*=`},
		{name: "cache_to a bare ref", resource: docker(`  cache_to = ["registry.example.com/app:cache"]`), wantErr: `(?s)no type.*write type=registry,ref=`, wantPath: `cache_to\s*=`},
		{name: "cache_to registry without builder", resource: docker(`  cache_to = ["type=registry,ref=registry.example.com/app:cache"]`), wantErr: `(?s)only export inline cache.*type=inline`, wantPath: `cache_to\s*=`},
		{name: "cache_from local without src", provider: builderBlockHCL, resource: docker("  builder = \"b\"\n  load = true\n  cache_from = [\"type=local\"]"), wantErr: `(?s)needs src=.*write`, wantPath: `cache_from\s*=`},
		{name: "attest_provenance bad", resource: docker(`  attest_provenance = "full"`), wantErr: `(?s)not a provenance mode.*"min" or "max"`, wantPath: `attest_provenance\s*=`},
		{name: "attest_provenance without builder", resource: docker(`  attest_provenance = "min"`), wantErr: `(?s)no attestations.*set builder`, wantPath: `attest_provenance\s*=`},
		{name: "provider builder bad address", provider: "builder {\n    name = \"b\"\n    buildkit = [\"http://127.0.0.1:1234\"]\n  }", resource: docker(""), wantErr: `(?s)not a BuildKit address.*tcp://HOST:PORT`, wantPath: `buildkit\s*=`},
		{name: "provider builder address without port", provider: "builder {\n    name = \"b\"\n    buildkit = [\"tcp://buildkitd\"]\n  }", resource: docker(""), wantErr: `(?s)needs a host and a port.*write`, wantPath: `buildkit\s*=`},
		{name: "provider builder no addresses", provider: "builder {\n    name = \"b\"\n    buildkit = []\n  }", resource: docker(""), wantErr: `at least 1`, wantPath: `buildkit\s*=`},
		{name: "provider builder plain tcp to another host", provider: "builder {\n    name = \"b\"\n    buildkit = [\"tcp://127.0.0.1:1\", \"tcp://buildkitd.example.com:1234\"]\n  }", resource: docker(""), wantErr: `(?s)tcp://buildkitd.example.com:1234 is on another host.*unencrypted.*Set cert_path.*insecure = true`, wantPath: `buildkit\s*=`},
		{name: "provider builder plain tcp to a LAN address with insecure false", provider: "builder {\n    name = \"b\"\n    buildkit = [\"tcp://10.0.0.5:1234\"]\n    insecure = false\n  }", resource: docker(""), wantErr: `(?s)tcp://10.0.0.5:1234 is on another host.*insecure = true`, wantPath: `buildkit\s*=`},
		{name: "provider duplicate builder", provider: builderBlockHCL + "\n  " + builderBlockHCL, resource: docker(""), wantErr: `(?s)already defined.*own name`, wantPath: `provider "imagebuild"`},
		// imagebuild_cmd_image
		{name: "cmd no args", resource: cmd(`  args = []`), wantErr: `(?s)at least 1`, wantPath: `args\s*=`},
		{name: "cmd empty program", resource: cmd(`  args = [""]`), wantErr: `(?s)at least 1`, wantPath: `args\s*=`},
		{name: "cmd ref with digest", resource: fmt.Sprintf("resource \"imagebuild_cmd_image\" \"test\" {\n  ref = \"app@sha256:%s\"\n%s\n}", strings.Repeat("b", 64), runs), wantErr: `digest`, wantPath: `ref\s*=`},
		{name: "cmd bad output_mode", resource: cmd(runs + "\n  output_mode = \"s3\""), wantErr: `(?s)value must be one of.*local-docker`, wantPath: `output_mode\s*=`},
		{name: "cmd output_tag with ref file", resource: cmd(runs + "\n  output_tag = \"v1\"\n  outputs_image_ref_to = \"ref.txt\""), wantErr: `(?s)cannot be specified when|conflict`, wantPath: `output_tag\s*=`},
		{name: "cmd bad output_tag", resource: cmd(runs + "\n  output_tag = \"-v1\""), wantErr: `not a valid tag: write`, wantPath: `output_tag\s*=`},
		{name: "cmd dir missing", resource: cmd(runs + fmt.Sprintf("\n  dir = %q", missing)), wantErr: `write an existing directory`, wantPath: `dir\s*=`},
		{name: "cmd env bad name", resource: cmd(runs + "\n  env = { \"A=B\" = \"x\" }"), wantErr: `(?i)environment variable name.*write`, wantPath: `env\s*=`},
		{name: "cmd deps missing", resource: cmd(runs + fmt.Sprintf("\n  deps = [%q]", missing)), wantErr: `(?s)` + regexp.QuoteMeta(missing), wantPath: `deps\s*=`},
		{name: "cmd empty secret_env_version", resource: cmd(runs + "\n  secret_env_version = \"\""), wantErr: `at least 1`, wantPath: `secret_env_version\s*=`},
		{name: "cmd bad ignore pattern", resource: cmd(runs + "\n  ignore = [\"*.log\", \"a\\\\\"]"), wantErr: `(?s)pattern "a\\\\".*write a \.dockerignore pattern`, wantPath: `ignore\s*=`},
		{name: "cmd unknown cluster", resource: cmd(runs + "\n  cluster = \"staging\""), wantErr: `No provider cluster block is named "staging"`, wantPath: `cluster\s*=`},
		// provider block
		{name: "provider host scheme", provider: `host = "http://127.0.0.1:2375"`, resource: docker(""), wantErr: `(?s)unix://, tcp://.*for example`, wantPath: `host\s*=`},
		{name: "provider max_parallel_builds zero", provider: "max_parallel_builds = 0", resource: docker(""), wantErr: `(?s)between 1 and 1024`, wantPath: `max_parallel_builds\s*=`},
		{name: "provider duplicate cluster", provider: "cluster {\n    name = \"a\"\n  }\n  cluster {\n    name = \"a\"\n  }", resource: docker(""), wantErr: `(?s)already defined.*own name`, wantPath: `provider "imagebuild"`},
		{name: "provider bad arch", provider: "cluster {\n    name = \"a\"\n    arch = \"x86\"\n  }", resource: docker(""), wantErr: `(?s)x86.*amd64`, wantPath: `arch\s*=`},
		{name: "provider registry host with scheme", provider: "cluster {\n    name = \"a\"\n    registry {\n      host = \"https://registry.example.com\"\n    }\n  }", resource: docker(""), wantErr: `not a registry host; write`, wantPath: `host\s*=`},
		{name: "provider registry path upper case", provider: "cluster {\n    name = \"a\"\n    registry {\n      host = \"gcr.io/Acme\"\n    }\n  }", resource: docker(""), wantErr: `not a registry host; write`, wantPath: `host\s*=`},
		{name: "provider single_name with tag", provider: "cluster {\n    name = \"a\"\n    registry {\n      host = \"localhost:5000\"\n      single_name = \"images:v1\"\n    }\n  }", resource: docker(""), wantErr: `not a repository path; write`, wantPath: `single_name\s*=`},
		{name: "dockerfile_contents the parser refuses", resource: docker("  dockerfile_contents = \"FROM scratch\\nRUNN echo\\n\""), wantErr: `(?s)parser refuses.*line 2: unknown instruction: RUNN`, wantPath: `dockerfile_contents\s*=`},
		{name: "dockerfile the parser refuses", resource: docker(fmt.Sprintf("  dockerfile = %q", badDockerfile)), wantErr: `(?s)parser refuses.*line 1: unknown instruction: FORM`, wantPath: `dockerfile\s*=`},
		{name: "ssh key that is not there", resource: docker(fmt.Sprintf("  ssh_agent_configs = [\"id=%s\"]", missing)), wantErr: `(?s)no such file|not exist`, wantPath: `ssh_agent_configs\s*=`},
		{name: "docker image_maps not a ref", resource: docker(`  image_maps = ["not a ref!"]`), wantErr: `not an image reference or ID.*status.ref`, wantPath: `image_maps\s*=`},
		{name: "exports without type", resource: docker(`  exports = ["dest=out"]`), wantErr: `has no type; write type=local,dest=DIR`, wantPath: `exports\s*=`},
		{name: "exports without dest", resource: docker(`  exports = ["type=tar"]`), wantErr: `type=tar needs dest=`, wantPath: `exports\s*=`},
		{name: "exports of an image type", resource: docker(`  exports = ["type=registry,dest=x"]`), wantErr: `not an export to a path`, wantPath: `exports\s*=`},
		{name: "exports to stdout", resource: docker(`  exports = ["type=oci,dest=-"]`), wantErr: `write a path`, wantPath: `exports\s*=`},
		{name: "attest_sbom on the engine", resource: docker(`  attest_sbom = true`), wantErr: `remove attest_sbom, or set builder`, wantPath: `attest_sbom\s*=`},
		{name: "sbom_generator alone", resource: docker(`  sbom_generator = "127.0.0.1:5000/scanner:1"`), wantErr: `attest_sbom`, wantPath: `sbom_generator\s*=`},
		{name: "sbom_generator with attest_sbom false", resource: docker("  attest_sbom = false\n  sbom_generator = \"127.0.0.1:5000/scanner:1\""), wantErr: `set attest_sbom = true, or remove sbom_generator`, wantPath: `sbom_generator\s*=`},
		{name: "sbom_generator not a ref", resource: docker("  attest_sbom = true\n  sbom_generator = \"Not A Ref\""), wantErr: `not an image reference`, wantPath: `sbom_generator\s*=`},
		{name: "cmd image_maps not a ref", resource: cmd(runs + "\n  image_maps = [\"ok/base:v1\", \"Bad/Ref\"]"), wantErr: `not an image reference or ID`, wantPath: `image_maps\s*=`},
		{name: "provider registry host that is a Docker Hub path", provider: "cluster {\n    name = \"a\"\n    registry {\n      host = \"myregistry\"\n    }\n  }", resource: docker(""), wantErr: `not a registry host; write`, wantPath: `host\s*=`},
		{name: "provider host_from_cluster alone", provider: "cluster {\n    name = \"a\"\n    registry {\n      host_from_cluster = \"kind-registry:5000\"\n    }\n  }", resource: docker(""), wantErr: `(?s)host.*must be specified`, wantPath: `host_from_cluster\s*=`},
		{name: "provider empty registry_auth address", provider: "registry_auth {\n    address  = \"\"\n    username = \"u\"\n    password = \"p\"\n  }", resource: docker(""), wantErr: `at least 1`, wantPath: `address\s*=`},
	}
	if ok, _ := cliHasWriteOnly(t); ok {
		cases = append(cases, badInput{name: "secret_values_wo bad id", resource: docker(`  secret_values_wo = { "a,b" = "x" }`),
			wantErr: `not a secret ID; write`, wantPath: `secret_values_wo\s*=`})
	} else {
		// An older CLI gets the framework's error for any write-only value.
		cases = append(cases, badInput{name: "secret_values_wo on an old CLI", resource: docker(`  secret_values_wo = { a = "x" }`),
			wantErr: `(?i)write-only`, wantPath: `secret_values_wo|imagebuild_docker_image`})
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			provider := c.provider
			if !strings.Contains(provider, "host =") && !strings.HasPrefix(provider, "host") {
				provider = fmt.Sprintf("host = %q\n  %s", "unix://"+engine.path, provider)
			}
			// Terraform wraps the detail text at spaces.
			wantErr := strings.ReplaceAll(c.wantErr, " ", `\s+`)
			config := fmt.Sprintf("provider \"imagebuild\" {\n  %s\n}\n\n%s\n", provider, c.resource)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProviders,
				Steps: []resource.TestStep{{
					Config:      config,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(`(?s)(` + wantErr + `).*` + c.wantPath + `|(?s)` + c.wantPath + `.*(` + wantErr + `)`),
				}},
			})
		})
	}
	t.Cleanup(func() {
		if n := engine.accepted.Load(); n != 0 {
			t.Errorf("the engine socket was contacted %d times while planning bad input", n)
		}
	})
}

// builderBlockHCL is a provider builder block named "b"; nothing listens there.
const builderBlockHCL = "builder {\n    name = \"b\"\n    buildkit = [\"tcp://127.0.0.1:1\"]\n  }"

type countedSocket struct {
	path     string
	accepted atomic.Int64
}

// countingSocket listens on a unix socket and counts the connections made
// to it, closing each at once.
func countingSocket(t *testing.T) *countedSocket {
	t.Helper()
	s := &countedSocket{path: filepath.Join(t.TempDir(), "engine.sock")}
	l, err := net.Listen("unix", s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			conn.Close()
		}
	}()
	return s
}

package provider

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const ociIndexType = "application/vnd.oci.image.index.v1+json"

// registryGet GETs /v2/<name>/<kind>/<digest> of a plain-HTTP registry and
// returns the body and its media type.
func registryGet(digestRef, kind, accept string) ([]byte, string, error) {
	host, rest, _ := strings.Cut(digestRef, "/")
	name, digest, _ := strings.Cut(rest, "@")
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/%s", host, name, kind, digest), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", req.URL, resp.StatusCode, body)
	}
	return body, resp.Header.Get("Content-Type"), err
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Manifests []ociDescriptor `json:"manifests"`
	Layers    []ociDescriptor `json:"layers"`
}

// checkSingleManifest checks that repo_digest names one image manifest in
// the registry, not an index (AWS Lambda refuses indexes).
func checkSingleManifest(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rd, err := stateAttr(s, name, "repo_digest")
		if err != nil {
			return err
		}
		_, mediaType, err := registryGet(rd, "manifests", indexMediaTypes+", "+manifestMediaTypes)
		if err != nil {
			return err
		}
		if !strings.Contains(manifestMediaTypes, mediaType) {
			return fmt.Errorf("%s: %s is %q, want a single image manifest (%s)", name, rd, mediaType, manifestMediaTypes)
		}
		return nil
	}
}

// checkSBOMAttestation checks that repo_digest names an index with an
// attestation manifest whose layer is an SPDX document holding want.
func checkSBOMAttestation(name, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rd, err := stateAttr(s, name, "repo_digest")
		if err != nil {
			return err
		}
		repo, _, _ := strings.Cut(rd, "@")
		body, mediaType, err := registryGet(rd, "manifests", indexMediaTypes)
		if err != nil {
			return err
		}
		var index ociManifest
		if err := json.Unmarshal(body, &index); err != nil || mediaType != ociIndexType {
			return fmt.Errorf("%s is %q (%v), want an OCI index", rd, mediaType, err)
		}
		var seen []string
		for _, m := range index.Manifests {
			if m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
				continue
			}
			body, _, err := registryGet(repo+"@"+m.Digest, "manifests", manifestMediaTypes)
			if err != nil {
				return err
			}
			var att ociManifest
			if err := json.Unmarshal(body, &att); err != nil {
				return err
			}
			for _, l := range att.Layers {
				seen = append(seen, l.Annotations["in-toto.io/predicate-type"])
				if l.Annotations["in-toto.io/predicate-type"] != "https://spdx.dev/Document" {
					continue
				}
				blob, _, err := registryGet(repo+"@"+l.Digest, "blobs", "*/*")
				if err != nil {
					return err
				}
				if !strings.Contains(string(blob), want) {
					return fmt.Errorf("the SPDX attestation of %s does not hold %q: %s", rd, want, blob)
				}
				return nil
			}
		}
		return fmt.Errorf("%s has no SPDX attestation; index %s, predicate types seen %v", rd, body, seen)
	}
}

// pushScanner builds and pushes, with buildctl, an SBOM generator of
// BuildKit's protocol: it writes an in-toto SPDX statement that quotes
// /hello.txt of the scanned image, so a test sees that it scanned the build.
func pushScanner(t *testing.T, env buildkitEnv) string {
	t.Helper()
	ref := fmt.Sprintf("%s/imagebuild-acc/sbom-scanner-%d:1", env.Registry, os.Getpid())
	script := `#!/bin/sh
set -e
seen=$(cat "$BUILDKIT_SCAN_SOURCE/hello.txt" 2>/dev/null || echo nothing)
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","dataLicense":"CC0-1.0","name":"scanned %s"}}' "$seen" > "$BUILDKIT_SCAN_DESTINATION/sbom.spdx.json"
`
	dir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nCOPY scan.sh /scan.sh\nRUN chmod +x /scan.sh\nENTRYPOINT [\"/scan.sh\"]\n", env.RegistryBaseImage),
		"scan.sh":    script,
	})
	buildctl(t, env, env.a, "build", "--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir,
		"--output", "type=image,name="+ref+",push=true")
	return ref
}

// TestAccBuilder_sbomAttestation: a builder's single-platform push without
// attest_* is one manifest; attest_sbom with a generator of our own makes
// an index with the SPDX attestation of what was built.
func TestAccBuilder_sbomAttestation(t *testing.T) {
	env := requireBuildKit(t)
	scanner := pushScanner(t, env)
	marker := fmt.Sprintf("hello-%d", time.Now().UnixNano())
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo %s > /hello.txt\n", env.RegistryBaseImage, marker),
	})
	repo := uniqueRepo(t)
	config := func(attest string) string {
		return oneBuilderProvider(t, env.Registry, env.a) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref      = %q
  context  = %q
  cluster  = "reg"
  builder  = "one"
  platform = "linux/amd64"
%s
}`, repo, ctxDir, attest)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config(""), Check: checkSingleManifest(testImage)},
			{
				Config: config(fmt.Sprintf("  attest_sbom    = true\n  sbom_generator = %q", scanner)),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSBOMAttestation(testImage, "scanned "+marker),
					checkIndexInRegistry(testImage),
				),
			},
			{Config: config(fmt.Sprintf("  attest_sbom    = true\n  sbom_generator = %q", scanner)), ConfigPlanChecks: expectNoChange()},
		},
	})
}

// exportsDockerfile builds a Lambda-style artifact in a stage of its own.
func exportsDockerfile(base, content string) string {
	return fmt.Sprintf("FROM %s AS build\nRUN mkdir /out && echo %s > /out/lambda.txt\nFROM scratch\nCOPY --from=build /out /\n", base, content)
}

// tarNames lists the names in the tarball at path.
func tarNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not a tarball: %w", path, err)
		}
		names = append(names, strings.TrimPrefix(h.Name, "./"))
	}
}

// checkExports checks what the exports wrote: the artifact in the local
// directory and the tarball, and an OCI layout when oci is not "".
func checkExports(dir, tarFile, oci, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := os.ReadFile(filepath.Join(dir, "lambda.txt"))
		if err != nil || strings.TrimSpace(string(got)) != want {
			return fmt.Errorf("type=local: lambda.txt is %q (%v), want %q", got, err, want)
		}
		names, err := tarNames(tarFile)
		if err != nil || !slices.Contains(names, "lambda.txt") {
			return fmt.Errorf("type=tar: %s holds %v (%v), want lambda.txt", tarFile, names, err)
		}
		if oci == "" {
			return nil
		}
		names, err = tarNames(oci)
		if err != nil || !slices.Contains(names, "index.json") || !slices.Contains(names, "oci-layout") {
			return fmt.Errorf("type=oci: %s holds %v (%v), want index.json and oci-layout", oci, names, err)
		}
		return nil
	}
}

// TestAccBuilder_exports: type=local, tar and oci exports beside the
// pushed image on a builder; a deleted export plans nothing, and the next
// build writes it again.
func TestAccBuilder_exports(t *testing.T) {
	env := requireBuildKit(t)
	out := t.TempDir()
	dir, tarFile, oci := filepath.Join(out, "dist"), filepath.Join(out, "rootfs.tar"), filepath.Join(out, "sub", "image.oci.tar")
	ctxDir := writeFiles(t, map[string]string{})
	repo := uniqueRepo(t)
	config := func(content string) string {
		return oneBuilderProvider(t, env.Registry, env.a) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref                 = %q
  context             = %q
  dockerfile_contents = %q
  cluster             = "reg"
  builder             = "one"
  exports             = ["type=local,dest=%s", "type=tar,dest=%s", "type=oci,dest=%s"]
}`, repo, ctxDir, exportsDockerfile(env.RegistryBaseImage, content), dir, tarFile, oci)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config("one"), Check: resource.ComposeAggregateTestCheckFunc(checkExports(dir, tarFile, oci, "one"), checkInRegistry(testImage))},
			{
				// An export is a by-product of a build: gone, it plans nothing.
				PreConfig:        func() { os.RemoveAll(dir); os.Remove(tarFile) },
				Config:           config("one"),
				ConfigPlanChecks: expectNoChange(),
			},
			{Config: config("two"), Check: checkExports(dir, tarFile, oci, "two")},
		},
	})
}

// TestAccDockerImage_exportsEngine: exports on the engine path where its
// BuildKit takes them beside the image (API 1.45), a clear error naming the
// engine elsewhere. type=oci needs the containerd image store there, so
// only local and tar are asked for.
func TestAccDockerImage_exportsEngine(t *testing.T) {
	env := requireTestEnv(t)
	api := engineAPIVersion(t)
	out := t.TempDir()
	dir, tarFile := filepath.Join(out, "dist"), filepath.Join(out, "rootfs.tar")
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN mkdir /out && echo engine > /out/lambda.txt\n", env.BaseImage)})
	repo := uniqueRepo(t)
	config := func(extra string) string {
		return fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = %q
  exports = ["type=local,dest=%s", "type=tar,dest=%s"%s]
}`, repo, ctxDir, dir, tarFile, extra)
	}
	oci := filepath.Join(out, "image.oci.tar")
	withOCI := fmt.Sprintf(`, "type=oci,dest=%s"`, oci)
	if versions.LessThan(api, minExportsAPI) {
		resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProviders, Steps: []resource.TestStep{{
			Config:      config(""),
			ExpectError: regexp.MustCompile(`(?s)Docker\s+\S+\s+\(API\s+` + regexp.QuoteMeta(api) + `\).*exports:.*Docker\s+26\.0`),
		}}})
		return
	}
	// Only the containerd image store has an oci exporter.
	containerdStore := strings.Contains(docker(t, "info", "--format", "{{json .DriverStatus}}"), "io.containerd.snapshotter")
	ociStep := resource.TestStep{Config: config(withOCI), ExpectError: regexp.MustCompile(`(?s)no\s+oci\s+exporter.*write\s+type=tar`)}
	if containerdStore {
		ociStep = resource.TestStep{Config: config(withOCI), Check: func(*terraform.State) error {
			names, err := tarNames(oci)
			if err != nil || !slices.Contains(names, "index.json") {
				return fmt.Errorf("type=oci: %s holds %v (%v), want index.json", oci, names, err)
			}
			return nil
		}}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config(""), Check: resource.ComposeAggregateTestCheckFunc(
				checkRun(testImage, "engine", "cat", "/out/lambda.txt"),
				func(*terraform.State) error {
					got, err := os.ReadFile(filepath.Join(dir, "out", "lambda.txt"))
					if err != nil || strings.TrimSpace(string(got)) != "engine" {
						return fmt.Errorf("type=local: out/lambda.txt is %q (%v)", got, err)
					}
					names, err := tarNames(tarFile)
					if err != nil || !slices.Contains(names, "out/lambda.txt") {
						return fmt.Errorf("type=tar: %s holds %d names (%v), no out/lambda.txt", tarFile, len(names), err)
					}
					return nil
				},
			)},
			{Config: config(""), ConfigPlanChecks: expectNoChange()},
			ociStep,
		},
	})
}

// TestAccDockerImage_singlePlatformPushIsOneManifest: without attestations,
// a single-platform image is pushed as one manifest, never an index, by
// the engine and by a builder.
func TestAccDockerImage_singlePlatformPushIsOneManifest(t *testing.T) {
	env := requireBuildKit(t)
	ctxDir := writeFiles(t, map[string]string{"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo one > /one.txt\n", env.RegistryBaseImage)})
	config := builderProvider(testEngineHost(), env.Registry, fmt.Sprintf("  builder {\n    name = \"one\"\n    buildkit = [%q]\n  }", env.a)) +
		fmt.Sprintf(`
resource "imagebuild_docker_image" "engine" {
  ref     = "%[1]s-engine"
  context = %[2]q
  cluster = "reg"
}

resource "imagebuild_docker_image" "builder" {
  ref     = "%[1]s-builder"
  context = %[2]q
  cluster = "reg"
  builder = "one"
}`, uniqueRepo(t), ctxDir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{{Config: config, Check: resource.ComposeAggregateTestCheckFunc(
			checkSingleManifest("imagebuild_docker_image.engine"),
			checkSingleManifest("imagebuild_docker_image.builder"),
		)}},
	})
}

// An export inside the context warns at plan; one outside does not.
func TestCheckOutputsWarnsOfDestInContext(t *testing.T) {
	ctxDir := t.TempDir()
	for _, c := range []struct {
		dest string
		warn bool
	}{
		{filepath.Join(ctxDir, "dist"), true},
		{ctxDir, true},
		{filepath.Join(ctxDir, "..", filepath.Base(ctxDir)+"-out", "x.tar"), false},
		{filepath.Join(t.TempDir(), "x.tar"), false},
	} {
		exports, _ := types.ListValueFrom(context.Background(), types.StringType, []string{"type=tar,dest=" + c.dest})
		m := &dockerImageModel{Context: types.StringValue(ctxDir), Exports: exports}
		var diags diag.Diagnostics
		checkOutputs(context.Background(), m, &diags)
		if got := diags.WarningsCount() == 1; got != c.warn || diags.HasError() {
			t.Errorf("dest %s: warnings %v, want a warning: %v", c.dest, diags, c.warn)
		}
	}
}

// TestAccBuilder_sbomWithLoad: an SBOM with load = true: an engine with
// the containerd image store loads the index; others cannot (Docker 20.10
// and overlay2 read a single manifest) and the error says what to do.
func TestAccBuilder_sbomWithLoad(t *testing.T) {
	env := requireBuildKit(t)
	containerdStore := strings.Contains(docker(t, "info", "--format", "{{json .DriverStatus}}"), "io.containerd.snapshotter")
	scanner := pushScanner(t, env)
	ctxDir := writeFiles(t, map[string]string{
		"Dockerfile": fmt.Sprintf("FROM %s\nRUN echo loaded-sbom > /hello.txt\n", env.RegistryBaseImage),
	})
	builders := fmt.Sprintf("  builder {\n    name = \"b\"\n    buildkit = [%q]\n  }", env.a)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{sbomLoadStep(containerdStore, resource.TestStep{
			Config: fmt.Sprintf("provider \"imagebuild\" {\n  host = %q\n%s\n}\n", testEngineHost(), builders) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref            = %q
  context        = %q
  builder        = "b"
  load           = true
  attest_sbom    = true
  sbom_generator = %q
}`, uniqueRepo(t), ctxDir, scanner),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkImageMatchesState(testImage),
				checkRun(testImage, "loaded-sbom", "cat", "/hello.txt"),
			),
		})},
	})
}

func sbomLoadStep(containerdStore bool, step resource.TestStep) resource.TestStep {
	if !containerdStore {
		step.Check = nil
		step.ExpectError = regexp.MustCompile(`(?s)into\s+the\s+Docker\s+engine.*only\s+an\s+engine\s+with\s+the\s+containerd\s+image\s+store\s+loads.*set\s+load\s+=\s+false`)
	}
	return step
}

// TestAccBuilder_exportsRelativeDest: a relative dest is taken from
// Terraform's working directory; one inside the context is a plan warning.
func TestAccBuilder_exportsRelativeDest(t *testing.T) {
	env := requireBuildKit(t)
	cli := newTerraformCLI(t, "")
	if err := os.MkdirAll(filepath.Join(cli.dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(cli.dir, "app", "Dockerfile"), exportsDockerfile(env.RegistryBaseImage, "relative"))
	config := func(exports string) string {
		return oneBuilderProvider(t, env.Registry, env.a) + fmt.Sprintf(`
resource "imagebuild_docker_image" "test" {
  ref     = %q
  context = "app"
  cluster = "reg"
  builder = "one"
  exports = [%s]
}`, uniqueRepo(t), exports)
	}
	cli.writeConfig(config(`"type=local,dest=dist", "type=tar,dest=app/out/files.tar"`))
	out := strings.Join(strings.Fields(cli.mustRun("plan", "-no-color")), " ")
	if got := strings.Count(out, "Warning: Export inside the build context"); got != 1 || !strings.Contains(out, filepath.Join(cli.dir, "app", "out", "files.tar")) {
		t.Errorf("want one warning naming app/out/files.tar, got %d:\n%s", got, out)
	}

	cli.writeConfig(config(`"type=local,dest=dist"`))
	out = cli.mustRun("apply", "-auto-approve", "-no-color")
	if strings.Contains(out, "Export inside the build context") {
		t.Errorf("a warning for a dest outside the context:\n%s", out)
	}
	got, err := os.ReadFile(filepath.Join(cli.dir, "dist", "lambda.txt"))
	if err != nil || strings.TrimSpace(string(got)) != "relative" {
		t.Errorf("dist/lambda.txt in Terraform's working directory: %q, %v", got, err)
	}
	if out, err := cli.run("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Errorf("the plan after the apply is not empty (%v):\n%s", err, out)
	}
	cli.mustRun("destroy", "-auto-approve", "-no-color")
}

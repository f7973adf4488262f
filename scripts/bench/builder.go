package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// builderOneFile: a one-file rebuild through a provider builder against
// `buildctl build` of the same change on the same BuildKit daemon. Both
// push to the loopback registry (the provider by digest, then its tf- tag;
// buildctl with a tag); each side has its own copy of the context, whose
// Dockerfile takes its base image from that registry, as a daemon must.
func (b *bench) builderOneFile() (pairResult, error) {
	vars := map[string]string{}
	for _, name := range []string{"IMAGEBUILD_TEST_BUILDKIT_A", "IMAGEBUILD_TEST_BUILDKIT_BIN", "IMAGEBUILD_TEST_REGISTRY", "IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE"} {
		if vars[name] = os.Getenv(name); vars[name] == "" {
			return pairResult{}, fmt.Errorf("%s: %s is not set: run `make bench`, which starts the test daemons (scripts/buildkitd.sh)", scenarioBuilderOneFile, name)
		}
	}
	daemon, registry := vars["IMAGEBUILD_TEST_BUILDKIT_A"], vars["IMAGEBUILD_TEST_REGISTRY"]
	buildctl := filepath.Join(vars["IMAGEBUILD_TEST_BUILDKIT_BIN"], "buildctl")
	spec := contextSpec(b.cfg.files, int64(b.cfg.size), vars["IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE"])
	tfContext, cliContext := filepath.Join(b.cfg.workdir, "ctx-builder"), filepath.Join(b.cfg.workdir, "ctx-builder-cli")
	for _, dir := range []string{tfContext, cliContext} {
		if err := b.ensureTree(dir, spec); err != nil {
			return pairResult{}, err
		}
	}
	tf, err := newBuilderTerraformSide(b.r, filepath.Join(b.cfg.workdir, "tf-builder"), tfContext, daemon, registry, b.tf.rssLog)
	if err != nil {
		return pairResult{}, err
	}
	defer func() {
		if !b.cfg.keep {
			_ = tf.destroy()
		}
	}()
	metadata := filepath.Join(b.cfg.workdir, "buildctl-metadata.json")
	cliBuild := []string{buildctl, "--addr", daemon, "build", "--progress=plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + cliContext, "--local", "dockerfile=" + cliContext,
		"--output", fmt.Sprintf("type=image,name=%s/imagebuild-bench/buildctl:latest,push=true", registry),
		"--metadata-file", metadata}
	if b.cfg.network != defaultNetwork {
		cliBuild = append(cliBuild, "--opt", "force-network-mode="+b.cfg.network)
	}
	if _, err := tf.apply(); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioBuilderOneFile, err)
	}
	if err := b.r.run(cliBuild...); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioBuilderOneFile, err)
	}

	seen := map[string]bool{}
	fresh := func(what, digest string) error {
		if digest == "" || seen[digest] {
			return fmt.Errorf("%s gave the digest %q, seen before or empty: the build was cached", what, digest)
		}
		seen[digest] = true
		return nil
	}
	apply := side{
		label:    "terraform apply (builder)",
		provider: tf,
		prepare: func(run int) error {
			id, err := tf.imageID()
			seen[id] = true
			return errors.Join(err, changeFile(tfContext, spec, changedFile(run, providerSide, spec.Files), freshVariant()))
		},
		measure: tf.apply,
		verify: func(int) error {
			id, err := tf.imageID()
			return errors.Join(err, fresh("terraform apply", id))
		},
		explain: func(took time.Duration) (string, error) {
			build, steps, err := tf.lastBuild()
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("outside the build %.1f s; build %.1f s, steps: %s", (took - build).Seconds(), build.Seconds(), describeSteps(steps)), nil
		},
	}
	var logStart int64
	cli := side{
		label: "buildctl build",
		prepare: func(run int) error {
			d, err := buildctlDigest(metadata)
			seen[d] = true
			return errors.Join(err, changeFile(cliContext, spec, changedFile(run, cliSide, spec.Files), freshVariant()))
		},
		measure: func() (measurement, error) {
			logStart = b.r.offset()
			return b.r.timed(cliBuild...)
		},
		verify: func(int) error {
			d, err := buildctlDigest(metadata)
			return errors.Join(err, fresh("buildctl build", d))
		},
		explain: func(time.Duration) (string, error) {
			return "steps: " + describeSteps(parseProgress(b.r.logSince(logStart))), nil
		},
	}
	return runPair(scenarioBuilderOneFile, b.cfg.runs, true, apply, cli)
}

// buildctlDigest is the pushed image's digest from buildctl's metadata file.
func buildctlDigest(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	d, _ := meta["containerimage.digest"].(string)
	return d, nil
}

// newBuilderTerraformSide is a configuration whose one image builds on the
// daemon at address and is pushed to registry.
func newBuilderTerraformSide(r *runner, dir, contextDir, address, registry, rssLog string) (*terraformSide, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`terraform {
  required_providers {
    imagebuild = { source = %q }
  }
}

provider "imagebuild" {
  builder {
    name     = "bench"
    buildkit = [%q]
  }
  cluster {
    name = "bench"
    registry {
      host = %q
    }
  }
}

resource "imagebuild_docker_image" "bench" {
  ref     = "imagebuild-bench/builder"
  context = %q
  cluster = "bench"
  builder = "bench"
}

output "image_id" {
  value = imagebuild_docker_image.bench.image_id
}
`, providerSource, address, registry, contextDir)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(strings.TrimLeft(config, "\n")), 0o644); err != nil {
		return nil, err
	}
	return &terraformSide{r: r, dir: dir, rssLog: rssLog}, nil
}

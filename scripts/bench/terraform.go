package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	providerBinary = "terraform-provider-imagebuild"
	// The floor provider (scripts/bench/floorprovider): one resource that
	// does nothing, for what any provider's resource costs a plan.
	floorProviderBinary = "terraform-provider-floor"
	floorProviderSource = "imagebuild-bench/floor"
	providerSource      = "imagebuild/imagebuild"
	terraformRepo       = "imagebuild-bench/tf"
	terraformTarget     = "imagebuild_docker_image.bench"
)

// terraformSide drives the provider the way a user does: the terraform CLI
// in a working directory, the provider found through dev_overrides.
type terraformSide struct {
	r   *runner
	dir string
	// rssLog gets one line per provider process: its peak RSS in KiB.
	rssLog string
	// cacheHome, when set, is the XDG_CACHE_HOME of terraform and so of the
	// provider: where its digest cache lives, apart from the user's.
	cacheHome string
}

// installProvider builds the provider into <workdir>/bin and puts beside it,
// in <workdir>/wrapped, the script that terraform starts instead: it runs
// the provider under /usr/bin/time, which records the provider's own peak
// RSS, not terraform's. Stdin, stdout and the environment pass through, so
// go-plugin's handshake is unchanged. cliConfig gets the dev_overrides.
func installProvider(r *runner, workdir, cliConfig, rssLog string) error {
	binary := filepath.Join(workdir, "bin", providerBinary)
	if err := r.run("go", "build", "-o", binary, "."); err != nil {
		return err
	}
	wrapped := filepath.Join(workdir, "wrapped")
	if err := os.MkdirAll(wrapped, 0o755); err != nil {
		return err
	}
	script := fmt.Sprintf("#!/bin/sh\nexec /usr/bin/time -a -o %s -f %%M %s \"$@\"\n", shellQuote(rssLog), shellQuote(binary))
	if err := os.WriteFile(filepath.Join(wrapped, providerBinary), []byte(script), 0o755); err != nil {
		return err
	}
	floorDir := filepath.Join(workdir, "floor-bin")
	if err := r.run("go", "build", "-o", filepath.Join(floorDir, floorProviderBinary), "./scripts/bench/floorprovider"); err != nil {
		return err
	}
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n    %q = %q\n  }\n  direct {}\n}\n",
		providerSource, wrapped, floorProviderSource, floorDir)
	return os.WriteFile(cliConfig, []byte(overrides), 0o644)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// newTerraformSide writes a configuration with one image of repo built from
// contextDir.
func newTerraformSide(r *runner, dir, repo, contextDir, network, rssLog string) (*terraformSide, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`terraform {
  required_providers {
    imagebuild = { source = %q }
  }
}

resource "imagebuild_docker_image" "bench" {
  ref     = %q
  context = %q%s
}

output "image_id" {
  value = imagebuild_docker_image.bench.image_id
}
`, providerSource, repo, contextDir, networkArgument(network))
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	return &terraformSide{r: r, dir: dir, rssLog: rssLog}, nil
}

func networkArgument(network string) string {
	if network == defaultNetwork {
		return ""
	}
	return fmt.Sprintf("\n  network = %q", network)
}

func (t *terraformSide) command(args ...string) []string {
	cmd := append([]string{"terraform", "-chdir=" + t.dir}, append(args, "-input=false", "-no-color")...)
	if t.cacheHome != "" {
		// env execs terraform: no process of its own stays in the figures.
		cmd = append([]string{"env", "XDG_CACHE_HOME=" + t.cacheHome}, cmd...)
	}
	return cmd
}

func (t *terraformSide) apply() (measurement, error) {
	return t.r.timed(t.command("apply", "-auto-approve")...)
}

// planNoChange fails unless the plan finds nothing to do.
func (t *terraformSide) planNoChange() (measurement, error) {
	code, m, err := t.r.exitCode(t.command("plan", "-detailed-exitcode")...)
	switch {
	case err != nil:
		return m, err
	case code == 2:
		return m, fmt.Errorf("terraform plan found changes where none were made (see %s)", t.r.log.Name())
	case code != 0:
		return m, fmt.Errorf("terraform plan failed with exit status %d (see %s)", code, t.r.log.Name())
	}
	return m, nil
}

func (t *terraformSide) destroy() error {
	return t.r.run(t.command("destroy", "-auto-approve")...)
}

// imageID reads the built image's ID from the state file; "" before the
// first apply. Reading the file is cheaper than starting terraform again.
func (t *terraformSide) imageID() (string, error) {
	raw, err := os.ReadFile(filepath.Join(t.dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var state struct {
		Outputs map[string]struct {
			Value any `json:"value"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		return "", fmt.Errorf("reading the Terraform state: %w", err)
	}
	id, _ := state.Outputs["image_id"].Value.(string)
	return id, nil
}

func (t *terraformSide) resetPeakRSS() error {
	return os.WriteFile(t.rssLog, nil, 0o644)
}

// peakRSS is the largest peak RSS, in KiB, of the provider processes started
// since the last reset. Lines that are not numbers are /usr/bin/time's notes
// (an exit status), not figures.
func (t *terraformSide) peakRSS() (int64, error) {
	raw, err := os.ReadFile(t.rssLog)
	if err != nil {
		return 0, err
	}
	var peak int64
	for line := range strings.Lines(string(raw)) {
		if kib, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64); err == nil {
			peak = max(peak, kib)
		}
	}
	if peak == 0 {
		return 0, fmt.Errorf("no provider peak RSS in %s: did terraform start the provider through the wrapper?", t.rssLog)
	}
	return peak, nil
}

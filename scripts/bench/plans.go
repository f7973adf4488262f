package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Issue 18: plans that stay fast as the configuration grows. A monorepo
// builds many images from one context; each plans against the same tree.
const (
	scenarioPlanFloor       = "plan-floor"
	scenarioPlanMany        = "plan-many-nochange"
	scenarioPlanManyOneFile = "plan-many-onefile"
	manyImages              = 30
	manyRepo                = "imagebuild-bench/many"
)

// newManySide writes a configuration with n images built from contextDir,
// one build arg apart, and an empty one with only the provider configured.
func newManySide(r *runner, dir, contextDir, network, rssLog string, n int) (*terraformSide, error) {
	return writeSide(r, dir, rssLog, fmt.Sprintf(`terraform {
  required_providers {
    imagebuild = { source = %q }
  }
}

resource "imagebuild_docker_image" "many" {
  count   = %d
  ref     = "%s-${count.index}"
  context = %q
  args    = ["N=${count.index}"]%s
}
`, providerSource, n, manyRepo, contextDir, networkArgument(network)))
}

// newEmptySide is the floor of any plan here: Terraform and the provider
// configured, no resource.
func newEmptySide(r *runner, dir, rssLog string) (*terraformSide, error) {
	return writeSide(r, dir, rssLog, fmt.Sprintf(`terraform {
  required_providers {
    imagebuild = { source = %q }
  }
}

provider "imagebuild" {}
`, providerSource))
}

func writeSide(r *runner, dir, rssLog, config string) (*terraformSide, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	return &terraformSide{r: r, dir: dir, rssLog: rssLog}, nil
}

// planChanges fails unless the plan finds changes.
func (t *terraformSide) planChanges() (measurement, error) {
	code, m, err := t.r.exitCode(t.command("plan", "-detailed-exitcode")...)
	switch {
	case err != nil:
		return m, err
	case code == 0:
		return m, fmt.Errorf("terraform plan found no change after a context file changed (see %s)", t.r.log.Name())
	case code != 2:
		return m, fmt.Errorf("terraform plan failed with exit status %d (see %s)", code, t.r.log.Name())
	}
	return m, nil
}

// planFloor: the one-image no-change plan against the empty plan.
func (b *bench) planFloor() (pairResult, error) {
	if _, err := b.tf.apply(); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioPlanFloor, err)
	}
	empty, err := newEmptySide(b.r, filepath.Join(b.cfg.workdir, "tf-empty"), b.tf.rssLog)
	if err != nil {
		return pairResult{}, err
	}
	one := side{label: "terraform plan (1 image)", provider: b.tf, measure: b.tf.planNoChange}
	floor := side{label: "terraform plan (no resource)", measure: empty.planNoChange}
	return runPair(scenarioPlanFloor, b.cfg.runs, true, one, floor)
}

// ensureMany applies the many-image configuration once and records the
// provider's peak RSS during that apply.
func (b *bench) ensureMany() (*terraformSide, error) {
	if b.many != nil {
		return b.many, nil
	}
	many, err := newManySide(b.r, filepath.Join(b.cfg.workdir, "tf-many"), b.tfContext, b.cfg.network,
		b.tf.rssLog, manyImages)
	if err != nil {
		return nil, err
	}
	if err := restoreChangedFiles(b.tfContext, b.contextSpec); err != nil {
		return nil, err
	}
	if err := many.resetPeakRSS(); err != nil {
		return nil, err
	}
	m, err := many.apply()
	if err != nil {
		return nil, fmt.Errorf("applying %d images: %w", manyImages, err)
	}
	if b.manyApplyPeakKiB, err = many.peakRSS(); err != nil {
		return nil, err
	}
	fmt.Printf("  setup: applied %d images on one context in %.1f s, provider peak RSS %.1f MiB\n",
		manyImages, m.wall.Seconds(), mib(b.manyApplyPeakKiB))
	b.many = many
	return many, nil
}

// planMany: the no-change plan of 30 images on one context against that of
// one image on the same context.
func (b *bench) planMany() (pairResult, error) {
	many, err := b.ensureMany()
	if err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioPlanMany, err)
	}
	if _, err := b.tf.apply(); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioPlanMany, err)
	}
	thirty := side{label: fmt.Sprintf("terraform plan (%d images)", manyImages), provider: many, measure: many.planNoChange}
	one := side{label: "terraform plan (1 image)", provider: b.tf, measure: b.tf.planNoChange}
	return runPair(scenarioPlanMany, b.cfg.runs, true, thirty, one)
}

// planManyOneFile: the plan of 30 images after one context file changed
// against their no-change plan (the file restored).
func (b *bench) planManyOneFile() (pairResult, error) {
	many, err := b.ensureMany()
	if err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioPlanManyOneFile, err)
	}
	changed := side{
		label: fmt.Sprintf("terraform plan (%d, one file changed)", manyImages), provider: many, measure: many.planChanges,
		prepare: func(run int) error {
			return changeFile(b.tfContext, b.contextSpec, changedFile(run, providerSide, b.contextSpec.Files), freshVariant())
		},
	}
	unchanged := side{
		label: fmt.Sprintf("terraform plan (%d, no change)", manyImages), provider: many, measure: many.planNoChange,
		prepare: func(int) error { return restoreChangedFiles(b.tfContext, b.contextSpec) },
	}
	return runPair(scenarioPlanManyOneFile, b.cfg.runs, true, changed, unchanged)
}

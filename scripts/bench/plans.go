package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Issue 18: plans that stay fast as the configuration grows. A monorepo
// builds many images from one context; each plans against the same tree.
const (
	scenarioPlanFloor          = "plan-floor"
	scenarioPlanMany           = "plan-many-nochange"
	scenarioPlanManyOneFile    = "plan-many-onefile"
	scenarioPlanFloorFramework = "plan-floor-framework"
	scenarioPlanManyFramework  = "plan-many-framework"
	scenarioPlanFloorSchema    = "plan-floor-schema"
	scenarioPlanManySchema     = "plan-many-schema"
	manyImages                 = 30
	manyRepo                   = "imagebuild-bench/many"
	floorImageRepo             = "imagebuild-bench/floor"
)

// newManySide writes a configuration with n images of repo built from
// contextDir, one build arg apart.
func newManySide(r *runner, dir, repo, contextDir, network, rssLog string, n int) (*terraformSide, error) {
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
`, providerSource, n, repo, contextDir, networkArgument(network)))
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
	if err := restoreChangedFiles(b.tfContext, b.contextSpec); err != nil {
		return nil, err
	}
	many, peak, err := b.applyMany("tf-many", manyRepo, b.tfContext)
	if err != nil {
		return nil, err
	}
	b.many, b.manyApplyPeakKiB = many, peak
	return many, nil
}

// applyMany writes and applies the configuration of manyImages images of
// repo on contextDir in <workdir>/<name>, and returns the provider's peak
// RSS during the apply.
func (b *bench) applyMany(name, repo, contextDir string) (*terraformSide, int64, error) {
	many, err := newManySide(b.r, filepath.Join(b.cfg.workdir, name), repo, contextDir, b.cfg.network,
		b.tf.rssLog, manyImages)
	if err != nil {
		return nil, 0, err
	}
	if err := many.resetPeakRSS(); err != nil {
		return nil, 0, err
	}
	m, err := many.apply()
	if err != nil {
		return nil, 0, fmt.Errorf("applying %d images: %w", manyImages, err)
	}
	peak, err := many.peakRSS()
	if err != nil {
		return nil, 0, err
	}
	fmt.Printf("  setup: applied %d images on %s in %.1f s, provider peak RSS %.1f MiB\n",
		manyImages, contextDir, m.wall.Seconds(), mib(peak))
	return many, peak, nil
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

// newFloorSide writes a configuration with n resources of the floor
// provider, which do nothing; n = 0 configures the provider alone.
func newFloorSide(r *runner, dir string, n int) (*terraformSide, error) {
	body := "provider \"floor\" {}\n"
	if n > 0 {
		body = fmt.Sprintf("resource \"floor_thing\" \"many\" {\n  count = %d\n  name  = \"thing-${count.index}\"\n}\n", n)
	}
	return applyFloorSide(r, dir, body, n)
}

// newSchemaFloorSide writes a configuration with n floor_image resources,
// which have imagebuild_docker_image's schema and do nothing, with the
// arguments of newManySide's images: as many values for the framework to
// convert and check.
func newSchemaFloorSide(r *runner, dir, contextDir, network string, n int) (*terraformSide, error) {
	return applyFloorSide(r, dir, fmt.Sprintf(`resource "floor_image" "many" {
  count   = %d
  ref     = "%s-${count.index}"
  context = %q
  args    = ["N=${count.index}"]%s
}
`, n, floorImageRepo, contextDir, networkArgument(network)), n)
}

// applyFloorSide writes body, n resources of the floor provider, in dir
// and applies it when n > 0.
func applyFloorSide(r *runner, dir, body string, n int) (*terraformSide, error) {
	side, err := writeSide(r, dir, "", fmt.Sprintf("terraform {\n  required_providers {\n    floor = { source = %q }\n  }\n}\n\n%s",
		floorProviderSource, body))
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if _, err := side.apply(); err != nil {
			return nil, fmt.Errorf("applying %d floor resources: %w", n, err)
		}
	}
	return side, nil
}

// planFloorFramework: what a resource of any provider adds to a plan
// (Terraform starts the provider twice more: for validate and for the
// plan), the floor of target 6, against the same empty plan.
func (b *bench) planFloorFramework() (pairResult, error) {
	one, err := newFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-1"), 1)
	if err != nil {
		return pairResult{}, err
	}
	empty, err := newEmptySide(b.r, filepath.Join(b.cfg.workdir, "tf-empty"), b.tf.rssLog)
	if err != nil {
		return pairResult{}, err
	}
	return runPair(scenarioPlanFloorFramework, b.cfg.runs, true,
		side{label: "terraform plan (1 floor resource)", measure: one.planNoChange},
		side{label: "terraform plan (no resource)", measure: empty.planNoChange})
}

// planManyFramework: 30 resources that do nothing against one, the floor of
// target 7 for a provider whose schema has two attributes.
func (b *bench) planManyFramework() (pairResult, error) {
	many, err := newFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-many"), manyImages)
	if err != nil {
		return pairResult{}, err
	}
	one, err := newFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-1"), 1)
	if err != nil {
		return pairResult{}, err
	}
	return runPair(scenarioPlanManyFramework, b.cfg.runs, true,
		side{label: fmt.Sprintf("terraform plan (%d floor resources)", manyImages), measure: many.planNoChange},
		side{label: "terraform plan (1 floor resource)", measure: one.planNoChange})
}

// planFloorSchema: one resource that does nothing with our schema against
// one with two attributes; what the framework's work on each request costs
// for our schema's size, which no implementation of it can avoid.
func (b *bench) planFloorSchema() (pairResult, error) {
	image, err := newSchemaFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-schema-1"), b.tfContext, b.cfg.network, 1)
	if err != nil {
		return pairResult{}, err
	}
	thing, err := newFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-1"), 1)
	if err != nil {
		return pairResult{}, err
	}
	return runPair(scenarioPlanFloorSchema, b.cfg.runs, true,
		side{label: "terraform plan (1 floor image)", measure: image.planNoChange},
		side{label: "terraform plan (1 floor resource)", measure: thing.planNoChange})
}

// planManySchema: 30 resources that do nothing with our schema against one,
// the floor of target 7 for any provider with our schema.
func (b *bench) planManySchema() (pairResult, error) {
	many, err := newSchemaFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-schema-many"), b.tfContext, b.cfg.network,
		manyImages)
	if err != nil {
		return pairResult{}, err
	}
	one, err := newSchemaFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-schema-1"), b.tfContext, b.cfg.network, 1)
	if err != nil {
		return pairResult{}, err
	}
	return runPair(scenarioPlanManySchema, b.cfg.runs, true,
		side{label: fmt.Sprintf("terraform plan (%d floor images)", manyImages), measure: many.planNoChange},
		side{label: "terraform plan (1 floor image)", measure: one.planNoChange})
}

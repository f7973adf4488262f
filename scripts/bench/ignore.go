package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
)

// Issue 26: plans of a context with a .dockerignore (ignoreFileContent), as
// real contexts have, against the floor provider's plans.
const (
	scenarioPlanNoChangeIgnore = "plan-nochange-ignore"
	scenarioPlanColdIgnore     = "plan-cold-ignore"
	scenarioPlanManyIgnore     = "plan-many-ignore"
	ignoreRepo                 = "imagebuild-bench/tf-ignore"
	manyIgnoreRepo             = "imagebuild-bench/many-ignore"
)

// ignoreScenarios need the context with the .dockerignore.
func ignoreScenarios() []string {
	return []string{scenarioPlanNoChangeIgnore, scenarioPlanColdIgnore, scenarioPlanManyIgnore}
}

// ignoreBench is what the issue 26 scenarios set up: the context, its
// one-image and many-image configurations, and the peak RSS of the latter's
// apply.
type ignoreBench struct {
	spec         treeSpec
	contextDir   string
	one          *terraformSide
	many         *terraformSide
	manyApplyKiB int64
}

// setUpIgnore generates the context with the .dockerignore and writes the
// one-image configuration on it, when a scenario needs them.
func (b *bench) setUpIgnore(rssLog string) error {
	if !slices.ContainsFunc(ignoreScenarios(), b.cfg.wants) {
		return nil
	}
	ig := &ignoreBench{spec: ignoreContextSpec(b.cfg.files, int64(b.cfg.size), b.cfg.baseImage),
		contextDir: filepath.Join(b.cfg.workdir, "ctx-ignore")}
	if err := b.ensureTree(ig.contextDir, ig.spec); err != nil {
		return err
	}
	one, err := newTerraformSide(b.r, filepath.Join(b.cfg.workdir, "tf-ignore"), ignoreRepo, ig.contextDir, b.cfg.network, rssLog)
	if err != nil {
		return err
	}
	ig.one, b.ignore = one, ig
	return nil
}

// applyIgnoreOne applies the one-image configuration (a no-op once built).
func (b *bench) applyIgnoreOne(scenario string) error {
	if _, err := b.ignore.one.apply(); err != nil {
		return fmt.Errorf("%s setup: %w", scenario, err)
	}
	return nil
}

// planNoChangeIgnore: the one-image no-change plan with a warm hash cache
// against the floor provider's one-resource plan.
func (b *bench) planNoChangeIgnore() (pairResult, error) {
	if err := b.applyIgnoreOne(scenarioPlanNoChangeIgnore); err != nil {
		return pairResult{}, err
	}
	floor, err := newFloorSide(b.r, filepath.Join(b.cfg.workdir, "tf-floor-1"), 1)
	if err != nil {
		return pairResult{}, err
	}
	one := b.ignore.one
	return runPair(scenarioPlanNoChangeIgnore, b.cfg.runs, true,
		side{label: "terraform plan (1 image, ignore)", provider: one, measure: one.planNoChange},
		side{label: "terraform plan (1 floor resource)", measure: floor.planNoChange})
}

// planColdIgnore: the no-change plan without a hash cache, as on a fresh CI
// runner, against the same plan with a warm one; then the reference, the
// SHA-256 of the bytes the context sends on all cores.
func (b *bench) planColdIgnore() (pairResult, error) {
	if err := b.applyIgnoreOne(scenarioPlanColdIgnore); err != nil {
		return pairResult{}, err
	}
	warm := b.ignore.one
	cold := *warm
	cold.cacheHome = filepath.Join(b.cfg.workdir, "cold-cache")
	result, err := runPair(scenarioPlanColdIgnore, b.cfg.runs, true,
		side{label: "terraform plan (no hash cache)", provider: &cold, measure: cold.planNoChange,
			prepare: func(int) error { return os.RemoveAll(cold.cacheHome) }},
		side{label: "terraform plan (warm hash cache)", provider: warm, measure: warm.planNoChange})
	if err != nil {
		return result, err
	}
	b.sentHash, err = b.hashSentFiles()
	return result, err
}

// hashSentFiles times SHA-256 of every file the context sends, on
// GOMAXPROCS goroutines, each run; it returns the median.
func (b *bench) hashSentFiles() (time.Duration, error) {
	spec, dir := b.ignore.spec, b.ignore.contextDir
	var paths []string
	var bytes int64
	for i := range spec.Files {
		if spec.sent(i) {
			paths = append(paths, filepath.Join(dir, spec.relPath(i)))
			bytes += int64(spec.fileSize(i))
		}
	}
	var times []time.Duration
	for run := 0; run <= b.cfg.runs; run++ {
		started := time.Now()
		if err := hashFiles(paths); err != nil {
			return 0, err
		}
		took := time.Since(started)
		fmt.Printf("  %-17s %d/%-5d  %-34s %8.3f s\n", scenarioPlanColdIgnore, run, b.cfg.runs,
			fmt.Sprintf("sha256 of %.0f MiB sent, %d cores", float64(bytes)/(1<<20), runtime.GOMAXPROCS(0)), took.Seconds())
		if run > 0 {
			times = append(times, took)
		}
	}
	return median(times), nil
}

// hashFiles reads and hashes paths on GOMAXPROCS goroutines.
func hashFiles(paths []string) error {
	var group errgroup.Group
	next := make(chan string)
	for range runtime.GOMAXPROCS(0) {
		group.Go(func() error {
			buf := make([]byte, 256<<10)
			for p := range next {
				if err := hashFile(p, buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	return group.Wait()
}

func hashFile(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(sha256.New(), struct{ io.Reader }{f}, buf)
	return err
}

// planManyIgnore: the no-change plan of manyImages images on the context
// with the .dockerignore against that of one image.
func (b *bench) planManyIgnore() (pairResult, error) {
	ig := b.ignore
	if ig.many == nil {
		many, peak, err := b.applyMany("tf-many-ignore", manyIgnoreRepo, ig.contextDir)
		if err != nil {
			return pairResult{}, fmt.Errorf("%s setup: %w", scenarioPlanManyIgnore, err)
		}
		ig.many, ig.manyApplyKiB = many, peak
	}
	if err := b.applyIgnoreOne(scenarioPlanManyIgnore); err != nil {
		return pairResult{}, err
	}
	return runPair(scenarioPlanManyIgnore, b.cfg.runs, true,
		side{label: fmt.Sprintf("terraform plan (%d images, ignore)", manyImages), provider: ig.many, measure: ig.many.planNoChange},
		side{label: "terraform plan (1 image, ignore)", provider: ig.one, measure: ig.one.planNoChange})
}

// cleanUpIgnore destroys what the issue 26 scenarios applied.
func (b *bench) cleanUpIgnore() error {
	if b.ignore == nil {
		return nil
	}
	err := b.ignore.one.destroy()
	if b.ignore.many != nil {
		err = errors.Join(err, b.ignore.many.destroy())
	}
	for _, repo := range []string{ignoreRepo, manyIgnoreRepo} {
		err = errors.Join(err, b.docker.removeRepo(repo))
	}
	return err
}

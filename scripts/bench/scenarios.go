package main

import (
	"fmt"
	"time"
)

const (
	providerSide = 0
	cliSide      = 1
)

// changedFile picks the file a run changes: a different one each run and
// side, the same ones on every machine.
func changedFile(run, whichSide, files int) int {
	return ((run*2+whichSide)*7919 + 13) % files
}

// freshVariant is new content no build cache can have seen.
func freshVariant() uint64 { return uint64(time.Now().UnixNano()) }

// planNoChange: a plan after an apply, with nothing changed, against
// reading and hashing the same tree with tar and sha256sum.
func (b *bench) planNoChange() (pairResult, error) {
	if _, err := b.tf.apply(); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioPlanNoChange, err)
	}
	tarHash := []string{"bash", "-o", "pipefail", "-c", `tar c -C "$1" . | sha256sum`, "bench", b.tfContext}
	plan := side{label: "terraform plan", provider: b.tf, measure: b.tf.planNoChange}
	tar := side{label: "tar c | sha256sum", measure: func() (measurement, error) { return b.r.timed(tarHash...) }}
	return runPair(scenarioPlanNoChange, b.cfg.runs, true, plan, tar)
}

// applyOneFile: each side changes one file of its own copy of the context,
// then builds. Both start warm: each has built its context, and the
// warm-up round has rebuilt it once after a change.
func (b *bench) applyOneFile() (pairResult, error) {
	if _, err := b.tf.apply(); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioApplyOneFile, err)
	}
	if err := b.r.run(b.docker.buildArgs(b.cliContext, b.cfg.network, false)...); err != nil {
		return pairResult{}, fmt.Errorf("%s setup: %w", scenarioApplyOneFile, err)
	}
	apply := b.terraformApplySide("terraform apply", func(run int) error {
		return changeFile(b.tfContext, b.contextSpec, changedFile(run, providerSide, b.contextSpec.Files), freshVariant())
	})
	build := b.cliBuildSide("docker build", false, func(run int) error {
		return changeFile(b.cliContext, b.contextSpec, changedFile(run, cliSide, b.contextSpec.Files), freshVariant())
	})
	return runPair(scenarioApplyOneFile, b.cfg.runs, true, apply, build)
}

// applyCold: each run starts with the engine's build cache pruned and the
// side's images removed; the CLI adds --no-cache too, as asked of it. No
// warm-up: every run is a first build.
func (b *bench) applyCold() (pairResult, error) {
	apply := b.terraformApplySide("terraform apply (pruned)", func(int) error {
		return b.makeCold(terraformRepo)
	})
	build := b.cliBuildSide("docker build --no-cache (pruned)", true, func(int) error {
		return b.makeCold(cliRepo)
	})
	return runPair(scenarioApplyCold, b.cfg.runs, false, apply, build)
}

func (b *bench) makeCold(repo string) error {
	if err := b.docker.removeRepo(repo); err != nil {
		return err
	}
	return b.docker.pruneAllBuildCache()
}

// terraformApplySide times `terraform apply` after prepare, and checks that
// it built an image that was not there before.
func (b *bench) terraformApplySide(label string, prepare func(run int) error) side {
	var before string
	return side{
		label:    label,
		provider: b.tf,
		prepare: func(run int) (err error) {
			if before, err = b.tf.imageID(); err != nil {
				return err
			}
			b.see(before)
			return prepare(run)
		},
		measure: b.tf.apply,
		verify: func(int) error {
			after, err := b.tf.imageID()
			if err != nil {
				return err
			}
			return b.checkBuilt(before, after, "terraform apply")
		},
		explain: b.explainApply,
	}
}

// cliBuildSide times the reference build after prepare, and checks it the
// same way.
func (b *bench) cliBuildSide(label string, noCache bool, prepare func(run int) error) side {
	var before string
	var logStart int64
	return side{
		label: label,
		prepare: func(run int) (err error) {
			if before, err = b.docker.imageID(cliTag); err != nil {
				return err
			}
			b.see(before)
			return prepare(run)
		},
		measure: func() (measurement, error) {
			logStart = b.r.offset()
			return b.r.timed(b.docker.buildArgs(b.cliContext, b.cfg.network, noCache)...)
		},
		verify: func(int) error {
			after, err := b.docker.imageID(cliTag)
			if err != nil {
				return err
			}
			return b.checkBuilt(before, after, "docker build")
		},
		explain: func(time.Duration) (string, error) {
			return "steps: " + describeSteps(parseProgress(b.r.logSince(logStart))), nil
		},
	}
}

// explainApply splits an apply's time into the build, as the provider
// timed it, and the rest: terraform itself, the provider's start, refresh
// and the plan-time digests.
func (b *bench) explainApply(took time.Duration) (string, error) {
	build, steps, err := b.tf.lastBuild()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("outside the build %.1f s; build %.1f s, steps: %s",
		(took - build).Seconds(), build.Seconds(), describeSteps(steps)), nil
}

// checkBuilt makes sure a timed build really ran COPY and RUN: the context
// changed (or the cache was pruned and the image removed), so a real build
// gives an image that is in the engine and new. An image ID seen before
// would mean a cached result.
func (b *bench) checkBuilt(before, after, what string) error {
	if after == "" {
		return fmt.Errorf("%s left no image", what)
	}
	if after == before || b.seenImages[after] {
		return fmt.Errorf("%s returned an image built before (%s): the build was cached", what, after)
	}
	if id, err := b.docker.imageID(after); err != nil || id == "" {
		return fmt.Errorf("%s: image %s is not in the engine (%v)", what, after, err)
	}
	b.see(after)
	return nil
}

func (b *bench) see(imageID string) {
	if imageID != "" {
		b.seenImages[imageID] = true
	}
}

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// bench is one invocation: its settings, where things are, and what it built.
type bench struct {
	cfg         config
	r           *runner
	docker      dockerCLI
	tf          *terraformSide
	contextSpec treeSpec
	tfContext   string
	cliContext  string
	digestSpec  treeSpec
	digestDir   string
	// many is the many-image configuration, once applied, and the
	// provider's peak RSS during that apply.
	many             *terraformSide
	manyApplyPeakKiB int64
	// ignore is the set-up of the issue 26 scenarios, nil when none runs;
	// sentHash the median time of SHA-256 of the bytes its context sends.
	ignore   *ignoreBench
	sentHash time.Duration
	// seenImages are the IDs of the images each side had before and after
	// its builds: a build that gives one of them was cached, and all are
	// removed at the end (a moved tag leaves the old image dangling).
	seenImages map[string]bool
}

func run(cfg config) error {
	started := time.Now()
	b, err := newBench(cfg)
	if err != nil {
		return err
	}
	defer b.r.close()
	printMachine(b.r, cfg.needsDocker())
	fmt.Printf("workdir: %s; commands' output: %s\n\n", cfg.workdir, b.r.log.Name())

	report, err := b.runScenarios()
	if cfg.needsDocker() && !cfg.keep {
		err = errors.Join(err, b.cleanUp())
	}
	printReport(report)
	fmt.Printf("\ntotal time %s\n", time.Since(started).Round(time.Second))
	return err
}

func newBench(cfg config) (*bench, error) {
	if err := os.MkdirAll(cfg.workdir, 0o755); err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfigPath(cfg.workdir),
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"DOCKER_BUILDKIT=1",
	)
	r, err := newRunner(filepath.Join(cfg.workdir, "commands.log"), env)
	if err != nil {
		return nil, err
	}
	return &bench{
		cfg:         cfg,
		r:           r,
		docker:      dockerCLI{r: r},
		contextSpec: contextSpec(cfg.files, int64(cfg.size), cfg.baseImage),
		tfContext:   filepath.Join(cfg.workdir, "ctx"),
		cliContext:  filepath.Join(cfg.workdir, "ctx-cli"),
		digestSpec:  digestTreeSpec(cfg.digestFiles, int64(cfg.digestSize)),
		digestDir:   filepath.Join(cfg.workdir, "digest-tree"),
		seenImages:  map[string]bool{},
	}, nil
}

// runScenarios runs the chosen scenarios in their fixed order and stops at
// the first failure; the report has what finished.
func (b *bench) runScenarios() (report, error) {
	rep := report{pairs: map[string]pairResult{}}
	if b.cfg.needsDocker() {
		if err := b.setUpBuilds(); err != nil {
			return rep, err
		}
	}
	pairScenarios := map[string]func() (pairResult, error){
		scenarioPlanNoChange:       b.planNoChange,
		scenarioPlanFloor:          b.planFloor,
		scenarioPlanMany:           b.planMany,
		scenarioPlanManyOneFile:    b.planManyOneFile,
		scenarioPlanFloorFramework: b.planFloorFramework,
		scenarioPlanManyFramework:  b.planManyFramework,
		scenarioPlanFloorSchema:    b.planFloorSchema,
		scenarioPlanManySchema:     b.planManySchema,
		scenarioPlanNoChangeIgnore: b.planNoChangeIgnore,
		scenarioPlanColdIgnore:     b.planColdIgnore,
		scenarioPlanManyIgnore:     b.planManyIgnore,
		scenarioApplyOneFile:       b.applyOneFile,
		scenarioApplyCold:          b.applyCold,
		scenarioBuilderOneFile:     b.builderOneFile,
	}
	for _, name := range scenarioNames() {
		if !b.cfg.wants(name) {
			continue
		}
		fmt.Printf("%s:\n", name)
		if name == scenarioDigestThroughput {
			if err := b.ensureTree(b.digestDir, b.digestSpec); err != nil {
				return rep, err
			}
			result, err := b.digestThroughput()
			if err != nil {
				return rep, err
			}
			rep.digest = result
			continue
		}
		result, err := pairScenarios[name]()
		if err != nil {
			return rep, err
		}
		rep.pairs[name] = result
	}
	rep.manyApplyPeakKiB = b.manyApplyPeakKiB
	rep.sentHash = b.sentHash
	if b.ignore != nil {
		rep.manyIgnoreApplyPeakKiB = b.ignore.manyApplyKiB
	}
	return rep, nil
}

// setUpBuilds builds the provider, points terraform at it and generates
// the two copies of the context.
func (b *bench) setUpBuilds() error {
	fmt.Println("setup:")
	rssLog := filepath.Join(b.cfg.workdir, "provider-rss.log")
	if err := installProvider(b.r, b.cfg.workdir, cliConfigPath(b.cfg.workdir), rssLog); err != nil {
		return err
	}
	for _, dir := range []string{b.tfContext, b.cliContext} {
		if err := b.ensureTree(dir, b.contextSpec); err != nil {
			return err
		}
	}
	tf, err := newTerraformSide(b.r, filepath.Join(b.cfg.workdir, "tf"), terraformRepo, b.tfContext, b.cfg.network, rssLog)
	b.tf = tf
	if err != nil {
		return err
	}
	return b.setUpIgnore(rssLog)
}

func (b *bench) ensureTree(dir string, spec treeSpec) error {
	started := time.Now()
	reused, err := ensureTree(dir, spec)
	if err != nil {
		return fmt.Errorf("generating %s: %w", dir, err)
	}
	verb := "generated"
	if reused {
		verb = "reused"
	}
	fmt.Printf("  %s %s: %d files, %s, in %s\n", verb, dir, spec.Files, sizeText(spec.Bytes), time.Since(started).Round(time.Millisecond))
	return nil
}

// cleanUp removes what the run built: the Terraform-managed image, the CLI's
// image, every image the builds made, and the build cache they leave
// unreferenced. The generated trees stay for the next run.
func (b *bench) cleanUp() error {
	if b.tf == nil {
		return nil
	}
	fmt.Println("\ncleaning up built images (-keep keeps them)")
	err := errors.Join(b.tf.destroy(), b.cleanUpIgnore())
	if b.many != nil {
		err = errors.Join(err, b.many.destroy())
	}
	for _, repo := range []string{terraformRepo, cliRepo} {
		err = errors.Join(err, b.docker.removeRepo(repo))
	}
	for id := range b.seenImages {
		err = errors.Join(err, b.docker.removeImages(id))
	}
	return errors.Join(err, b.r.run(dockerBinary, "builder", "prune", "-f"))
}

// cliConfigPath is terraform's CLI configuration, with the dev_overrides.
func cliConfigPath(workdir string) string { return filepath.Join(workdir, "terraformrc") }

func sizeText(n int64) string {
	s := byteSize(n)
	return s.String()
}

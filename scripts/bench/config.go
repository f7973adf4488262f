package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

const (
	scenarioPlanNoChange     = "plan-nochange"
	scenarioApplyOneFile     = "apply-onefile"
	scenarioApplyCold        = "apply-cold"
	scenarioDigestThroughput = "digest-throughput"
	scenarioBuilderOneFile   = "builder-onefile"
)

// scenarioNames are all scenarios, in the order they run.
func scenarioNames() []string {
	return []string{scenarioPlanNoChange, scenarioPlanFloor, scenarioPlanMany, scenarioPlanManyOneFile,
		scenarioPlanFloorFramework, scenarioPlanManyFramework, scenarioPlanFloorSchema, scenarioPlanManySchema,
		scenarioPlanNoChangeIgnore, scenarioPlanColdIgnore, scenarioPlanManyIgnore,
		scenarioApplyOneFile, scenarioApplyCold, scenarioDigestThroughput, scenarioBuilderOneFile}
}

type config struct {
	runs        int
	files       int
	size        byteSize
	digestFiles int
	digestSize  byteSize
	workdir     string
	scenarios   []string
	keep        bool
	// network is the RUN steps' network on both sides.
	network string
	// baseImage is the Dockerfile's FROM: a local image, never pulled.
	baseImage string
}

// defaultNetwork is the engine's bridge, what a build gets without --network.
const defaultNetwork = "default"

func (c *config) validate() error {
	if !slices.Contains([]string{defaultNetwork, "none", "host"}, c.network) {
		return errors.New("-network must be default, none or host")
	}
	if c.runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	if c.files < 1 || c.digestFiles < 1 {
		return errors.New("-files and -digest-files must be at least 1")
	}
	if int64(c.size) < int64(c.files) || int64(c.digestSize) < int64(c.digestFiles) {
		return errors.New("each file needs at least one byte: raise -size or -digest-size")
	}
	c.baseImage = os.Getenv("IMAGEBUILD_TEST_BASE_IMAGE")
	if c.baseImage == "" && c.needsDocker() {
		return errors.New("IMAGEBUILD_TEST_BASE_IMAGE is not set: run `make bench`, or source scripts/testenv.sh first")
	}
	return nil
}

func (c *config) wants(scenario string) bool { return slices.Contains(c.scenarios, scenario) }

// needsDocker is false for a digest-only run, which needs no engine.
func (c *config) needsDocker() bool {
	return slices.ContainsFunc(c.scenarios, func(s string) bool { return s != scenarioDigestThroughput })
}

func parseScenarios(list string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(scenarioNames(), name) {
			return nil, fmt.Errorf("unknown scenario %q; known: %s", name, strings.Join(scenarioNames(), ", "))
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("-scenarios names none")
	}
	return out, nil
}

// byteSize is a flag value such as 400MiB, 1GiB or 4096.
type byteSize int64

type sizeUnit struct {
	suffix string
	scale  int64
}

func sizeUnits() []sizeUnit {
	return []sizeUnit{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
}

func (s *byteSize) Set(text string) error {
	scale, number := int64(1), text
	for _, u := range sizeUnits() {
		if n, ok := strings.CutSuffix(text, u.suffix); ok {
			scale, number = u.scale, n
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(number), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a size such as 400MiB, 1GiB or 4096", text)
	}
	*s = byteSize(n * scale)
	return nil
}

func (s *byteSize) String() string {
	for _, u := range sizeUnits() {
		if int64(*s)%u.scale == 0 {
			return fmt.Sprintf("%d%s", int64(*s)/u.scale, u.suffix)
		}
	}
	return strconv.FormatInt(int64(*s), 10)
}

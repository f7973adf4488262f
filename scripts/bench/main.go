// Command bench measures the provider end to end against reference commands
// (issue 8): a no-change plan against `tar c | sha256sum`, a one-file-change
// apply and a cold apply against the Docker CLI's BuildKit build, the
// provider's peak memory, and the plan digest's throughput at 1 and 2 cores.
//
// Run it from the repository root with the test environment sourced, as
// `make bench` does: `. scripts/testenv.sh && go run ./scripts/bench`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	cfg := config{size: 400 << 20, digestSize: 1 << 30}
	flag.IntVar(&cfg.runs, "runs", 5, "timed runs of each side of each scenario")
	flag.IntVar(&cfg.files, "files", 20000, "files in the build context")
	flag.Var(&cfg.size, "size", "total size of the build context's files (e.g. 400MiB)")
	flag.IntVar(&cfg.digestFiles, "digest-files", 100000, "files in the digest-throughput tree")
	flag.Var(&cfg.digestSize, "digest-size", "total size of the digest-throughput tree (e.g. 1GiB)")
	flag.StringVar(&cfg.workdir, "workdir", filepath.Join(os.TempDir(), "imagebuild-bench"),
		"working directory; generated trees there are reused when their parameters match")
	scenarios := flag.String("scenarios", strings.Join(scenarioNames(), ","), "comma-separated scenarios to run")
	flag.StringVar(&cfg.network, "network", defaultNetwork,
		"network of the RUN steps on both sides: default (the engine's bridge), none or host")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the built images and Terraform state at the end")
	flag.Parse()

	var err error
	if cfg.scenarios, err = parseScenarios(*scenarios); err == nil {
		err = cfg.validate()
	}
	if err == nil {
		err = run(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		os.Exit(1)
	}
}

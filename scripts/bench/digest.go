package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

// digestResult holds the plan digest's times at each GOMAXPROCS.
type digestResult struct {
	files int
	bytes int64
	times map[int][]time.Duration
}

// digestProcs are the GOMAXPROCS values compared: the machine's two cores.
func digestProcs() []int { return []int{1, 2} }

// digestThroughput times buildcontext.Digest, the whole plan-time context
// digest (walk, .dockerignore, read and hash every file), in this process at
// GOMAXPROCS 1 and 2, alternately, with a warm page cache as a plan after an
// edit has. It must stay the uncached digest: a stat cache would measure
// stat calls, not hashing.
func (b *bench) digestThroughput() (*digestResult, error) {
	result := &digestResult{files: b.digestSpec.Files, bytes: b.digestSpec.Bytes, times: map[int][]time.Duration{}}
	want, _, err := digestWith(b.digestDir, runtime.GOMAXPROCS(0)) // warm-up
	if err != nil {
		return nil, err
	}
	for run := 1; run <= b.cfg.runs; run++ {
		for _, procs := range digestProcs() {
			sum, took, err := digestWith(b.digestDir, procs)
			if err != nil {
				return nil, err
			}
			if sum != want {
				return nil, fmt.Errorf("digest of an unchanged tree changed: %s, then %s", want, sum)
			}
			result.times[procs] = append(result.times[procs], took)
			fmt.Printf("  %-17s %d/%d  GOMAXPROCS=%d %23s %8.3f s   %s\n", scenarioDigestThroughput, run, b.cfg.runs, procs, "",
				took.Seconds(), result.rate(took))
		}
	}
	for _, procs := range digestProcs() {
		fmt.Printf("  %-17s median  GOMAXPROCS=%d %.3f s, %s\n", scenarioDigestThroughput, procs, result.median(procs).Seconds(),
			result.rate(result.median(procs)))
	}
	fmt.Printf("  %-17s speed-up from 1 to 2 cores: %.2fx\n", scenarioDigestThroughput, result.speedup())
	return result, nil
}

func digestWith(dir string, procs int) (string, time.Duration, error) {
	previous := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(previous)
	started := time.Now()
	sum, err := buildcontext.Digest(context.Background(), dir)
	return sum, time.Since(started), err
}

func (d *digestResult) median(procs int) time.Duration { return median(d.times[procs]) }

func (d *digestResult) rate(took time.Duration) string {
	seconds := took.Seconds()
	return fmt.Sprintf("%.0f MiB/s, %.0f files/s", float64(d.bytes)/(1<<20)/seconds, float64(d.files)/seconds)
}

func (d *digestResult) speedup() float64 {
	return d.median(1).Seconds() / d.median(2).Seconds()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

// digestResult holds the plan digest's times at each GOMAXPROCS.
type digestResult struct {
	files int
	bytes int64
	times map[int][]time.Duration
	cpu   map[int][]time.Duration
}

// digestProcs are the GOMAXPROCS values compared: the machine's two cores.
func digestProcs() []int { return []int{1, 2} }

// digestThroughput times buildcontext.Digest, the whole plan-time context
// digest (walk, .dockerignore, read and hash every file), in this process at
// GOMAXPROCS 1 and 2, alternately, with a warm page cache as a plan after an
// edit has. It must stay the uncached digest: a stat cache would measure
// stat calls, not hashing.
func (b *bench) digestThroughput() (*digestResult, error) {
	result := &digestResult{files: b.digestSpec.Files, bytes: b.digestSpec.Bytes, times: map[int][]time.Duration{},
		cpu: map[int][]time.Duration{}}
	want, _, err := digestWith(b.digestDir, runtime.GOMAXPROCS(0)) // warm-up
	if err != nil {
		return nil, err
	}
	for run := 1; run <= b.cfg.runs; run++ {
		for _, procs := range digestProcs() {
			sum, m, err := digestWith(b.digestDir, procs)
			if err != nil {
				return nil, err
			}
			if sum != want {
				return nil, fmt.Errorf("digest of an unchanged tree changed: %s, then %s", want, sum)
			}
			result.times[procs] = append(result.times[procs], m.wall)
			result.cpu[procs] = append(result.cpu[procs], m.cpu)
			fmt.Printf("  %-17s %d/%-5d  GOMAXPROCS=%d %21s %8.3f s   cpu %6.2f s   %s\n", scenarioDigestThroughput, run, b.cfg.runs, procs, "",
				m.wall.Seconds(), m.cpu.Seconds(), result.rate(m.wall))
		}
	}
	for _, procs := range digestProcs() {
		fmt.Printf("  %-17s median   GOMAXPROCS=%d %.3f s, %s; cpu %.2f s, %s\n", scenarioDigestThroughput, procs,
			result.median(procs).Seconds(), result.rate(result.median(procs)), median(result.cpu[procs]).Seconds(), result.cpuRate(procs))
	}
	fmt.Printf("  %-17s median   speed-up from 1 to 2 cores: %.2fx\n", scenarioDigestThroughput, result.speedup())
	return result, nil
}

// digestWith digests dir at GOMAXPROCS procs. The process does nothing
// else meanwhile, so its own CPU time is the digest's.
func digestWith(dir string, procs int) (string, measurement, error) {
	previous := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(previous)
	cpuBefore, err := processCPU()
	if err != nil {
		return "", measurement{}, err
	}
	started := time.Now()
	sum, err := buildcontext.Digest(context.Background(), dir)
	m := measurement{wall: time.Since(started)}
	cpuAfter, cpuErr := processCPU()
	m.cpu = cpuAfter - cpuBefore
	return sum, m, errors.Join(err, cpuErr)
}

func processCPU() (time.Duration, error) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0, err
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()), nil
}

func (d *digestResult) median(procs int) time.Duration { return median(d.times[procs]) }

func (d *digestResult) rate(took time.Duration) string {
	seconds := took.Seconds()
	return fmt.Sprintf("%.0f MiB/s, %.0f files/s", float64(d.bytes)/(1<<20)/seconds, float64(d.files)/seconds)
}

// cpuRate is the throughput per CPU-second: what the digest costs, which a
// busy machine changes much less than its wall time.
func (d *digestResult) cpuRate(procs int) string {
	return fmt.Sprintf("%.0f MiB per CPU-second", float64(d.bytes)/(1<<20)/median(d.cpu[procs]).Seconds())
}

func (d *digestResult) speedup() float64 {
	return d.median(1).Seconds() / d.median(2).Seconds()
}

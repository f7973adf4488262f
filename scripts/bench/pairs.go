package main

import (
	"fmt"
	"slices"
	"time"
)

// side is one command of a scenario's pair. prepare and verify are not
// timed; measure returns the time of the command alone.
type side struct {
	label   string
	prepare func(run int) error
	measure func() (time.Duration, error)
	verify  func(run int) error
	// provider sides report the provider process's peak RSS.
	provider *terraformSide
}

type sideResult struct {
	label   string
	times   []time.Duration
	peakKiB []int64
}

// pairResult is a scenario's figures: a is the provider, b the reference.
type pairResult struct {
	scenario string
	a, b     sideResult
}

// runPair runs the sides alternately, A B A B …, so that a drift in the
// machine's speed touches both alike.
func runPair(scenario string, runs int, a, b side) (pairResult, error) {
	result := pairResult{scenario: scenario, a: sideResult{label: a.label}, b: sideResult{label: b.label}}
	for run := 1; run <= runs; run++ {
		for _, s := range []struct {
			side
			out *sideResult
		}{{a, &result.a}, {b, &result.b}} {
			if err := runSide(scenario, run, runs, s.side, s.out); err != nil {
				return result, fmt.Errorf("%s run %d, %s: %w", scenario, run, s.label, err)
			}
		}
	}
	printPairSummary(result)
	return result, nil
}

func runSide(scenario string, run, runs int, s side, out *sideResult) error {
	if s.prepare != nil {
		if err := s.prepare(run); err != nil {
			return err
		}
	}
	if s.provider != nil {
		if err := s.provider.resetPeakRSS(); err != nil {
			return err
		}
	}
	took, err := s.measure()
	if err != nil {
		return err
	}
	if s.verify != nil {
		if err := s.verify(run); err != nil {
			return err
		}
	}
	out.times = append(out.times, took)
	line := fmt.Sprintf("  %-17s %d/%d  %-34s %8.3f s", scenario, run, runs, s.label, took.Seconds())
	if s.provider != nil {
		kib, err := s.provider.peakRSS()
		if err != nil {
			return err
		}
		out.peakKiB = append(out.peakKiB, kib)
		line += fmt.Sprintf("   provider peak RSS %.1f MiB", mib(kib))
	}
	fmt.Println(line)
	return nil
}

func printPairSummary(r pairResult) {
	fmt.Printf("  %-17s median  %s %.3f s, %s %.3f s; ratio %.2f (median of run pairs %.2f)\n",
		r.scenario, r.a.label, r.a.median().Seconds(), r.b.label, r.b.median().Seconds(), r.ratio(), r.pairRatio())
	if len(r.a.peakKiB) > 0 {
		fmt.Printf("  %-17s provider peak RSS: max %.1f MiB, median %.1f MiB\n", r.scenario, mib(r.a.maxPeakKiB()), mib(median(r.a.peakKiB)))
	}
}

func (s sideResult) median() time.Duration { return median(s.times) }

func (s sideResult) maxPeakKiB() int64 {
	if len(s.peakKiB) == 0 {
		return 0
	}
	return slices.Max(s.peakKiB)
}

// ratio is median(provider) / median(reference), the figure the targets use.
func (r pairResult) ratio() float64 { return r.a.median().Seconds() / r.b.median().Seconds() }

// pairRatio is the median of run-by-run ratios, which a slow phase of the
// shared machine moves less.
func (r pairResult) pairRatio() float64 {
	ratios := make([]float64, len(r.a.times))
	for i := range ratios {
		ratios[i] = r.a.times[i].Seconds() / r.b.times[i].Seconds()
	}
	return median(ratios)
}

// median of an even count is the mean of the middle two.
func median[T int64 | float64 | time.Duration](values []T) T {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(values))
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

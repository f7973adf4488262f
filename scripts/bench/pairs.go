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
	measure func() (measurement, error)
	verify  func(run int) error
	// explain, when set, says where the measured command's time went.
	explain func(took time.Duration) (string, error)
	// provider sides report the provider process's peak RSS.
	provider *terraformSide
}

type sideResult struct {
	label   string
	times   []time.Duration
	cpu     []time.Duration
	peakKiB []int64
}

// pairResult is a scenario's figures: a is the provider, b the reference.
type pairResult struct {
	scenario string
	a, b     sideResult
}

// sideRun is one measured run of a side.
type sideRun struct {
	measurement
	peakKiB     int64
	explanation string
}

// runPair runs the sides alternately, A B A B …, so that a drift in the
// machine's speed touches both alike. A warm-up round, run 0, is printed
// but not counted.
func runPair(scenario string, runs int, warmUp bool, a, b side) (pairResult, error) {
	result := pairResult{scenario: scenario, a: sideResult{label: a.label}, b: sideResult{label: b.label}}
	first := 1
	if warmUp {
		first = 0
	}
	for run := first; run <= runs; run++ {
		for _, s := range []struct {
			side
			out *sideResult
		}{{a, &result.a}, {b, &result.b}} {
			measured, err := runSide(run, s.side)
			if err != nil {
				return result, fmt.Errorf("%s run %d, %s: %w", scenario, run, s.label, err)
			}
			printRun(scenario, run, runs, s.label, measured)
			if run > 0 {
				s.out.record(measured)
			}
		}
	}
	printPairSummary(result)
	return result, nil
}

func runSide(run int, s side) (sideRun, error) {
	var measured sideRun
	if s.prepare != nil {
		if err := s.prepare(run); err != nil {
			return measured, err
		}
	}
	if s.provider != nil {
		if err := s.provider.resetPeakRSS(); err != nil {
			return measured, err
		}
	}
	m, err := s.measure()
	if err != nil {
		return measured, err
	}
	measured.measurement = m
	if s.verify != nil {
		if err := s.verify(run); err != nil {
			return measured, err
		}
	}
	if s.provider != nil {
		if measured.peakKiB, err = s.provider.peakRSS(); err != nil {
			return measured, err
		}
	}
	if s.explain != nil {
		if measured.explanation, err = s.explain(m.wall); err != nil {
			return measured, err
		}
	}
	return measured, nil
}

func (s *sideResult) record(r sideRun) {
	s.times = append(s.times, r.wall)
	s.cpu = append(s.cpu, r.cpu)
	if r.peakKiB > 0 {
		s.peakKiB = append(s.peakKiB, r.peakKiB)
	}
}

func printRun(scenario string, run, runs int, label string, r sideRun) {
	counter := fmt.Sprintf("%d/%d", run, runs)
	if run == 0 {
		counter = "warm-up"
	}
	line := fmt.Sprintf("  %-17s %-7s  %-34s %8.3f s   cpu %6.2f s", scenario, counter, label, r.wall.Seconds(), r.cpu.Seconds())
	if r.peakKiB > 0 {
		line += fmt.Sprintf("   provider peak RSS %.1f MiB", mib(r.peakKiB))
	}
	fmt.Println(line)
	if r.explanation != "" {
		fmt.Printf("  %-17s %-7s    %s\n", "", "", r.explanation)
	}
}

func printPairSummary(r pairResult) {
	fmt.Printf("  %-17s median   %s %.3f s, %s %.3f s; ratio %.2f (median of run pairs %.2f)\n",
		r.scenario, r.a.label, r.a.median().Seconds(), r.b.label, r.b.median().Seconds(), r.ratio(), r.pairRatio())
	fmt.Printf("  %-17s median   cpu: %s %.2f s, %s %.2f s (the engine's share counts on neither side)\n",
		r.scenario, r.a.label, median(r.a.cpu).Seconds(), r.b.label, median(r.b.cpu).Seconds())
	if len(r.a.peakKiB) > 0 {
		fmt.Printf("  %-17s median   provider peak RSS: max %.1f MiB, median %.1f MiB\n", r.scenario, mib(r.a.maxPeakKiB()), mib(median(r.a.peakKiB)))
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

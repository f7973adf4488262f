package main

import (
	"fmt"
	"strings"
	"time"
)

// report is what the scenarios measured; a scenario not run is absent.
type report struct {
	pairs  map[string]pairResult
	digest *digestResult
	// manyApplyPeakKiB is the provider's peak RSS applying the many images.
	manyApplyPeakKiB int64
	// sentHash and manyIgnoreApplyPeakKiB: see ignoreRows.
	sentHash               time.Duration
	manyIgnoreApplyPeakKiB int64
}

// Issue 8's targets, with issue 18's tighter plan ratio.
const (
	planMaxSeconds    = 0.6
	planMaxRatio      = 0.15
	applyMaxRatio     = 1.15
	providerMaxRSSMiB = 150
)

// Issue 18's targets.
const (
	planOverFloorMaxSeconds = 0.1
	planManyMaxRatio        = 1.5
	manyMaxRSSMiB           = 100
)

// printReport prints the targets as a Markdown table, ready for BENCHMARKS.md.
func printReport(rep report) {
	var rows [][]string
	if p, ok := rep.pairs[scenarioPlanNoChange]; ok {
		rows = append(rows, []string{"1", "no-change plan ≤ 0.6 s and ≤ 0.15x `tar c \\| sha256sum`",
			fmt.Sprintf("%.2f s vs %.2f s: %.2fx (run pairs %.2fx); CPU %.2f s vs %.2f s", p.a.median().Seconds(), p.b.median().Seconds(),
				p.ratio(), p.pairRatio(), median(p.a.cpu).Seconds(), median(p.b.cpu).Seconds()),
			verdict(p.a.median().Seconds() <= planMaxSeconds && p.ratio() <= planMaxRatio)})
	}
	for _, t := range []struct{ number, scenario, target string }{
		{"2", scenarioApplyOneFile, "one-file-change apply ≤ 1.15x `docker build`"},
		{"3", scenarioApplyCold, "cold apply ≤ 1.15x `docker build --no-cache`, cache pruned before both"},
	} {
		if p, ok := rep.pairs[t.scenario]; ok {
			rows = append(rows, []string{t.number, t.target,
				fmt.Sprintf("%.2f s vs %.2f s: %.2fx (run pairs %.2fx)", p.a.median().Seconds(), p.b.median().Seconds(), p.ratio(), p.pairRatio()),
				verdict(p.ratio() <= applyMaxRatio)})
		}
	}
	if row, ok := rssRow(rep); ok {
		rows = append(rows, row)
	}
	rows = append(rows, manyRows(rep)...)
	rows = append(rows, ignoreRows(rep)...)
	rows = append(rows, ignoreOverSchemaFloorRows(rep)...)
	if d := rep.digest; d != nil {
		rows = append(rows, []string{"5", fmt.Sprintf("plan digest throughput, %s in %d files", sizeText(d.bytes), d.files),
			fmt.Sprintf("1 core: %s; 2 cores: %s; %.2fx faster on 2 cores (CPU cost: %s)",
				d.rate(d.median(1)), d.rate(d.median(2)), d.speedup(), d.cpuRate(1)), "stated"})
	}
	fmt.Println("\nsummary (medians; ratio = provider / reference):")
	fmt.Println("| # | target | measured | |")
	fmt.Println("|---|---|---|---|")
	for _, row := range rows {
		fmt.Printf("| %s |\n", strings.Join(row, " | "))
	}
}

// rssRow is target 4 over whichever of scenarios 2 and 3 ran.
func rssRow(rep report) ([]string, bool) {
	var peak int64
	var during []string
	for _, name := range []string{scenarioApplyOneFile, scenarioApplyCold} {
		if p, ok := rep.pairs[name]; ok {
			peak = max(peak, p.a.maxPeakKiB())
			during = append(during, name)
		}
	}
	if len(during) == 0 {
		return nil, false
	}
	return []string{"4", "provider peak RSS ≤ 150 MiB during 2 and 3",
		fmt.Sprintf("max %.1f MiB (%s)", mib(peak), strings.Join(during, ", ")),
		verdict(mib(peak) <= providerMaxRSSMiB)}, true
}

// manyRows are issue 18's targets over whichever of its scenarios ran.
func manyRows(rep report) [][]string {
	var rows [][]string
	if p, ok := rep.pairs[scenarioPlanFloor]; ok {
		over := p.a.median().Seconds() - p.b.median().Seconds()
		rows = append(rows, []string{"6", "one-image no-change plan within 0.1 s of the empty plan",
			fmt.Sprintf("%.3f s vs %.3f s: +%.3f s", p.a.median().Seconds(), p.b.median().Seconds(), over),
			verdict(over <= planOverFloorMaxSeconds)})
	}
	for _, t := range []struct{ number, scenario, target string }{
		{"7", scenarioPlanMany, fmt.Sprintf("no-change plan of %d images on one context ≤ 1.5x that of one image", manyImages)},
		{"8", scenarioPlanManyOneFile, fmt.Sprintf("plan of %d images, one context file changed, ≤ 1.5x their no-change plan", manyImages)},
	} {
		if p, ok := rep.pairs[t.scenario]; ok {
			rows = append(rows, []string{t.number, t.target,
				fmt.Sprintf("%.3f s vs %.3f s: %.2fx (run pairs %.2fx)", p.a.median().Seconds(), p.b.median().Seconds(), p.ratio(), p.pairRatio()),
				verdict(p.ratio() <= planManyMaxRatio)})
		}
	}
	// The same measures of a provider whose resource does nothing: what no
	// provider can go below on this machine.
	if p, ok := rep.pairs[scenarioPlanFloorFramework]; ok {
		rows = append(rows, []string{"6 floor", "any provider: one-resource plan over the empty plan",
			fmt.Sprintf("%.3f s vs %.3f s: +%.3f s", p.a.median().Seconds(), p.b.median().Seconds(),
				p.a.median().Seconds()-p.b.median().Seconds()), "floor"})
	}
	if p, ok := rep.pairs[scenarioPlanManyFramework]; ok {
		rows = append(rows, []string{"7 floor", fmt.Sprintf("any provider: %d resources over one, two-attribute schema", manyImages),
			fmt.Sprintf("%.3f s vs %.3f s: %.2fx", p.a.median().Seconds(), p.b.median().Seconds(), p.ratio()), "floor"})
	}
	rows = append(rows, schemaFloorRows(rep)...)
	var peak int64
	for _, name := range []string{scenarioPlanMany, scenarioPlanManyOneFile} {
		if p, ok := rep.pairs[name]; ok {
			peak = max(peak, p.a.maxPeakKiB())
		}
	}
	if peak > 0 {
		peak = max(peak, rep.manyApplyPeakKiB)
		rows = append(rows, []string{"9", fmt.Sprintf("provider peak RSS ≤ 100 MiB in the %d-image plans and apply", manyImages),
			fmt.Sprintf("max %.1f MiB (apply %.1f MiB)", mib(peak), mib(rep.manyApplyPeakKiB)), verdict(mib(peak) <= manyMaxRSSMiB)})
	}
	return rows
}

// schemaFloorRows are the floors of a provider with our schema: the
// framework's work on each request grows with the schema's size.
func schemaFloorRows(rep report) [][]string {
	var rows [][]string
	if p, ok := rep.pairs[scenarioPlanFloorSchema]; ok {
		rows = append(rows, []string{"6 schema floor", "our schema, no work: one-resource plan over the two-attribute one's",
			fmt.Sprintf("%.3f s vs %.3f s: +%.3f s", p.a.median().Seconds(), p.b.median().Seconds(),
				p.a.median().Seconds()-p.b.median().Seconds()), "floor"})
	}
	if p, ok := rep.pairs[scenarioPlanManySchema]; ok {
		rows = append(rows, []string{"7 schema floor", fmt.Sprintf("our schema, no work: %d resources over one", manyImages),
			fmt.Sprintf("%.3f s vs %.3f s: %.2fx", p.a.median().Seconds(), p.b.median().Seconds(), p.ratio()), "floor"})
	}
	return rows
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "not met"
}

// Issue 26's targets.
const (
	coldOverHashMaxRatio     = 1.2
	manyIgnoreOverFloorRatio = 1.3
)

// ignoreRows are issue 26's targets over whichever of its scenarios ran.
func ignoreRows(rep report) [][]string {
	var rows [][]string
	if p, ok := rep.pairs[scenarioPlanNoChangeIgnore]; ok {
		over := p.a.median().Seconds() - p.b.median().Seconds()
		rows = append(rows, []string{"26.1", "warm no-change plan, .dockerignore, within 0.1 s of the floor provider's one-resource plan",
			fmt.Sprintf("%.3f s vs %.3f s: +%.3f s%s", p.a.median().Seconds(), p.b.median().Seconds(), over, plainOverFloor(rep)),
			verdict(over <= planOverFloorMaxSeconds)})
	}
	if p, ok := rep.pairs[scenarioPlanColdIgnore]; ok && rep.sentHash > 0 {
		extra := p.a.median().Seconds() - p.b.median().Seconds()
		ratio := extra / rep.sentHash.Seconds()
		rows = append(rows, []string{"26.2", "cold minus warm no-change plan ≤ 1.2x SHA-256 of the sent bytes on all cores",
			fmt.Sprintf("%.3f s - %.3f s = %.3f s vs %.3f s: %.2fx", p.a.median().Seconds(), p.b.median().Seconds(), extra,
				rep.sentHash.Seconds(), ratio), verdict(ratio <= coldOverHashMaxRatio)})
	}
	p, ok := rep.pairs[scenarioPlanManyIgnore]
	if !ok {
		return rows
	}
	if floor, ok := rep.pairs[scenarioPlanManyFramework]; ok {
		ratio := p.ratio() / floor.ratio()
		rows = append(rows, []string{"26.3", fmt.Sprintf("%d-vs-1 plan ratio, .dockerignore, ≤ 1.3x the floor provider's", manyImages),
			fmt.Sprintf("%.3f s vs %.3f s: %.2fx; floor %.2fx; %.2fx the floor's", p.a.median().Seconds(), p.b.median().Seconds(),
				p.ratio(), floor.ratio(), ratio), verdict(ratio <= manyIgnoreOverFloorRatio)})
	}
	peak := max(p.a.maxPeakKiB(), rep.manyIgnoreApplyPeakKiB)
	rows = append(rows, []string{"26.4", fmt.Sprintf("provider peak RSS ≤ 100 MiB, %d images, .dockerignore", manyImages),
		fmt.Sprintf("max %.1f MiB (apply %.1f MiB)", mib(peak), mib(rep.manyIgnoreApplyPeakKiB)), verdict(mib(peak) <= manyMaxRSSMiB)})
	return rows
}

// ignoreOverSchemaFloorRows measure 26.1 and 26.3 against the floor of a
// provider with our schema, which the two-attribute floor understates.
func ignoreOverSchemaFloorRows(rep report) [][]string {
	var rows [][]string
	one, ok1 := rep.pairs[scenarioPlanNoChangeIgnore]
	floor, ok2 := rep.pairs[scenarioPlanFloorSchema]
	if ok1 && ok2 {
		over := one.a.median().Seconds() - floor.a.median().Seconds()
		rows = append(rows, []string{"26.1 schema floor", "26.1's warm no-change plan, .dockerignore, over the one-resource plan of a provider with our schema and no work",
			fmt.Sprintf("%.3f s vs %.3f s: +%.3f s", one.a.median().Seconds(), floor.a.median().Seconds(), over), "stated"})
	}
	many, ok1 := rep.pairs[scenarioPlanManyIgnore]
	manyFloor, ok2 := rep.pairs[scenarioPlanManySchema]
	if ok1 && ok2 {
		rows = append(rows, []string{"26.3 schema floor", fmt.Sprintf("26.3's %d-vs-1 plan ratio, .dockerignore, over that of a provider with our schema and no work", manyImages),
			fmt.Sprintf("%.2fx; schema floor %.2fx; %.2fx the schema floor's", many.ratio(), manyFloor.ratio(), many.ratio()/manyFloor.ratio()), "stated"})
	}
	return rows
}

// plainOverFloor is, when plan-floor and plan-floor-framework both ran, the
// plain tree's one-image plan over the floor provider's one-resource plan.
func plainOverFloor(rep report) string {
	plain, ok1 := rep.pairs[scenarioPlanFloor]
	floor, ok2 := rep.pairs[scenarioPlanFloorFramework]
	if !ok1 || !ok2 {
		return ""
	}
	return fmt.Sprintf(" (the tree without it: +%.3f s)", plain.a.median().Seconds()-floor.a.median().Seconds())
}

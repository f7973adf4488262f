package buildcontext

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
)

// The suffix patterns that withSuffixPatterns writes decide every path as
// the patterns they replace do, each path matched with its parent's results
// as the walk matches it, among "!" patterns and rules of other kinds.
func TestSuffixPatternsMatchAsTheirOriginals(t *testing.T) {
	names := []string{"a", "b.log", ".log", "x.log.y", "log", "a.lo", "c.log", "keep.log", "y~", "a^b.log"}
	rules := [][]string{
		{"**/*.log"}, {"**/*log"}, {"**/*.lo"}, {"**/*~"}, {"**/*^b.log"}, {"**/*.l?g"},
		{"**/*.log", "!**/keep.log"}, {"**/*.log", "!a/"}, {"a", "**/*.log", "!a/c.log"},
		{"**/*.log", "!b.log/", "**/*a"},
	}
	var paths []string
	var grow func(prefix string, depth int)
	grow = func(prefix string, depth int) {
		for _, n := range names {
			p := filepath.Join(prefix, n)
			paths = append(paths, p)
			if depth > 1 {
				grow(p, depth-1)
			}
		}
	}
	grow("", 3)
	for _, patterns := range rules {
		original, err := patternmatcher.New(patterns)
		if err != nil {
			t.Fatal(err)
		}
		rewritten, err := patternmatcher.New(withSuffixPatterns(patterns))
		if err != nil {
			t.Fatal(err)
		}
		results := map[string][2]patternmatcher.MatchInfo{}
		for _, p := range paths { // parents come before their children
			parents := results[filepath.Dir(p)]
			want, wantInfo, err := original.MatchesUsingParentResults(p, parents[0])
			if err != nil {
				t.Fatal(err)
			}
			got, gotInfo, err := rewritten.MatchesUsingParentResults(p, parents[1])
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%q: %s excluded %v, %s %v", p, strings.Join(patterns, ","), want,
					strings.Join(withSuffixPatterns(patterns), ","), got)
			}
			results[p] = [2]patternmatcher.MatchInfo{wantInfo, gotInfo}
		}
	}
}

func TestSuffixPatternsRewriteOnlyPlainNameEnds(t *testing.T) {
	for pattern, want := range map[string]string{
		"**/*.log": "**.log", "**/*~": "**~", "!**/*.log": "!**/*.log", "**/*": "**/*", "**/*.l?g": "**/*.l?g",
		"**/*a/b": "**/*a/b", "**/*^x": "**/*^x", "**/*.[ch]": "**/*.[ch]", `**/*\*`: `**/*\*`, "a/**/*.log": "a/**/*.log",
		"**/*é": "**/*é",
	} {
		if got := withSuffixPatterns([]string{pattern})[0]; got != want {
			t.Errorf("%q became %q, want %q", pattern, got, want)
		}
	}
}

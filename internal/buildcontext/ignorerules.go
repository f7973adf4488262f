package buildcontext

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"
)

// ignoreRules apply ignore patterns in a walk of our own as fsutil's filter
// applies them for BuildKit (fsutil's filter.go, FilterOpt.ExcludePatterns):
// each path is matched with its parent directory's results, an excluded
// directory is skipped whole only where fsutil skips it, and one that is
// walked into is sent only if something below it is (see keepSentDirs).
// A PatternMatcher compiles its patterns on first use, so each walker has
// rules of its own.
type ignoreRules struct {
	pm *patternmatcher.PatternMatcher
	// prefixOnly: no "!" pattern has a wildcard outside a trailing "/*" or
	// "/**", so an excluded directory can be skipped whole unless one of
	// exceptionDirs starts with it.
	prefixOnly    bool
	exceptionDirs []string
}

// newIgnoreRules are the rules of patterns, already checked
// (contextPatterns); nil when there are none.
func newIgnoreRules(patterns []string) (*ignoreRules, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(withSuffixPatterns(patterns))
	if err != nil {
		return nil, err
	}
	// As fsutil decides it, with the same characters.
	patternChars := "*[]?^"
	if filepath.Separator != '\\' {
		patternChars += `\`
	}
	r := &ignoreRules{pm: pm, prefixOnly: true}
	for _, p := range pm.Patterns() {
		if !p.Exclusion() {
			continue
		}
		dir := patternWithoutTrailingGlob(p)
		if strings.ContainsAny(dir, patternChars) {
			r.prefixOnly = false
		}
		r.exceptionDirs = append(r.exceptionDirs, dir+string(filepath.Separator))
	}
	return r, nil
}

// withSuffixPatterns rewrites each "**/*<end>" exclusion, the most common
// rule of an ignore file ("**/*.log"), as "**<end>", which matches the same
// paths, those whose last name ends so (isPlainNameEnd): patternmatcher
// matches the first with a backtracking regexp, a sixth of a warm walk's
// CPU, and the second with a string suffix. "!" patterns are kept as they
// are, as skipsDir reads them.
func withSuffixPatterns(patterns []string) []string {
	rewritten := slices.Clone(patterns)
	for i, p := range rewritten {
		if end, ok := strings.CutPrefix(p, "**/*"); ok && isPlainNameEnd(end) {
			rewritten[i] = "**" + end
		}
	}
	return rewritten
}

// isPlainNameEnd: end is printable ASCII that a pattern takes literally,
// as the regexp and a string suffix alike do ("/" would cross names, "^"
// is an anchor in the regexp, and a byte outside UTF-8 is a replacement
// character there).
func isPlainNameEnd(end string) bool {
	if end == "" {
		return false
	}
	for i := range len(end) {
		if c := end[i]; c < 0x20 || c > 0x7e || strings.IndexByte(`/*?[]\^`, c) >= 0 {
			return false
		}
	}
	return true
}

// patternWithoutTrailingGlob is fsutil's: the pattern less a final "/**"
// or "/*".
func patternWithoutTrailingGlob(p *patternmatcher.Pattern) string {
	s := strings.TrimSuffix(p.String(), string(filepath.Separator)+"**")
	return strings.TrimSuffix(s, string(filepath.Separator)+"*")
}

// match says whether the rules exclude path (relative to the root, with the
// system's separator) given its parent directory's results; info is path's
// own results, for its children. No rules exclude nothing.
func (r *ignoreRules) match(path string, parent patternmatcher.MatchInfo) (excluded bool, info patternmatcher.MatchInfo, err error) {
	if r == nil {
		return false, info, nil
	}
	return r.pm.MatchesUsingParentResults(path, parent)
}

// skipsDir says whether an excluded directory is left out whole, nothing
// below it walked; otherwise a "!" pattern may re-include something below.
func (r *ignoreRules) skipsDir(path string) bool {
	if !r.prefixOnly {
		return false
	}
	if !r.pm.Exclusions() {
		return true
	}
	dirSlash := path + string(filepath.Separator)
	for _, dir := range r.exceptionDirs {
		if strings.HasPrefix(dir, dirSlash) {
			return false
		}
	}
	return true
}

// parentResults are the results of path's parent directory as a walk from
// the root has them when it reaches path, each ancestor matched with its
// own parent's results; reached is false when that walk never gets there,
// an ancestor being skipped whole.
func (r *ignoreRules) parentResults(path string) (info patternmatcher.MatchInfo, reached bool, err error) {
	parent := filepath.Dir(path)
	if r == nil || parent == "." {
		return info, true, nil
	}
	var ancestor string
	for _, name := range strings.Split(parent, string(filepath.Separator)) {
		ancestor = filepath.Join(ancestor, name)
		var excluded bool
		if excluded, info, err = r.match(ancestor, info); err != nil {
			return info, false, err
		}
		if excluded && r.skipsDir(ancestor) {
			return info, false, nil
		}
	}
	return info, true, nil
}

// keepSentDirs drops the excluded directories of a walk (entry.excludedDir)
// that hold nothing sent, and keeps the others: fsutil sends a directory
// that the rules exclude when it sends something below it, just before
// that. entries are in walk order, so a directory's are right after it.
func keepSentDirs(entries []*entry) []*entry {
	kept := entries[:0]
	// The excluded directories above the current entry, outermost first,
	// not yet known to hold anything sent.
	var open []*entry
	for _, e := range entries {
		for len(open) > 0 && !strings.HasPrefix(e.path, open[len(open)-1].path+"/") {
			open = open[:len(open)-1]
		}
		if e.excludedDir {
			open = append(open, e)
			continue
		}
		kept = append(append(kept, open...), e)
		open = open[:0]
	}
	return kept
}

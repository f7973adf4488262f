package buildcontext

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// syntheticListing is files spread over dirs: d<i>/s<j>/f<k>.go, with the
// directories' own entries, in listing order.
func syntheticListing(files, perDir int) Listing {
	var l Listing
	seen := map[string]bool{}
	for i := range files {
		dir := fmt.Sprintf("src/d%03d/s%02d", i/(perDir*10), (i/perDir)%10)
		for _, p := range []string{"src", filepath.Dir(dir), dir} {
			if !seen[p] {
				seen[p] = true
				l = append(l, Listed{Path: p, Sum: 1})
			}
		}
		l = append(l, Listed{Path: fmt.Sprintf("%s/handler_%05d.go", dir, i), Sum: uint64(i)*0x9e3779b97f4a7c15 + 7})
	}
	slices.SortFunc(l, func(a, b Listed) int { return comparePaths(a.Path, b.Path) })
	return l
}

func withChange(l Listing, path string, sum uint64) Listing {
	out := slices.Clone(l)
	for i := range out {
		if out[i].Path == path {
			out[i].Sum = sum
		}
	}
	return out
}

func without(l Listing, path string) Listing {
	return slices.DeleteFunc(slices.Clone(l), func(e Listed) bool { return e.Path == path })
}

func changedSince(t *testing.T, now Listing, summary []byte) ([]string, int) {
	t.Helper()
	names, more, err := now.ChangedSince(summary, 5)
	if err != nil {
		t.Fatal(err)
	}
	return names, more
}

// Within the budget every entry is recorded, so a change is named by its
// own path: content, removal, addition (an added directory by itself).
func TestSummaryNamesChangedFiles(t *testing.T) {
	before := syntheticListing(2000, 20)
	summary := before.Summary(16 << 10)
	if len(summary) > 16<<10 {
		t.Fatalf("summary of 2,000 files is %d bytes, over its budget", len(summary))
	}
	if names, more := changedSince(t, before, summary); len(names) != 0 || more != 0 {
		t.Fatalf("nothing changed, yet %v (+%d)", names, more)
	}
	edited := before[1234].Path
	after := withChange(before, edited, 42)
	after = without(after, before[77].Path)
	after = Merge(after, Listing{{Path: "src/new", Sum: 1}, {Path: "src/new/a.go", Sum: 2}, {Path: "README.md", Sum: 3}})
	names, more := changedSince(t, after, summary)
	want := []string{"README.md", "src/new", before[77].Path, edited}
	slices.SortFunc(want, comparePaths)
	if !slices.Equal(names, want) || more != 0 {
		t.Errorf("changed = %v (+%d), want %v", names, more, want)
	}
}

func TestSummaryCountsBeyondTheLimit(t *testing.T) {
	before := syntheticListing(100, 10)
	after := slices.Clone(before)
	changed := 0
	for i := range after {
		if strings.HasSuffix(after[i].Path, ".go") && changed < 8 {
			after[i].Sum++
			changed++
		}
	}
	names, more := changedSince(t, after, before.Summary(32<<10))
	if len(names) != 5 || more != 3 {
		t.Errorf("8 changed files gave %v (+%d), want 5 names +3", names, more)
	}
}

// A context too large for the budget is recorded by directories below
// some depth: a change is named by its deepest recorded directory, never
// by a directory where nothing changed, and the summary stays in budget.
func TestSummaryOfALargeContextStaysInBudget(t *testing.T) {
	const budget = 24 << 10
	before := syntheticListing(20000, 20)
	summary := before.Summary(budget)
	if len(summary) > budget {
		t.Fatalf("summary of 20,000 files is %d bytes, over its budget of %d", len(summary), budget)
	}
	t.Logf("20,000 files: summary %d bytes", len(summary))
	edited := before[5000]
	names, more := changedSince(t, withChange(before, edited.Path, 1), summary)
	if len(names) != 1 || more != 0 || !strings.HasPrefix(edited.Path, strings.TrimSuffix(names[0], "/")) {
		t.Fatalf("one edit named %v (+%d), want %s or a directory holding it", names, more, edited.Path)
	}
	if names[0] != edited.Path && !strings.HasSuffix(names[0], "/") {
		t.Errorf("a directory is named without its slash: %q", names[0])
	}
}

// Whatever changes, each name given really changed (it or something under
// it), and a change is never missed.
func TestSummaryNamesOnlyRealChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		before := syntheticListing(50+rng.IntN(3000), 1+rng.IntN(30))
		summary := before.Summary(1024 + rng.IntN(32<<10))
		after := slices.Clone(before)
		truth := map[string]bool{}
		for range rng.IntN(4) {
			i := rng.IntN(len(after))
			after[i].Sum ^= 1 << rng.IntN(32)
			truth[after[i].Path] = true
		}
		names, more, err := after.ChangedSince(summary, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if more != 0 || (len(truth) == 0) != (len(names) == 0) {
			t.Fatalf("round %d: changes %v named %v (+%d)", round, truth, names, more)
		}
		for _, name := range names {
			dir, isDir := strings.CutSuffix(name, "/")
			if !truth[name] && !(isDir && slices.ContainsFunc(keys(truth), func(p string) bool { return p == dir || strings.HasPrefix(p, name) })) {
				t.Fatalf("round %d: %q named, but only %v changed", round, name, truth)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSummaryRejectsGarbage(t *testing.T) {
	if _, _, err := (Listing{}).ChangedSince([]byte("not a summary"), 5); err == nil {
		t.Error("garbage read as a summary")
	}
}

// Through a real walk: the executable bit and a file of a dep directory
// count, and names are under the label the caller gave.
func TestTreeListingOfARealWalk(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"a.txt": "a", "lib/b.go": "b", "lib/c.go": "c"}, 0o644)
	ctx := context.Background()
	before, err := Digester{}.PathsTree(ctx, []string{filepath.Join(dir, "lib"), filepath.Join(dir, "a.txt")}, []string{"lib", "a.txt"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "lib", "c.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	after, err := Digester{}.PathsTree(ctx, []string{filepath.Join(dir, "lib"), filepath.Join(dir, "a.txt")}, []string{"lib", "a.txt"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := changedSince(t, after.Listing, before.Listing.Summary(4096))
	if want := []string{"a.txt", "lib/c.go"}; !slices.Equal(names, want) {
		t.Errorf("changed = %v, want %v", names, want)
	}
}

func BenchmarkSummaryOf20000Files(b *testing.B) {
	l := syntheticListing(20000, 20)
	for b.Loop() {
		l.Summary(23 << 10)
	}
}

func BenchmarkChangedSinceOf20000Files(b *testing.B) {
	l := syntheticListing(20000, 20)
	summary := l.Summary(23 << 10)
	for b.Loop() {
		if _, _, err := l.ChangedSince(summary, 5); err != nil {
			b.Fatal(err)
		}
	}
}

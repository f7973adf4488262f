package buildcontext

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tonistiigi/fsutil"
)

// tree writes files (path -> content; a trailing "*" in the path makes the
// file executable) under dir with file mode perm.
func tree(t testing.TB, dir string, files map[string]string, perm fs.FileMode) {
	t.Helper()
	for name, content := range files {
		mode := perm
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), perm|0o111
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func digest(t *testing.T, dir string) string {
	t.Helper()
	d, err := Digest(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var sample = map[string]string{
	"Dockerfile":         "FROM scratch\n",
	"src/main.go":        "package main\n",
	"src/deep/a/b/c.txt": "c\n",
	"run.sh*":            "#!/bin/sh\n",
	"empty":              "",
}

func TestDigestIsDeterministicAcrossCopies(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	tree(t, a, sample, 0o644)
	// A second checkout: another place, another umask, other timestamps.
	old := syscall.Umask(0o002)
	tree(t, b, sample, 0o664)
	syscall.Umask(old)
	past := time.Now().Add(-48 * time.Hour)
	filepath.WalkDir(b, func(p string, _ fs.DirEntry, _ error) error { return os.Chtimes(p, past, past) })

	if da, db := digest(t, a), digest(t, b); da != db {
		t.Fatalf("same tree, different digests: %s vs %s", da, db)
	}
	if !strings.HasPrefix(digest(t, a), "sha256:") || len(digest(t, a)) != len("sha256:")+64 {
		t.Errorf("digest %q is not sha256:<64 hex>", digest(t, a))
	}
}

func TestDigestChangesWithContentPathsAndExecBit(t *testing.T) {
	base := t.TempDir()
	tree(t, base, sample, 0o644)
	want := digest(t, base)

	for name, change := range map[string]func(dir string){
		"content":   func(dir string) { os.WriteFile(filepath.Join(dir, "src/main.go"), []byte("package other\n"), 0o644) },
		"new file":  func(dir string) { os.WriteFile(filepath.Join(dir, "new.txt"), nil, 0o644) },
		"rename":    func(dir string) { os.Rename(filepath.Join(dir, "empty"), filepath.Join(dir, "empty2")) },
		"exec bit":  func(dir string) { os.Chmod(filepath.Join(dir, "run.sh"), 0o644) },
		"empty dir": func(dir string) { os.Mkdir(filepath.Join(dir, "newdir"), 0o755) },
		"symlink":   func(dir string) { os.Symlink("src/main.go", filepath.Join(dir, "link")) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tree(t, dir, sample, 0o644)
			change(dir)
			if digest(t, dir) == want {
				t.Errorf("%s did not change the digest", name)
			}
		})
	}
}

// The expectations follow `docker build`'s .dockerignore rules: Go filepath
// patterns from the context root, "**" for any depth, "!" to re-include,
// the last matching line wins, and a leading "/" means the root.
func TestFSHonoursDockerignoreLikeTheDockerCLI(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{
		"Dockerfile":          "FROM scratch\n",
		"app.log":             "",
		"keep.log":            "",
		"node_modules/x/y.js": "",
		"src/tmp/cache.bin":   "",
		"src/main.go":         "",
		"docs/readme.md":      "",
		"docs/internal/x.md":  "",
		"secret.env":          "",
		"nested/secret.env":   "",
		".git/HEAD":           "",
	}, 0o644)
	tree(t, dir, map[string]string{IgnoreFile: strings.Join([]string{
		"# comment",
		"*.log",
		"!keep.log",
		"node_modules",
		"**/tmp",
		"/docs/internal",
		"secret.env",
		".git",
	}, "\n")}, 0o644)

	got := listFS(t, dir)
	want := []string{
		".dockerignore", "Dockerfile", "docs", "docs/readme.md", "keep.log",
		"nested", "nested/secret.env", "src", "src/main.go",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("context holds\n  %v\nwant\n  %v", got, want)
	}

	before := digest(t, dir)
	os.WriteFile(filepath.Join(dir, "app.log"), []byte("more log"), 0o644)
	os.WriteFile(filepath.Join(dir, "src/tmp/new.bin"), []byte("x"), 0o644)
	if digest(t, dir) != before {
		t.Error("editing ignored files changed the digest")
	}
}

func listFS(t *testing.T, dir string) []string {
	t.Helper()
	paths := walkFS(t, dir)
	sort.Strings(paths)
	return paths
}

// walkFS lists FS(dir) in the order of one walk of the whole tree.
func walkFS(t *testing.T, dir string) []string {
	t.Helper()
	fsys, err := FS(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	err = fsys.Walk(context.Background(), "", func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, filepath.ToSlash(p))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestFSNamesBadIgnorePattern(t *testing.T) {
	dir := t.TempDir()
	// filepath.Match takes `0\1`; the regexp patternmatcher makes of it does not.
	tree(t, dir, map[string]string{IgnoreFile: "src\n0\\1\n"}, 0o644)
	_, err := FS(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, IgnoreFile)+`: pattern "0\\1"`) {
		t.Errorf("FS = %v; want an error naming the file and the pattern", err)
	}
}

func TestDigestPaths(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"go.sum": "a\n", "cmd/main.go": "package main\n"}, 0o644)
	paths := []string{filepath.Join(dir, "go.sum"), filepath.Join(dir, "cmd")}
	first, err := DigestPaths(context.Background(), paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cmd/main.go"), []byte("package main // changed\n"), 0o644)
	second, _ := DigestPaths(context.Background(), paths, nil)
	if first == second {
		t.Error("a change inside a dep directory did not change the digest")
	}
	if _, err := DigestPaths(context.Background(), []string{filepath.Join(dir, "missing")}, nil); err == nil {
		t.Error("a missing dep: want an error")
	}
}

func TestDigestOfMissingDirectory(t *testing.T) {
	if _, err := Digest(context.Background(), filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("want an error")
	}
}

// FuzzIgnorePatterns checks, for any .dockerignore, that a context it cannot
// filter is refused, before any walk, with an error naming it, and that the
// context holds only files of the tree, all of them when the file has no
// patterns.
func FuzzIgnorePatterns(f *testing.F) {
	for _, seed := range []string{
		"*.log\n!keep.log\n", "# comment\n\n", "\xef\xbb\xbf*.log", "src\n!src/main.go", "**/tmp", "/src/tmp", "/", "!",
		"[", "a\\", "![", "*", "**", "!*", "..", "../x", "./src", " src ", "src/**/*.bin\r\n", "#!x\n!#x",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	files := map[string]string{"Dockerfile": "FROM scratch\n", "app.log": "", "src/main.go": "", "src/tmp/x.bin": ""}
	tree(f, dir, files, 0o644)
	all := []string{IgnoreFile, "Dockerfile", "app.log", "src", "src/main.go", "src/tmp", "src/tmp/x.bin"}
	ignoreFile := filepath.Join(dir, IgnoreFile)
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(ignoreFile, content, 0o644); err != nil {
			t.Fatal(err)
		}
		patterns, err := IgnorePatterns(dir)
		if err != nil {
			checkNamesIgnoreFile(t, content, err, ignoreFile)
			return
		}
		fsys, err := FS(dir)
		if err != nil {
			checkNamesIgnoreFile(t, content, err, ignoreFile)
			return
		}
		paths, err := walkPaths(fsys)
		if err != nil {
			t.Fatalf("%q: FS accepted it, but the walk failed: %v", content, err)
		}
		if extra := slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return slices.Contains(all, p) }); len(extra) > 0 {
			t.Errorf("%q: the context holds %q, which are not in the tree", content, extra)
		}
		if len(patterns) == 0 && !slices.Equal(paths, all) {
			t.Errorf("%q has no patterns, yet the context holds %q, not %q", content, paths, all)
		}
	})
}

func checkNamesIgnoreFile(t *testing.T, content []byte, err error, ignoreFile string) {
	t.Helper()
	if !strings.Contains(err.Error(), ignoreFile) {
		t.Errorf("%q: error does not name %s: %v", content, ignoreFile, err)
	}
}

// walkPaths lists the paths in fsys, sorted.
func walkPaths(fsys fsutil.FS) ([]string, error) {
	var paths []string
	err := fsys.Walk(context.Background(), "", func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, filepath.ToSlash(p))
		return err
	})
	sort.Strings(paths)
	return paths, err
}

// The digest walks each top-level entry on its own; it must visit what one
// walk of the whole tree visits, in the same order, whatever .dockerignore
// says.
func TestSplitWalkVisitsWhatOneWalkVisits(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{
		"a.txt": "", "a/b": "", "a-b/c": "", "docs/readme.md": "", "docs/internal/x.md": "",
		"node_modules/x/y.js": "", "node_modules/keep/k.js": "", "src/tmp/c.bin": "", "src/main.go": "",
		"z.log": "", "keep.log": "", "run.sh*": "",
	}, 0o644)
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, ignore := range []string{
		"",
		"*.log\n!keep.log\n**/tmp\n/docs/internal\n",
		"node_modules\n!node_modules/keep\ndocs\n!docs/readme.md\n",
		"*\n!src\n!a-b/c\n",
	} {
		tree(t, dir, map[string]string{IgnoreFile: ignore}, 0o644)
		want := walkFS(t, dir)
		entries, err := Digester{}.entries(context.Background(), dir, walkSource{open: func() (fsutil.FS, error) { return FS(dir) }, splitDepth: splitDepthOf(ignore != ""), skip: contextSkip})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.path)
		}
		if !slices.Equal(got, want) {
			t.Errorf(".dockerignore %q:\n got %q\nwant %q", ignore, got, want)
		}
	}
}

// TestSplitWalkIsTheWholeWalk: a tree without ignore rules is walked in
// parts two levels down (splitWalk), by the walk of our own on Linux
// (walkPlainUnit); concatenated, the parts must be the single walk fsutil
// makes for BuildKit, entry for entry, at any depth and with either walk.
func TestSplitWalkIsTheWholeWalk(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{
		"Dockerfile": "FROM scratch\n", "a.txt": "a", "a/b": "b", "a-b/c": "c", "a/x/y/z/deep.txt": "deep",
		"src/d1/s1/f1": "1", "src/d1/s1/f2*": "2", "src/d1/s2/f3": "3", "src/d2/f4": "4", "src/d10/f5": "5",
		"src/z.go": "z",
		// Terraform's, left out at every depth by either walk.
		"terraform.tfstate": "{}", ".terraform/providers/p": "p", "src/d1/.terraform/m": "m", "src/d1/s1/crash.log": "c",
		"src/terraform.tfstate.d/dev/terraform.tfstate": "{}",
	}, 0o644)
	for _, d := range []string{"empty", "src/d1/empty", "src/d3/s1"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"src/tolink": "d1", "src/d2/file-link": "f4", "dangling": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "src/d1/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func() (fsutil.FS, error) { return FS(dir) }
	want, err := Digester{}.entries(context.Background(), dir, walkSource{open: open, skip: contextSkip})
	if err != nil {
		t.Fatal(err)
	}
	if paths := walkFS(t, dir); len(paths) != len(want) {
		t.Fatalf("the unsplit walk has %d entries, fsutil's %d", len(want), len(paths))
	}
	for _, plain := range []bool{false, true} {
		for _, depth := range []int{0, 1, unfilteredSplitDepth, 3, 10} {
			got, err := Digester{}.entries(context.Background(), dir, walkSource{open: open, splitDepth: depth, plain: plain, skip: contextSkip})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b *entry) bool {
				return a.path == b.path && a.kind == b.kind && a.link == b.link && a.value() == b.value()
			}) {
				t.Errorf("plain %v, depth %d:\n got %v\nwant %v", plain, depth, describe(got), describe(want))
			}
		}
	}
}

// The hash cache that one walk writes serves the other: both take the same
// stat of a file (statOf, fileStatOfUnix).
func TestWalksShareTheHashCache(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, sample, 0o644)
	later := func() time.Time { return time.Now().Add(time.Hour) }
	open := func() (fsutil.FS, error) { return FS(dir) }
	for _, order := range [][]bool{{true, false}, {false, true}} {
		d := Digester{CacheDir: t.TempDir(), now: later}
		for i, plain := range order {
			entries, err := d.entries(context.Background(), dir, walkSource{open: open, splitDepth: 1, plain: plain, skip: contextSkip})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.content && e.reused != (i == 1) {
					t.Errorf("walk %d (plain %v): %s reused %v", i, plain, e.path, e.reused)
				}
			}
		}
	}
}

func describe(entries []*entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.path+":"+e.kind+":"+e.link)
	}
	return out
}

package buildcontext

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
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
		entries, err := Digester{}.entries(context.Background(), dir, walkSource{open: func() (fsutil.FS, error) { return FS(dir) }, splitDepth: splitDepthOf(ignore != "", false), skip: contextSkip})
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

// TestSplitWalkIsTheWholeWalk: a tree is walked in parts two levels down
// (splitWalk), by the walk of our own on Linux (plainUnitWalker), which
// applies the ignore rules itself; concatenated, the parts must be the
// single walk fsutil makes for BuildKit, entry for entry, at any depth and,
// without ignore rules, with either walk. The ignore files hold rules of
// each kind: at any depth, of a directory, "!" re-includes below an
// excluded directory (also where the split divides the tree) and with
// wildcards, rules on the ignore file and on Terraform's names.
func TestSplitWalkIsTheWholeWalk(t *testing.T) {
	dir := splitWalkTree(t)
	for _, ignore := range []string{
		"",
		"**/*.log\nbuild/\n!build/keep/\n",
		"src\n!src/d1/s1\n",
		"src/d1\n!src/d1/s1/f2\n*.txt\n!a.txt\n",
		"*\n!src/d2\n",
		"**/s1\n!**/s1/f1\n",
		"/src/d1/s*\nsrc/d1[0-9]\n",
		"src/**\n!src/d1/**/f3\n",
		"Dockerfile\n.dockerignore\n",
		"src/d1/s1\n!src/d1/s1\n",
		"[s]rc/d?\n!src/d1\n",
		"!.terraform\n!**/crash.log\n",
		"src/tolink\ndangling\nsrc/d2/file-link\n",
		"build\n!build/keep/*.log\n",
		"a\n!a/x/y\n",
		// Only the parents' results exclude a/x/y: matched against its
		// parents' paths instead, "!a" would re-include it.
		"a/x\n!a\n",
	} {
		tree(t, dir, map[string]string{IgnoreFile: ignore}, 0o644)
		checkWalksAgree(t, dir, "", fmt.Sprintf(".dockerignore %q", ignore))
	}
}

// splitWalkTree writes a tree with entries of each kind at several depths.
func splitWalkTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tree(t, dir, map[string]string{
		"Dockerfile": "FROM scratch\n", "a.txt": "a", "a/b": "b", "a-b/c": "c", "a/x/y/z/deep.txt": "deep",
		"src/d1/s1/f1": "1", "src/d1/s1/f2*": "2", "src/d1/s2/f3": "3", "src/d2/f4": "4", "src/d10/f5": "5",
		"src/z.go": "z", "src/d1/s1/x.log": "log", "app.log": "log",
		"build/out.bin": "o", "build/x.log": "l", "build/keep/k.txt": "k", "build/keep/k.log": "kl", "build/other/o/o.txt": "o",
		// Terraform's, left out at every depth by either walk.
		"terraform.tfstate": "{}", ".terraform/providers/p": "p", "src/d1/.terraform/m": "m", "src/d1/s1/crash.log": "c",
		"src/terraform.tfstate.d/dev/terraform.tfstate": "{}",
	}, 0o644)
	for _, d := range []string{"empty", "src/d1/empty", "src/d3/s1", "build/keep/empty"} {
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
	return dir
}

// checkWalksAgree compares the walks of the context in dir with ignoreFile
// (see FSWithIgnoreFile) with fsutil's single walk, which must send what
// the FS sends; it returns the number of entries.
func checkWalksAgree(t *testing.T, dir, ignoreFile, what string) int {
	t.Helper()
	patterns, err := contextPatterns(dir, ignoreFile)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	open := func() (fsutil.FS, error) { return FSWithIgnoreFile(dir, ignoreFile) }
	want, err := Digester{}.entries(context.Background(), dir, walkSource{open: open, skip: contextSkip})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	fsys, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if paths, err := walkPaths(fsys); err != nil || len(paths) != len(want) {
		t.Fatalf("%s: the unsplit walk has %d entries, fsutil's %d (%v)", what, len(want), len(paths), err)
	}
	for _, plain := range []bool{false, true} {
		for _, depth := range []int{0, 1, unfilteredSplitDepth, 3, 10} {
			if !plain && len(patterns) > 0 && depth > splitDepthOf(true, false) {
				continue // fsutil's walk does not divide a filtered tree
			}
			got, err := Digester{}.entries(context.Background(), dir, walkSource{open: open, patterns: patterns, splitDepth: depth, plain: plain, skip: contextSkip})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !slices.EqualFunc(got, want, sameEntry) {
				t.Errorf("%s, plain %v, depth %d:\n got %v\nwant %v", what, plain, depth, describe(got), describe(want))
			}
		}
	}
	return len(want)
}

func sameEntry(a, b *entry) bool {
	return a.path == b.path && a.kind == b.kind && a.link == b.link && a.value() == b.value()
}

// The ignore file beside a Dockerfile replaces the context's .dockerignore
// in the walk of our own as in fsutil's, and the digests agree.
func TestDockerfileIgnoreFileInBothWalks(t *testing.T) {
	dir := splitWalkTree(t)
	tree(t, dir, map[string]string{IgnoreFile: "src\n", "docker/app.Dockerfile": "FROM scratch\n",
		"docker/app.Dockerfile.dockerignore": "build/\n!build/keep\n**/*.log\n"}, 0o644)
	ignoreFile := DockerfileIgnoreFile(filepath.Join(dir, "docker/app.Dockerfile"))
	if ignoreFile == "" {
		t.Fatal("DockerfileIgnoreFile found no ignore file")
	}
	checkWalksAgree(t, dir, ignoreFile, ignoreFile)
	ours, err := Digester{}.DigestWithIgnoreFile(context.Background(), dir, ignoreFile)
	if err != nil {
		t.Fatal(err)
	}
	open := func() (fsutil.FS, error) { return FSWithIgnoreFile(dir, ignoreFile) }
	fsutils, err := Digester{}.digestFS(context.Background(), dir, walkSource{open: open, skip: contextSkip})
	if err != nil {
		t.Fatal(err)
	}
	if ours != fsutils.Digest {
		t.Errorf("digest %s, with fsutil's walk %s", ours, fsutils.Digest)
	}
}

// FuzzFilteredWalkIsFsutils: on a tree that the seed generates, with the
// fuzzed .dockerignore, the walk of our own, whole or split at any depth,
// sends what fsutil's walk sends for BuildKit, in its order.
func FuzzFilteredWalkIsFsutils(f *testing.F) {
	for i, seed := range []string{
		"**/*.log\nbuild/\n!build/keep/\n", "a\n!a/b\n", "*\n!keep\n", "**/b\n!**/b/x.log", "build/**\n!build/*/keep",
		"a/*/c\n!a/b\n", "/a/b\n!a/b/*.log", "[ab]/keep\n!a/keep/b", "**\n!a", "keep\n!keep/keep\nkeep/keep/x.log",
		"a/b/**/x.log\n!a/b/build", "!a\na", "b/\n!b/a/\nb/a/keep/\n!b/a/keep/x.log", "a/b\n!a\n",
	} {
		f.Add(uint64(i), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, treeSeed uint64, ignore []byte) {
		dir := t.TempDir()
		fuzzTree(t, dir, treeSeed)
		if err := os.WriteFile(filepath.Join(dir, IgnoreFile), ignore, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := contextPatterns(dir, ""); err != nil {
			return // refused before any walk: FuzzIgnorePatterns
		}
		checkWalksAgree(t, dir, "", fmt.Sprintf("tree %d, .dockerignore %q", treeSeed, ignore))
	})
}

// fuzzTree writes a tree that seed determines: up to 16 entries, files,
// executables, directories and symlinks, up to four levels down, named from
// a few names that ignore rules of the seeds name.
func fuzzTree(t *testing.T, dir string, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	names := []string{"a", "b", "build", "keep", "x.log", "c.txt"}
	for range 1 + rng.IntN(16) {
		parts := make([]string, 1+rng.IntN(4))
		for i := range parts {
			parts[i] = names[rng.IntN(len(names))]
		}
		p := filepath.Join(dir, filepath.Join(parts...))
		// An entry whose parent is no directory is not made.
		if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
			continue
		}
		switch kind := rng.IntN(10); {
		case kind < 6:
			os.WriteFile(p, []byte(p), os.FileMode(0o644|0o111*(kind%2)))
		case kind < 8:
			os.Mkdir(p, 0o755)
		default:
			os.Symlink(names[rng.IntN(len(names))], p)
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

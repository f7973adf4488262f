package buildcontext

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tonistiigi/fsutil"
)

// settled is a Digester whose clock runs an hour ahead, as if every file
// had been written long before: the racy rule then trusts every entry, and
// the stat alone decides.
func settled(t *testing.T) Digester {
	t.Helper()
	return Digester{CacheDir: t.TempDir(), now: func() time.Time { return time.Now().Add(time.Hour) }}
}

func digestWith(t *testing.T, d Digester, dir string) string {
	t.Helper()
	got, err := d.Digest(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// filesRead digests dir with d and counts the files it had to read.
func filesRead(t *testing.T, d Digester, dir string) int {
	t.Helper()
	entries, err := d.entries(context.Background(), dir, walkSource{open: func() (fsutil.FS, error) { return FS(dir) }, splitDepth: unfilteredSplitDepth, skip: contextSkip})
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, e := range entries {
		if e.content && !e.reused {
			read++
		}
	}
	return read
}

func cacheFileOf(t *testing.T, d Digester, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cacheFileName(d.CacheDir, abs)
}

func sampleTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tree(t, dir, sample, 0o644)
	return dir
}

// The value of the digest must never change with the code: a new one would
// rebuild every image after an upgrade.
func TestDigestValueIsStable(t *testing.T) {
	dir := sampleTree(t)
	if err := os.Symlink("src/main.go", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	const want = "sha256:9c509f7c195850b20e2ae3aaa7755b24b0d5cd8b804975c8b76ec9980d5b5b51"
	for name, d := range map[string]Digester{"no cache": {}, "cache": settled(t)} {
		for _, round := range []string{"cold", "warm"} {
			if got := digestWith(t, d, dir); got != want {
				t.Errorf("%s, %s: digest %s, want %s", name, round, got, want)
			}
		}
	}
}

func TestWarmCacheReadsNothingAndWritesNothing(t *testing.T) {
	dir, d := sampleTree(t), settled(t)
	want := digest(t, dir)
	if n := filesRead(t, d, dir); n != len(sample) {
		t.Errorf("cold cache: read %d files, want %d", n, len(sample))
	}
	before, err := os.Stat(cacheFileOf(t, d, dir))
	if err != nil {
		t.Fatalf("no cache file written: %v", err)
	}
	if n := filesRead(t, d, dir); n != 0 {
		t.Errorf("warm cache: read %d files, want 0", n)
	}
	if got := digestWith(t, d, dir); got != want {
		t.Errorf("warm cache: digest %s, want %s", got, want)
	}
	after, err := os.Stat(cacheFileOf(t, d, dir))
	if err != nil || !os.SameFile(before, after) {
		t.Error("an unchanged tree rewrote the cache")
	}
}

// An edit of the same size whose mtime is put back, as some tools do, is
// caught by the inode change time.
func TestCacheSeesAnEditWithItsMtimeRestored(t *testing.T) {
	dir, d := sampleTree(t), settled(t)
	digestWith(t, d, dir)
	file := filepath.Join(dir, "src/main.go")
	old, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	oldStat, _ := statOf(old)
	// Repeat the edit until the change time moves: it is coarse on some
	// file systems.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := os.WriteFile(file, []byte("package xxxx\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, old.ModTime(), old.ModTime()); err != nil {
			t.Fatal(err)
		}
		now, _ := os.Stat(file)
		if newStat, _ := statOf(now); newStat.ctime != oldStat.ctime || time.Now().After(deadline) {
			break
		}
	}
	if got, want := digestWith(t, d, dir), digest(t, dir); got != want {
		t.Errorf("after the edit: cached digest %s, want %s", got, want)
	}
}

// A file that changed just before the cache was written may change again
// without any change to its stat (timestamps are coarse); its hash is not
// trusted until it has settled. The test stands in for such an edit by
// changing the cached hash and keeping the stat.
func TestCacheDistrustsFilesThatChangedJustBeforeIt(t *testing.T) {
	dir := sampleTree(t)
	d := Digester{CacheDir: t.TempDir()}
	want := digest(t, dir)
	digestWith(t, d, dir)
	file, abs := cacheFileOf(t, d, dir), filepath.Clean(dir)
	c := loadHashCache(file, abs)
	if c == nil {
		t.Fatal("no cache written")
	}
	i, ok := c.find("src/main.go")
	if !ok {
		t.Fatal("src/main.go is not in the cache")
	}
	c.files[i].sum = sha256.Sum256([]byte("what the file held when it was hashed"))
	if err := c.save(file); err != nil {
		t.Fatal(err)
	}

	if got := digestWith(t, d, dir); got != want {
		t.Errorf("racy entry trusted: digest %s, want %s", got, want)
	}
	if n := filesRead(t, d, dir); n != len(sample) {
		t.Errorf("read %d files of a tree just written, want all %d", n, len(sample))
	}

	// The same entry, once settled, is trusted: the rule above is what
	// kept the stale hash out.
	c.started = time.Now().Add(time.Hour).UnixNano()
	if err := c.save(file); err != nil {
		t.Fatal(err)
	}
	if got := digestWith(t, d, dir); got == want {
		t.Error("a settled entry was not used")
	}
}

func TestCacheSeesAnEditJustAfterADigest(t *testing.T) {
	dir := sampleTree(t)
	d := Digester{CacheDir: t.TempDir()}
	before := digestWith(t, d, dir)
	if err := os.WriteFile(filepath.Join(dir, "src/main.go"), []byte("package xxxx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := digestWith(t, d, dir); got == before || got != digest(t, dir) {
		t.Errorf("edit not seen: digest %s, before %s", got, before)
	}
}

func TestCacheFollowsAddedAndDeletedFiles(t *testing.T) {
	dir, d := sampleTree(t), settled(t)
	first := digestWith(t, d, dir)
	if err := os.WriteFile(filepath.Join(dir, "src/added.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	added := digestWith(t, d, dir)
	if added == first || added != digest(t, dir) {
		t.Errorf("added file: digest %s (before %s, want %s)", added, first, digest(t, dir))
	}
	if err := os.Remove(filepath.Join(dir, "src/main.go")); err != nil {
		t.Fatal(err)
	}
	deleted := digestWith(t, d, dir)
	if deleted == added || deleted != digest(t, dir) {
		t.Errorf("deleted file: digest %s (before %s, want %s)", deleted, added, digest(t, dir))
	}
}

func TestBadCacheFilesAreIgnoredAndReplaced(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"empty":         func([]byte) []byte { return nil },
		"truncated":     func(b []byte) []byte { return b[:len(b)/2] },
		"flipped byte":  func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"other version": func(b []byte) []byte { b[len(cacheMagic)-1]++; return appendChecksum(b[:len(b)-4]) },
		"garbage":       func(b []byte) []byte { return bytes.Repeat([]byte{0xff}, len(b)) },
	} {
		t.Run(name, func(t *testing.T) {
			dir, d := sampleTree(t), settled(t)
			want := digestWith(t, d, dir)
			file := cacheFileOf(t, d, dir)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if n := filesRead(t, d, dir); n != len(sample) {
				t.Errorf("read %d files with a bad cache, want all %d", n, len(sample))
			}
			if got := digestWith(t, d, dir); got != want {
				t.Errorf("digest %s, want %s", got, want)
			}
			if loadHashCache(file, filepath.Clean(dir)) == nil {
				t.Error("the bad cache was not replaced")
			}
		})
	}
}

func TestUnusableCacheDirStillDigests(t *testing.T) {
	dir := sampleTree(t)
	want := digest(t, dir)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory where the cache file should be: it can be neither read
	// nor replaced (even by root, unlike a read-only directory).
	blocked := settled(t)
	if err := os.MkdirAll(cacheFileOf(t, blocked, dir), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]Digester{
		"cache dir under a file": {CacheDir: filepath.Join(notADir, "cache")},
		"cache file is a dir":    blocked,
	} {
		for range 2 {
			if got := digestWith(t, d, dir); got != want {
				t.Errorf("%s: digest %s, want %s", name, got, want)
			}
		}
	}
}

func TestConcurrentDigestsShareACache(t *testing.T) {
	dir, d := sampleTree(t), settled(t)
	changed := sampleTree(t)
	if err := os.WriteFile(filepath.Join(changed, "new.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before, after := digest(t, dir), digest(t, changed)
	var wg sync.WaitGroup
	for worker := range 4 {
		wg.Go(func() {
			for round := range 10 {
				if worker == 0 && round == 5 {
					// A change half-way makes the others rewrite the cache too.
					os.WriteFile(filepath.Join(dir, "new.txt"), nil, 0o644)
				}
				got, err := d.Digest(context.Background(), dir)
				if err != nil {
					t.Error(err)
					return
				}
				if got != before && got != after {
					t.Errorf("worker %d round %d: digest %s", worker, round, got)
				}
			}
		})
	}
	wg.Wait()
	if got := digestWith(t, d, dir); got != after {
		t.Errorf("after the race: digest %s, want %s", got, after)
	}
}

func TestDigestPathsWithCache(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"go.sum": "a\n", "cmd/main.go": "package main\n"}, 0o644)
	paths := []string{filepath.Join(dir, "go.sum"), filepath.Join(dir, "cmd")}
	d := settled(t)
	ctx := context.Background()
	for _, edit := range []string{"", "go.sum", "cmd/main.go"} {
		if edit != "" {
			if err := os.WriteFile(filepath.Join(dir, edit), []byte("changed\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := DigestPaths(ctx, paths, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, round := range []string{"cold", "warm"} {
			if got, err := d.DigestPaths(ctx, paths, nil); err != nil || got != want {
				t.Errorf("after editing %q, %s: %s, %v; want %s", edit, round, got, err, want)
			}
		}
	}
}

func TestCacheFileRoundTrip(t *testing.T) {
	c := cacheOf("/ctx", 1_700_000_000_123_456_789, map[string]cachedHash{
		"":        {stat: fileStat{size: 1, mtime: -5, ctime: 7, inode: 1 << 40, device: 3, mode: 0o100644}},
		"a/b":     {stat: fileStat{size: 1 << 33}, sum: sha256.Sum256([]byte("b"))},
		"a/b/c":   {sum: sha256.Sum256([]byte("c"))},
		"a/bee":   {},
		"zz/z.go": {stat: fileStat{mtime: 1 << 62}},
	})
	data := c.encode()
	got, err := decodeHashCache(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("decoded %+v, want %+v", got, c)
	}
	for n := range len(data) {
		if _, err := decodeHashCache(data[:n]); err == nil {
			t.Errorf("a cache cut to %d bytes was accepted", n)
		}
	}
}

// Damage behind a correct checksum must fail to decode, not panic.
func TestDecodingGarbageWithAValidChecksumFails(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	valid := cacheOf("/r", 0, map[string]cachedHash{"a": {}, "b": {}}).encode()
	body := valid[len(cacheMagic) : len(valid)-4]
	for range 2000 {
		damaged := append([]byte(nil), body...)
		for range 1 + rng.IntN(4) {
			damaged[rng.IntN(len(damaged))] = byte(rng.Uint32())
		}
		decodeHashCache(appendChecksum(append([]byte(cacheMagic), damaged...))) // must return, whatever it says
	}
}

// A cache whose paths are out of order would make lookups miss: it is not
// believed.
func TestDecodingUnsortedPathsFails(t *testing.T) {
	c := cacheOf("/r", 0, map[string]cachedHash{"a": {}, "b": {}})
	c.files[0].path, c.files[1].path = c.files[1].path, c.files[0].path
	if _, err := decodeHashCache(c.encode()); err == nil {
		t.Error("a cache with its paths out of order was accepted")
	}
}

func TestLookupFindsEveryCachedPath(t *testing.T) {
	c := cacheOf("/r", 100*racyMargin.Nanoseconds(), map[string]cachedHash{
		"a": {sum: [32]byte{1}}, "a/b": {sum: [32]byte{2}}, "a-b": {sum: [32]byte{3}}, "b": {sum: [32]byte{4}},
	})
	for _, f := range c.files {
		if sum, ok := c.lookup(f.path, f.stat); !ok || sum != f.sum {
			t.Errorf("lookup(%q) = %x, %v; want %x", f.path, sum, ok, f.sum)
		}
	}
	if _, ok := c.lookup("a/c", fileStat{}); ok {
		t.Error("lookup found a path that is not cached")
	}
}

// cacheOf is the cache of root holding hashes.
func cacheOf(root string, started int64, hashes map[string]cachedHash) *hashCache {
	var files []cachedFile
	for path, h := range hashes {
		files = append(files, cachedFile{path: path, cachedHash: h})
	}
	return newHashCache(root, started, files)
}

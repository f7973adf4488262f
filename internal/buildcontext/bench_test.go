package buildcontext

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchTree is the shape of a generated context.
type benchTree struct {
	files int
	bytes int64
}

func (t benchTree) String() string {
	return fmt.Sprintf("%dfiles-%dMiB", t.files, t.bytes>>20)
}

var (
	defaultBenchTree = benchTree{files: 2_000, bytes: 40 << 20}
	// largeBenchTree is the size of the performance target: a no-change plan
	// over it must stay well under a second.
	largeBenchTree = benchTree{files: 20_000, bytes: 400 << 20}
)

// benchTrees are the trees the benchmarks digest; the large one only with
// IMAGEBUILD_BENCH_LARGE=1, as it writes 400 MiB.
func benchTrees() []benchTree {
	if os.Getenv("IMAGEBUILD_BENCH_LARGE") == "1" {
		return []benchTree{defaultBenchTree, largeBenchTree}
	}
	return []benchTree{defaultBenchTree}
}

// writeTree writes a context of spec's shape under dir, the same on every
// run: 50 files a directory, two levels deep, sizes spread around the mean,
// every tenth file executable, a few symlinks and a .dockerignore that
// leaves out one directory. It returns the bytes of the files it keeps.
func writeTree(tb testing.TB, dir string, spec benchTree) int64 {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	content := rand.NewChaCha8([32]byte{1})
	mean := spec.bytes / int64(spec.files)
	buf := make([]byte, 2*mean)
	var kept int64
	for i := range spec.files {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i/1000), fmt.Sprintf("s%02d", i/50%20))
		if i%50 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		size := mean/2 + rng.Int64N(mean)
		content.Read(buf[:size])
		mode := os.FileMode(0o644)
		if i%10 == 0 {
			mode = 0o755
		}
		name := filepath.Join(sub, fmt.Sprintf("f%05d.bin", i))
		if err := os.WriteFile(name, buf[:size], mode); err != nil {
			tb.Fatal(err)
		}
		if i%500 == 0 {
			if err := os.Symlink(filepath.Base(name), name+".link"); err != nil {
				tb.Fatal(err)
			}
		}
		if !ignoredInBenchTree(i) {
			kept += size
		}
	}
	if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("d00/s19\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return kept
}

func ignoredInBenchTree(i int) bool { return i/1000 == 0 && i/50%20 == 19 }

// BenchmarkDigest digests each tree without a cache, with an empty cache
// (hash everything, write the cache) and with a warm one (a no-change plan).
func BenchmarkDigest(b *testing.B) {
	for _, spec := range benchTrees() {
		b.Run(spec.String(), func(b *testing.B) {
			dir := b.TempDir()
			size := writeTree(b, dir, spec)
			// Let the files settle, or the warm cache would not trust them.
			time.Sleep(racyMargin + 100*time.Millisecond)
			b.Run("cache=none", func(b *testing.B) {
				benchDigests(b, size, func(int) Digester { return Digester{} }, dir)
			})
			benchColdAndWarm(b, size, dir)
		})
	}
}

// benchDigests digests dir with the i-th Digester of digester, and reports
// the process's CPU time an op besides the wall time: on a shared machine
// the CPU time is the steadier figure.
func benchDigests(b *testing.B, size int64, digester func(i int) Digester, dir string) {
	b.SetBytes(size)
	ctx := context.Background()
	cpuBefore := processCPUTime()
	for i := 0; b.Loop(); i++ {
		if _, err := digester(i).Digest(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPUTime()-cpuBefore)/float64(b.N), "cpu-ns/op")
}

// BenchmarkHashCacheDecode reads the cache of a 20,000-file context, which
// every warm digest of it does first.
func BenchmarkHashCacheDecode(b *testing.B) {
	data := syntheticCache().encode()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeHashCache(data); err != nil {
			b.Fatal(err)
		}
	}
}

// syntheticCache is the cache of a tree of largeBenchTree's shape.
func syntheticCache() *hashCache {
	hashes := map[string]cachedHash{}
	for i := range largeBenchTree.files {
		path := fmt.Sprintf("d%02d/s%02d/f%05d.bin", i/1000, i/50%20, i)
		now := time.Now().UnixNano()
		hashes[path] = cachedHash{
			stat: fileStat{size: 20_000 + int64(i), mtime: now, ctime: now, inode: 1_000_000 + uint64(i), device: 2049, mode: 0o100644},
			sum:  sha256.Sum256([]byte(path)),
		}
	}
	return cacheOf("/ctx", time.Now().UnixNano(), hashes)
}

// BenchmarkDigestIgnore digests the large tree with a realistic
// .dockerignore (issue 26) with an empty cache (a plan on a fresh CI runner)
// and a warm one (a no-change plan): one file in ten is a .log that
// "**/*.log" leaves out, "d19/" is left out but for "d19/s00/", which
// "!d19/s00/" re-includes.
func BenchmarkDigestIgnore(b *testing.B) {
	dir := b.TempDir()
	writeTree(b, dir, largeBenchTree)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "7.bin") {
			err = os.Rename(p, strings.TrimSuffix(p, ".bin")+".log")
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("**/*.log\nd19/\n!d19/s00/\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	time.Sleep(racyMargin + 100*time.Millisecond)
	benchColdAndWarm(b, 0, dir)
}

// benchColdAndWarm digests dir, whose files hold size bytes (0: not
// reported), with an empty cache and with a warm one.
func benchColdAndWarm(b *testing.B, size int64, dir string) {
	b.Run("cache=cold", func(b *testing.B) {
		cacheRoot := b.TempDir()
		benchDigests(b, size, func(i int) Digester {
			return Digester{CacheDir: filepath.Join(cacheRoot, strconv.Itoa(i))}
		}, dir)
	})
	b.Run("cache=warm", func(b *testing.B) {
		warm := Digester{CacheDir: b.TempDir()}
		if _, err := warm.Digest(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
		benchDigests(b, size, func(int) Digester { return warm }, dir)
	})
}

// BenchmarkDigestDir digests the tree at $IMAGEBUILD_BENCH_DIR (e.g. a
// context that `make bench` generated) cold and warm, as BenchmarkDigestIgnore
// does; skipped when it is not set.
func BenchmarkDigestDir(b *testing.B) {
	dir := os.Getenv("IMAGEBUILD_BENCH_DIR")
	if dir == "" {
		b.Skip("IMAGEBUILD_BENCH_DIR is not set")
	}
	benchColdAndWarm(b, 0, dir)
}

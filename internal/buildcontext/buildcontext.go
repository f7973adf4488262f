// Package buildcontext decides which files make up a build context and
// digests them. The build session and the plan-time digest both take the
// context from FS, so they can never disagree about what .dockerignore keeps.
package buildcontext

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/errgroup"
)

// IgnoreFile is read from the root of a context, as by `docker build`.
const IgnoreFile = ".dockerignore"

// IgnorePatterns returns the patterns of <dir>/.dockerignore; none when the
// file does not exist.
func IgnorePatterns(dir string) ([]string, error) {
	return ignorePatternsOf(filepath.Join(dir, IgnoreFile))
}

// DockerfileIgnoreFile is the ignore file that BuildKit prefers for a build
// with the Dockerfile at dockerfile: <dockerfile>.dockerignore beside it,
// if it exists; "" otherwise (the context's own .dockerignore applies).
func DockerfileIgnoreFile(dockerfile string) string {
	p := dockerfile + IgnoreFile
	if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
		return p
	}
	return ""
}

func ignorePatternsOf(file string) ([]string, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return patterns, nil
}

// FS returns the context in dir as the build sees it: the files that
// .dockerignore does not exclude.
func FS(dir string) (fsutil.FS, error) {
	return FSWithIgnoreFile(dir, "")
}

// FSWithIgnoreFile is FS with the patterns of ignoreFile in place of
// <dir>/.dockerignore; "" means <dir>/.dockerignore.
func FSWithIgnoreFile(dir, ignoreFile string) (fsutil.FS, error) {
	base, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	if ignoreFile == "" {
		ignoreFile = filepath.Join(dir, IgnoreFile)
	}
	patterns, err := ignorePatternsOf(ignoreFile)
	if err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return base, nil
	}
	filtered, err := fsutil.NewFilterFS(base, &fsutil.FilterOpt{ExcludePatterns: patterns})
	if err == nil {
		err = compilePatterns(patterns)
	}
	if err != nil {
		// The only failures are bad patterns; say which file holds them.
		return nil, fmt.Errorf("%s: %w", ignoreFile, err)
	}
	return filtered, nil
}

// compilePatterns compiles each pattern now. patternmatcher compiles them
// when it first matches one, so a pattern that filepath.Match takes but
// the regexp it becomes does not (e.g. `a\1`) would otherwise fail in the
// middle of a walk, with an error that names neither it nor its file.
func compilePatterns(patterns []string) error {
	for _, p := range patterns {
		// As an inclusion: a lone exclusion pattern is never compiled.
		if _, err := patternmatcher.MatchesOrParentMatches("x", []string{strings.TrimLeft(p, "!")}); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return nil
}

// Digest digests the context in dir without a cache; see Digester.Digest.
func Digest(ctx context.Context, dir string) (string, error) {
	return Digester{}.Digest(ctx, dir)
}

// DigestPaths digests paths without a cache; see Digester.DigestPaths.
func DigestPaths(ctx context.Context, paths []string) (string, error) {
	return Digester{}.DigestPaths(ctx, paths)
}

// Digester digests build inputs. Its zero value reads every file each time.
type Digester struct {
	// CacheDir keeps, between processes, the content hash of each file with
	// its stat, so that an unchanged file is not read again; the digest is
	// the same with or without it. Empty means no cache.
	CacheDir string
	// Memo, when set, remembers digests for as long as the caller knows the
	// trees cannot change; nil digests every time.
	Memo *Memo
	// now is the clock of the racy rule; tests move it.
	now func() time.Time
}

// Digest digests the context in dir: every path that FS keeps, its type,
// whether it is executable, and its content or link target. Timestamps,
// owners and the other permission bits are left out, as git leaves them out,
// so that two checkouts of the same tree digest the same on any machine.
func (d Digester) Digest(ctx context.Context, dir string) (string, error) {
	return d.DigestWithIgnoreFile(ctx, dir, "")
}

// DigestWithIgnoreFile is Digest with the patterns of ignoreFile in place of
// <dir>/.dockerignore (see FSWithIgnoreFile); "" means <dir>/.dockerignore.
func (d Digester) DigestWithIgnoreFile(ctx context.Context, dir, ignoreFile string) (string, error) {
	return d.memoized(ctx, "context", []string{dir, ignoreFile}, func() (string, error) {
		open := func() (fsutil.FS, error) { return FSWithIgnoreFile(dir, ignoreFile) }
		if _, err := open(); err != nil {
			return "", fmt.Errorf("build context %s: %w", dir, err)
		}
		return d.digestFS(ctx, dir, open)
	})
}

// DigestPaths digests files and directories (all of their contents, no
// ignore file), e.g. the deps of a build command. Only their order and
// contents count, not where they are, so checkouts in other places agree.
func (d Digester) DigestPaths(ctx context.Context, paths []string) (string, error) {
	h := sha256.New()
	for i, p := range paths {
		digest, err := d.digestPath(ctx, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d\x00%s\n", i, digest)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func (d Digester) digestPath(ctx context.Context, p string) (string, error) {
	return d.memoized(ctx, "path", []string{p}, func() (string, error) { return d.digestOnePath(ctx, p) })
}

func (d Digester) digestOnePath(ctx context.Context, p string) (string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		run := d.start(p)
		file := &entry{kind: entryType(info.Mode()), content: true}
		if err := run.hash(file, make([]byte, copyBufferSize)); err != nil {
			return "", err
		}
		run.finish([]*entry{file})
		return file.kind + ":" + file.value(), nil
	}
	if _, err := fsutil.NewFS(p); err != nil {
		return "", err
	}
	return d.digestFS(ctx, p, func() (fsutil.FS, error) { return fsutil.NewFS(p) })
}

func (d Digester) clock() time.Time {
	if d.now == nil {
		return time.Now()
	}
	return d.now()
}

// entry is one walked path; a hashing worker fills in the content hash.
type entry struct {
	path    string
	kind    string
	link    string // a symlink's target
	content bool   // a regular file: sum is the hash of its content
	sum     [sha256.Size]byte
	// stat is what the hash was taken with, if statOK, for the cache;
	// reused says it came from the cache.
	stat   fileStat
	statOK bool
	reused bool
}

func (e *entry) value() string {
	if e.content {
		return hex.EncodeToString(e.sum[:])
	}
	return e.link
}

const copyBufferSize = 256 << 10

// openFS opens the tree again for each walker: an fsutil.FS is not safe for
// concurrent walks, as its ignore patterns compile on first use.
type openFS func() (fsutil.FS, error)

func (d Digester) digestFS(ctx context.Context, root string, open openFS) (string, error) {
	entries, err := d.entries(ctx, root, open)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", e.path, e.kind, e.value())
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// entries walks and hashes the tree of fsys, in lexical order.
func (d Digester) entries(ctx context.Context, root string, open openFS) ([]*entry, error) {
	run := d.start(root)
	entries, err := run.walk(ctx, open)
	if err != nil {
		return nil, err
	}
	run.finish(entries)
	return entries, nil
}

// digestRun is one digest of root: the cache it starts from, if any, and
// the one it leaves for the next.
type digestRun struct {
	root      string
	absRoot   string
	cacheFile string     // empty without a cache
	cache     *hashCache // nil when there was none to trust
	started   time.Time
}

func (d Digester) start(root string) *digestRun {
	run := &digestRun{root: root, started: d.clock()}
	if d.CacheDir == "" || !canCacheHashes {
		return run
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return run
	}
	run.absRoot, run.cacheFile = abs, cacheFileName(d.CacheDir, abs)
	run.cache = loadHashCache(run.cacheFile, abs)
	return run
}

// walk walks the tree once, in lexical order, while workers hash the
// regular files as they are found; each file is read once at most.
func (r *digestRun) walk(ctx context.Context, open openFS) ([]*entry, error) {
	names, err := topLevelNames(r.root)
	if err != nil {
		return nil, err
	}
	subtrees := make([][]*entry, len(names))
	group, ctx := errgroup.WithContext(ctx)
	files := make(chan *entry, 1024)
	for range runtime.GOMAXPROCS(0) {
		group.Go(func() error {
			buf := make([]byte, copyBufferSize)
			for e := range files {
				if err := r.hash(e, buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
	group.Go(func() error {
		defer close(files)
		return walkSubtrees(ctx, open, names, subtrees, files)
	})
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(subtrees...), nil
}

// walkSubtrees walks the subtree of each top-level name on GOMAXPROCS
// walkers, the next name to whichever is free: the walk is most of a
// digest whose hashes come from the cache. Below the top level the ignore
// rules depend on the parent directories, so deeper subtrees are not split;
// at the top level, a walk that starts at a name visits what the walk of
// the whole tree visits there, in the same order.
func walkSubtrees(ctx context.Context, open openFS, names []string, subtrees [][]*entry, files chan<- *entry) error {
	var next atomic.Int64
	walkers, ctx := errgroup.WithContext(ctx)
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		walkers.Go(func() error {
			fsys, err := open()
			if err != nil {
				return err
			}
			for i := next.Add(1) - 1; i < int64(len(names)); i = next.Add(1) - 1 {
				if err := fsys.Walk(ctx, names[i], collect(ctx, &subtrees[i], files)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return walkers.Wait()
}

// collect appends each walked path to entries and sends regular files to
// the hashing workers.
func collect(ctx context.Context, entries *[]*entry, files chan<- *entry) fs.WalkDirFunc {
	return func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		e := &entry{path: filepath.ToSlash(path), content: d.Type().IsRegular()}
		// A regular file's kind (file or exec) comes from the worker's stat:
		// d.Info() would cost fsutil an lstat and an llistxattr per file,
		// most of a warm digest's time.
		if !e.content {
			info, err := d.Info()
			if err != nil {
				return err
			}
			e.kind = entryType(info.Mode())
			if st, ok := info.Sys().(*fstypes.Stat); ok {
				e.link = st.Linkname
			}
		}
		*entries = append(*entries, e)
		if !e.content {
			return nil
		}
		select {
		case files <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func topLevelNames(root string) ([]string, error) {
	dirEntries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(dirEntries))
	for i, d := range dirEntries {
		names[i] = d.Name()
	}
	return names, nil
}

// hash fills in e.sum: from the cache if e's stat is unchanged, else by
// reading the file.
func (r *digestRun) hash(e *entry, buf []byte) error {
	path := filepath.Join(r.root, e.path)
	if r.reuse(e, path) {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Stat before reading: an edit during the read then shows as a changed
	// stat the next time.
	info, err := f.Stat()
	if err != nil {
		return err
	}
	e.kind = entryType(info.Mode())
	if r.cacheFile != "" {
		e.stat, e.statOK = statOf(info)
	}
	if e.sum, err = hashContent(f, buf); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// reuse takes e's hash from the cache when the file's stat is unchanged.
func (r *digestRun) reuse(e *entry, path string) bool {
	if r.cache == nil {
		return false
	}
	info, err := os.Stat(path)
	if err != nil {
		return false
	}
	e.kind = entryType(info.Mode())
	stat, ok := statOf(info)
	if !ok {
		return false
	}
	if e.sum, e.reused = r.cache.lookup(e.path, stat); e.reused {
		e.stat, e.statOK = stat, true
	}
	return e.reused
}

// finish leaves the hashes for the next digest. Failing to write only
// costs the next digest time, so it is not an error.
func (r *digestRun) finish(entries []*entry) {
	if r.cacheFile == "" || r.unchanged(entries) {
		return
	}
	next := &hashCache{root: r.absRoot, started: r.started.UnixNano(), hashes: map[string]cachedHash{}}
	for _, e := range entries {
		if e.content && e.statOK {
			next.hashes[e.path] = cachedHash{stat: e.stat, sum: e.sum}
		}
	}
	_ = next.save(r.cacheFile)
}

// unchanged says the cache holds exactly the files of entries with their
// current stat, all of them trusted: writing it again would change nothing.
func (r *digestRun) unchanged(entries []*entry) bool {
	if r.cache == nil {
		return false
	}
	files := 0
	for _, e := range entries {
		if !e.content {
			continue
		}
		if !e.reused {
			return false
		}
		files++
	}
	return files == len(r.cache.hashes)
}

// entryType keeps what a checkout reproduces: the kind of entry and, for a
// file, whether it is executable.
func entryType(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "dir"
	case mode&fs.ModeSymlink != 0:
		return "symlink"
	case mode.IsRegular() && mode&0o111 != 0:
		return "exec"
	case mode.IsRegular():
		return "file"
	default:
		return "special"
	}
}

func hashContent(r io.Reader, buf []byte) ([sha256.Size]byte, error) {
	h := sha256.New()
	// Only the Reader: *os.File's WriterTo would make CopyBuffer ignore buf
	// and allocate 32 KiB for every file.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{r}, buf); err != nil {
		return [sha256.Size]byte{}, err
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

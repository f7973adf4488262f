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
	patterns, err := contextPatterns(dir, ignoreFile)
	if err != nil {
		return nil, err
	}
	return filteredFS(dir, patterns, contextSkip)
}

// contextPatterns are the ignore patterns of the context in dir (see
// FSWithIgnoreFile), each compiled: an error names the file. Saved plans
// in Terraform's working directory are left out too (planFilePatterns).
func contextPatterns(dir, ignoreFile string) ([]string, error) {
	if ignoreFile == "" {
		ignoreFile = filepath.Join(dir, IgnoreFile)
	}
	patterns, err := ignorePatternsOf(ignoreFile)
	if err != nil {
		return nil, err
	}
	// As fsutil's filter parses them (it refuses a lone "!"), then each
	// compiled.
	if _, err := patternmatcher.New(patterns); err != nil {
		return nil, fmt.Errorf("%s: %w", ignoreFile, err)
	}
	if err := compilePatterns(patterns); err != nil {
		return nil, fmt.Errorf("%s: %w", ignoreFile, err)
	}
	return append(patterns, planFilePatterns(dir)...), nil
}

// TerraformNames are what Terraform and OpenTofu write in their working
// directory: state, its backup and lock, workspaces' states, providers and
// modules, a crash log. They are never build inputs: state changes on every
// apply (a context holding it would rebuild forever) and holds every secret
// of the configuration. They are left out at any depth, not only at the
// root of a context: the working directory of Terraform may be any
// directory inside the context (a monorepo with several roots, -chdir), and
// these names mean nothing else. Neither sent nor digested, whatever an
// ignore file says ("!terraform.tfstate" cannot re-include them).
var TerraformNames = []string{
	"terraform.tfstate", "terraform.tfstate.backup", "terraform.tfstate.d",
	".terraform", ".terraform.tfstate.lock.info", "crash.log",
}

// GitDir is left out of a dependency of a build command (DigestPaths): a
// fetch rewrites it without changing a file of the tree.
const GitDir = ".git"

// skipSet is a set of names left out at any depth of a tree.
type skipSet map[string]bool

func newSkipSet(names ...[]string) skipSet {
	s := skipSet{}
	for _, list := range names {
		for _, n := range list {
			s[n] = true
		}
	}
	return s
}

// mapFunc leaves the names out of an fsutil walk, as its Map, after the
// ignore patterns: so no "!" pattern can re-include them. A name is cheaper
// to look up than "**/<name>" patterns are to match against every path.
func (s skipSet) mapFunc() fsutil.MapFunc {
	return func(path string, st *fstypes.Stat) fsutil.MapResult {
		if !s[filepath.Base(path)] {
			return fsutil.MapResultKeep
		}
		if os.FileMode(st.Mode).IsDir() {
			return fsutil.MapResultSkipDir
		}
		return fsutil.MapResultExclude
	}
}

// contextSkip: a build context leaves out Terraform's names.
var contextSkip = newSkipSet(TerraformNames)

// depSkip: a dependency directory of a build command also leaves out .git.
var depSkip = newSkipSet(TerraformNames, []string{GitDir})

// filteredFS is the tree at dir without what patterns exclude and without
// the names of skip at any depth.
func filteredFS(dir string, patterns []string, skip skipSet) (fsutil.FS, error) {
	base, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	opt := &fsutil.FilterOpt{ExcludePatterns: patterns}
	if len(skip) > 0 {
		opt.Map = skip.mapFunc()
	}
	return fsutil.NewFilterFS(base, opt)
}

// SendsGit says whether the context in dir (see FSWithIgnoreFile) sends a
// .git directory at its root: one is there and the ignore file does not
// exclude it.
func SendsGit(dir, ignoreFile string) (bool, error) {
	if info, err := os.Lstat(filepath.Join(dir, GitDir)); err != nil || !info.IsDir() {
		return false, nil
	}
	patterns, err := contextPatterns(dir, ignoreFile)
	if err != nil {
		return false, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return false, err
	}
	excluded, err := pm.MatchesOrParentMatches(GitDir)
	return !excluded, err
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
func DigestPaths(ctx context.Context, paths, ignore []string) (string, error) {
	return Digester{}.DigestPaths(ctx, paths, ignore)
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
	tree, err := d.ContextTree(ctx, dir, ignoreFile)
	return tree.Digest, err
}

// ContextTree is DigestWithIgnoreFile with the listing digested.
func (d Digester) ContextTree(ctx context.Context, dir, ignoreFile string) (Tree, error) {
	return d.memoized(ctx, "context", []string{dir, ignoreFile}, func() (Tree, error) {
		// The ignore file is read once; each walker opens the tree anew.
		patterns, err := contextPatterns(dir, ignoreFile)
		if err == nil {
			_, err = filteredFS(dir, patterns, contextSkip)
		}
		if err != nil {
			return Tree{}, fmt.Errorf("build context %s: %w", dir, err)
		}
		return d.digestFS(ctx, dir, treeSource(dir, patterns, contextSkip))
	})
}

// treeSource walks the tree at dir as filteredFS keeps it: with the walk of
// our own where the system has it, which applies the patterns and leaves
// out the names of skip as filteredFS does.
func treeSource(dir string, patterns []string, skip skipSet) walkSource {
	open := func() (fsutil.FS, error) { return filteredFS(dir, patterns, skip) }
	return walkSource{open: open, patterns: patterns, splitDepth: splitDepthOf(len(patterns) > 0, canWalkPlain),
		plain: true, skip: skip}
}

// DigestPaths digests files and directories, e.g. the deps of a build
// command: a file itself, a directory's contents without .git, Terraform's
// names (TerraformNames), saved plans in Terraform's working directory
// (planFilePatterns) and what the ignore patterns exclude. The patterns
// (.dockerignore syntax) are matched relative to each directory, as Tilt's
// custom_build matches its ignore against each dep; a file named in paths
// is always digested. Only the order and contents of paths count, not where
// they are, so checkouts in other places agree.
func (d Digester) DigestPaths(ctx context.Context, paths, ignore []string) (string, error) {
	tree, err := d.PathsTree(ctx, paths, paths, ignore)
	return tree.Digest, err
}

// PathsTree is DigestPaths with the listing digested, where each path's
// entries are under its label (labels[i] for paths[i]): what the user
// wrote, so that listings of checkouts in other places agree.
func (d Digester) PathsTree(ctx context.Context, paths, labels, ignore []string) (Tree, error) {
	if err := CheckPatterns(ignore); err != nil {
		return Tree{}, err
	}
	h := sha256.New()
	var listings []Listing
	for i, p := range paths {
		tree, err := d.digestPath(ctx, p, ignore)
		if err != nil {
			return Tree{}, err
		}
		fmt.Fprintf(h, "%d\x00%s\n", i, tree.Digest)
		listings = append(listings, labelled(tree.Listing, labels[i]))
	}
	return Tree{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Listing: Merge(listings...)}, nil
}

// labelled puts a path's listing under label: a file's one entry is the
// label itself.
func labelled(l Listing, label string) Listing {
	label = strings.TrimSuffix(filepath.ToSlash(label), "/")
	if len(l) == 1 && l[0].Path == "" {
		return Listing{{Path: label, Sum: l[0].Sum}}
	}
	return l.Prefixed(label + "/")
}

func (d Digester) digestPath(ctx context.Context, p string, ignore []string) (Tree, error) {
	key := append([]string{p}, ignore...)
	return d.memoized(ctx, "path", key, func() (Tree, error) { return d.digestOnePath(ctx, p, ignore) })
}

// CheckPatterns checks ignore patterns as an ignore file's are checked.
// An error names the pattern.
func CheckPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := patternmatcher.New([]string{p}); err != nil {
			return fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return compilePatterns(patterns)
}

func (d Digester) digestOnePath(ctx context.Context, p string, ignore []string) (Tree, error) {
	// A dep may be a symlink to the file or directory meant; what it names
	// is read, never followed again.
	p, err := filepath.EvalSymlinks(p)
	if err != nil {
		return Tree{}, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return Tree{}, err
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		return Tree{}, NotFileOrDirError{Path: p, Mode: info.Mode()}
	}
	if !info.IsDir() {
		run := d.start(p)
		file := &entry{kind: entryType(info.Mode()), content: true}
		if err := run.hash(file, make([]byte, copyBufferSize)); err != nil {
			return Tree{}, err
		}
		run.finish([]*entry{file})
		return Tree{Digest: file.kind + ":" + file.value(), Listing: listingOf([]*entry{file})}, nil
	}
	ignore = append(slices.Clip(ignore), planFilePatterns(p)...)
	if _, err := filteredFS(p, ignore, depSkip); err != nil {
		return Tree{}, err
	}
	return d.digestFS(ctx, p, treeSource(p, ignore, depSkip))
}

// NotFileOrDirError is a path that is neither a regular file nor a
// directory (a FIFO, a device, a socket), which is never read: opening a
// FIFO would wait for a writer.
type NotFileOrDirError struct {
	Path string
	Mode fs.FileMode
}

func (e NotFileOrDirError) Error() string {
	return fmt.Sprintf("%s is a %s, not a regular file or directory; only files and directories are read", e.Path, modeKind(e.Mode))
}

// CheckFileOrDir says whether p (after symlinks) is a regular file or a
// directory, as DigestPaths reads them.
func CheckFileOrDir(p string) error {
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		return NotFileOrDirError{Path: p, Mode: info.Mode()}
	}
	return nil
}

func modeKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
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
	// excludedDir: a directory that the ignore rules exclude but that the
	// walk went into, as a "!" pattern may re-include something below it;
	// it is sent only if something below it is (keepSentDirs).
	excludedDir bool
}

func (e *entry) value() string {
	if e.content {
		return hex.EncodeToString(e.sum[:])
	}
	return e.link
}

const copyBufferSize = 256 << 10

// walkSource is what a digest walks. open opens it again for each walker: an
// fsutil.FS is not safe for concurrent walks, as its ignore patterns
// compile on first use. splitDepth is how many levels below the top the walk
// may be divided among walkers (see splitWalk).
type walkSource struct {
	open func() (fsutil.FS, error)
	// patterns are the ignore patterns of open's FS, which the plain walk
	// applies itself.
	patterns   []string
	splitDepth int
	// plain: where the system allows it the walk is plainUnitWalker's rather
	// than fsutil's.
	plain bool
	// skip: names that open's FS leaves out at any depth, which the plain
	// walk and splitWalk leave out by name.
	skip skipSet
}

// unfilteredSplitDepth divides a tree into the subtrees two levels down, so
// that both cores walk a context whose files sit under one top-level
// directory (src/...): the walk is most of a digest whose hashes come from
// the cache.
const unfilteredSplitDepth = 2

// splitDepthOf: ignore rules are judged with the results for the parent
// directories, which fsutil's walk starting below the top level does not
// have, so it divides a filtered tree at the top level only; the plain walk
// computes them (ignoreRules.parentResults) and divides any tree.
func splitDepthOf(filtered, plain bool) int {
	if filtered && !plain {
		return 0
	}
	return unfilteredSplitDepth
}

func (d Digester) digestFS(ctx context.Context, root string, t walkSource) (Tree, error) {
	entries, err := d.entries(ctx, root, t)
	if err != nil {
		return Tree{}, err
	}
	h := sha256.New()
	var line []byte
	for _, e := range entries {
		line = append(line[:0], e.path...)
		line = append(line, 0)
		line = append(line, e.kind...)
		line = append(line, 0)
		if e.content {
			line = hex.AppendEncode(line, e.sum[:])
		} else {
			line = append(line, e.link...)
		}
		h.Write(append(line, '\n'))
	}
	return Tree{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Listing: listingOf(entries)}, nil
}

// entries walks and hashes the tree, in lexical order.
func (d Digester) entries(ctx context.Context, root string, t walkSource) ([]*entry, error) {
	run := d.start(root)
	entries, err := run.walk(ctx, t)
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

// walk walks the tree once, in lexical order; the walkers answer a file
// from the cache when its stat is unchanged, and hand the others to
// workers that read them: each file is read once at most.
func (r *digestRun) walk(ctx context.Context, t walkSource) ([]*entry, error) {
	units, err := splitWalk(r.root, t.splitDepth, t.skip)
	if err != nil {
		return nil, err
	}
	parts := make([][]*entry, len(units))
	group, ctx := errgroup.WithContext(ctx)
	files := make(chan *entry, 1024)
	for range runtime.GOMAXPROCS(0) {
		group.Go(func() error {
			buf := make([]byte, copyBufferSize)
			for e := range files {
				if err := r.read(e, buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
	group.Go(func() error {
		defer close(files)
		return r.walkUnits(ctx, t, units, parts, files)
	})
	if err := group.Wait(); err != nil {
		return nil, err
	}
	entries := slices.Concat(parts...)
	if len(t.patterns) > 0 {
		entries = keepSentDirs(entries)
	}
	return entries, nil
}

// walkUnit is one part of a walk: the tree at path, or with dirOnly the
// directory's own entry, its contents being further units.
type walkUnit struct {
	path    string
	dirOnly bool
}

// splitWalk divides the walk of root into parts that walkers take in any
// order and whose entries, concatenated in order, are those of the whole
// walk in its order: the top-level names, and the directories among them
// divided again, depth levels down. A walk that starts at a path visits
// there what the walk of the whole tree visits, in the same order (both
// list a directory sorted by name), as long as the walk that starts there
// judges ignore rules with the parents' results (splitDepthOf).
// The names of skip are no unit, nor divided.
func splitWalk(root string, depth int, skip skipSet) ([]walkUnit, error) {
	top, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var units []walkUnit
	for _, d := range top {
		if !skip[d.Name()] {
			units = appendUnits(units, root, d.Name(), d.IsDir(), depth, skip)
		}
	}
	return units, nil
}

// appendUnits divides a directory (never a symlink to one) whose entries can
// be listed; anything else, including a directory that cannot be read, is
// one unit, whose walk then reports what it finds.
func appendUnits(units []walkUnit, root, path string, isDir bool, depth int, skip skipSet) []walkUnit {
	if !isDir || depth == 0 {
		return append(units, walkUnit{path: path})
	}
	children, err := os.ReadDir(filepath.Join(root, path))
	if err != nil {
		return append(units, walkUnit{path: path})
	}
	units = append(units, walkUnit{path: path, dirOnly: true})
	for _, d := range children {
		if !skip[d.Name()] {
			units = appendUnits(units, root, filepath.Join(path, d.Name()), d.IsDir(), depth-1, skip)
		}
	}
	return units
}

// walkUnits walks the units on GOMAXPROCS walkers, the next unit to
// whichever is free.
func (r *digestRun) walkUnits(ctx context.Context, t walkSource, units []walkUnit, parts [][]*entry, files chan<- *entry) error {
	var next atomic.Int64
	walkers, ctx := errgroup.WithContext(ctx)
	for range min(runtime.GOMAXPROCS(0), len(units)) {
		walkers.Go(func() error {
			walkUnit, done, err := r.unitWalker(ctx, t, files)
			if err != nil {
				return err
			}
			defer done()
			for i := next.Add(1) - 1; i < int64(len(units)); i = next.Add(1) - 1 {
				if err := walkUnit(units[i], &parts[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return walkers.Wait()
}

// unitWalker walks one unit into its entries: plainUnitWalker's walk where
// the system has it, with ignore rules of the walker's own, else fsutil's
// walk, on an FS of the walker's own. done releases what it keeps.
func (r *digestRun) unitWalker(ctx context.Context, t walkSource, files chan<- *entry) (walk func(walkUnit, *[]*entry) error, done func(), err error) {
	if t.plain && canWalkPlain {
		rules, err := newIgnoreRules(t.patterns)
		if err != nil {
			return nil, nil, err
		}
		walk, done := r.plainUnitWalker(ctx, t.skip, rules, files)
		return walk, done, nil
	}
	fsys, err := t.open()
	if err != nil {
		return nil, nil, err
	}
	return func(u walkUnit, entries *[]*entry) error {
		return fsys.Walk(ctx, u.path, r.collect(ctx, u.dirOnly, entries, files))
	}, func() {}, nil
}

// collect appends each walked path to entries, takes a regular file's hash
// from the cache when it can, and sends the other regular files to the
// reading workers. With dirOnly it stops after the directory's own entry.
func (r *digestRun) collect(ctx context.Context, dirOnly bool, entries *[]*entry, files chan<- *entry) fs.WalkDirFunc {
	return func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		e := &entry{path: filepath.ToSlash(path), content: d.Type().IsRegular()}
		// A regular file's kind (file or exec) comes from its stat below:
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
		switch {
		case !e.content && dirOnly && d.IsDir():
			return filepath.SkipDir
		case !e.content:
			return nil
		case r.reuse(e, filepath.Join(r.root, e.path)):
			// Answered from the stat: no handoff to a worker, whose wake-ups
			// would cost a warm digest more than the stats.
			return nil
		}
		return toReader(ctx, files, e)
	}
}

// toReader hands a file to the reading workers.
func toReader(ctx context.Context, files chan<- *entry, e *entry) error {
	select {
	case files <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hash fills in e.sum: from the cache if e's stat is unchanged, else by
// reading the file.
func (r *digestRun) hash(e *entry, buf []byte) error {
	if r.reuse(e, filepath.Join(r.root, e.path)) {
		return nil
	}
	return r.read(e, buf)
}

// read fills in e.sum by reading the file.
func (r *digestRun) read(e *entry, buf []byte) error {
	path := filepath.Join(r.root, e.path)
	f, err := openNoFollow(path)
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
	if !info.Mode().IsRegular() {
		return NotFileOrDirError{Path: path, Mode: info.Mode()}
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
	return ok && r.reuseStat(e, stat)
}

// reuseStat is reuse with the file's stat taken.
func (r *digestRun) reuseStat(e *entry, stat fileStat) bool {
	if r.cache == nil {
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
	var files []cachedFile
	for _, e := range entries {
		if e.content && e.statOK {
			files = append(files, cachedFile{path: e.path, cachedHash: cachedHash{stat: e.stat, sum: e.sum}})
		}
	}
	_ = newHashCache(r.absRoot, r.started.UnixNano(), files).save(r.cacheFile)
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
	return files == len(r.cache.files)
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

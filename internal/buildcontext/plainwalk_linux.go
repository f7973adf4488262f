package buildcontext

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/moby/patternmatcher"
	"golang.org/x/sys/unix"
)

// canWalkPlain: this system has the walk below.
const canWalkPlain = true

// plainUnitWalker walks units of a tree, one at a time, as fsutil walks
// them for BuildKit (every entry below the root, each directory in name
// order, no symlink followed, an entry that vanished since its directory
// was listed skipped), with one fstatat per entry relative to its
// directory's descriptor. fsutil's walk costs some 2x more: a stat by full
// path per file, and an lstat and an llistxattr per directory (metadata
// that the digest leaves out). The ignore rules are fsutil's too
// (ignoreRules), matched from the results of the unit's parents whatever
// its depth, so a filtered tree is divided like a plain one.
// TestSplitWalkIsTheWholeWalk and FuzzFilteredWalkIsFsutils hold the two
// walks equal. The names of skip are left out at any depth, as the FS's Map
// leaves them out, whatever the rules say. done releases what the walker
// keeps open.
func (r *digestRun) plainUnitWalker(ctx context.Context, skip skipSet, rules *ignoreRules, files chan<- *entry) (walk func(walkUnit, *[]*entry) error, done func()) {
	u := &plainUnits{plainWalk: plainWalk{digestRun: r, skip: skip, rules: rules}, dirfd: -1}
	return func(unit walkUnit, entries *[]*entry) error { return u.walk(ctx, unit, entries, files) }, u.close
}

// plainUnits keeps the directory of the last unit open, with its match
// results: consecutive units often share it (with files two levels down,
// each is a unit), and opening it and matching its parents again for each
// would cost more than the files' own stats.
type plainUnits struct {
	plainWalk
	dir    string // the parent directory of the last unit, if cached
	cached bool
	// dirfd is dir open, or -1 when a walk from the root never gets there.
	dirfd  int
	parent patternmatcher.MatchInfo
}

func (u *plainUnits) walk(ctx context.Context, unit walkUnit, entries *[]*entry, files chan<- *entry) error {
	dir, name := filepath.Split(unit.path)
	if !u.cached || dir != u.dir {
		if err := u.enter(dir, unit.path); err != nil {
			return err
		}
	}
	if u.dirfd < 0 {
		return nil
	}
	return u.plainEntry(ctx, u.dirfd, unit.path, name, !unit.dirOnly, u.parent, entries, files)
}

// enter opens dir, the parent of the unit at path, unless a walk from the
// root is kept from it by the ignore rules.
func (u *plainUnits) enter(dir, path string) error {
	u.close()
	parent, reached, err := u.rules.parentResults(path)
	if err != nil {
		return err
	}
	if reached {
		fd, err := unix.Open(filepath.Join(u.root, dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: filepath.Join(u.root, dir), Err: err}
		}
		u.dirfd = fd
	}
	u.dir, u.cached, u.parent = dir, true, parent
	return nil
}

func (u *plainUnits) close() {
	if u.dirfd >= 0 {
		unix.Close(u.dirfd)
	}
	u.dirfd, u.cached = -1, false
}

// plainWalk is one plain walk: the run it adds to, the names it skips and
// the ignore rules (nil: none).
type plainWalk struct {
	*digestRun
	skip  skipSet
	rules *ignoreRules
}

// plainEntry adds the entry name of the directory open as dirfd, whose path
// under the root is rel and whose parent's match results are parent, and
// with descend everything below it.
func (r plainWalk) plainEntry(ctx context.Context, dirfd int, rel, name string, descend bool, parent patternmatcher.MatchInfo, entries *[]*entry, files chan<- *entry) error {
	var st unix.Stat_t
	statErr := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(statErr, unix.ENOENT) {
		return nil
	}
	excluded, results, err := r.rules.match(rel, parent)
	if err != nil {
		return err
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case statErr != nil && excluded:
		// fsutil never stats what it leaves out.
		return nil
	case statErr != nil:
		return &fs.PathError{Op: "lstat", Path: filepath.Join(r.root, rel), Err: statErr}
	case excluded && (!isDir || r.rules.skipsDir(rel)):
		return nil
	}
	e := &entry{path: filepath.ToSlash(rel), kind: entryType(fileModeOf(st.Mode)), excludedDir: excluded}
	*entries = append(*entries, e)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e.content = true
		if r.reuseStat(e, fileStatOfUnix(&st)) {
			return nil
		}
		return toReader(ctx, files, e)
	case unix.S_IFLNK:
		link, err := readlinkat(dirfd, name)
		if err != nil {
			return &fs.PathError{Op: "readlink", Path: filepath.Join(r.root, rel), Err: err}
		}
		e.link = link
	case unix.S_IFDIR:
		if descend {
			return r.plainDir(ctx, dirfd, e, name, results, entries, files)
		}
	}
	return nil
}

// plainDir adds the entries below the directory dir, the entry name of
// dirfd, whose match results are results.
func (r plainWalk) plainDir(ctx context.Context, dirfd int, dir *entry, name string, results patternmatcher.MatchInfo, entries *[]*entry, files chan<- *entry) error {
	rel := filepath.FromSlash(dir.path)
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil
	case err != nil:
		return unreadableDir(dir, &fs.PathError{Op: "open", Path: filepath.Join(r.root, rel), Err: err})
	}
	f := os.NewFile(uintptr(fd), filepath.Join(r.root, rel))
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return unreadableDir(dir, err)
	}
	slices.Sort(names)
	for _, child := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.skip[child] {
			continue
		}
		if err := r.plainEntry(ctx, fd, filepath.Join(rel, child), child, true, results, entries, files); err != nil {
			return err
		}
	}
	return nil
}

// unreadableDir is the error of a directory that cannot be listed: none
// for one the ignore rules exclude and that may not be read, which fsutil
// walks on past.
func unreadableDir(dir *entry, err error) error {
	if dir.excludedDir && errors.Is(err, fs.ErrPermission) {
		return nil
	}
	return err
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// fileModeOf is the fs.FileMode of a stat's mode, as os.Lstat makes it, for
// entryType.
func fileModeOf(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFREG:
	default:
		m |= fs.ModeIrregular
	}
	return m
}

// fileStatOfUnix is statOf for a stat taken with fstatat: the same fields,
// so that the hash cache written by either walk serves the other.
func fileStatOfUnix(st *unix.Stat_t) fileStat {
	return fileStat{
		size:   st.Size,
		mtime:  st.Mtim.Nano(),
		ctime:  st.Ctim.Nano(),
		inode:  st.Ino,
		device: st.Dev,
		mode:   st.Mode,
	}
}

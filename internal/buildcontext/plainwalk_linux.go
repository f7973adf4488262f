package buildcontext

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// canWalkPlain: this system has the walk below.
const canWalkPlain = true

// walkPlainUnit walks one unit of a tree without ignore rules as fsutil
// walks it for BuildKit (every entry below the root, each directory in name
// order, no symlink followed, an entry that vanished since its directory was
// listed skipped), with one fstatat per entry relative to its directory's
// descriptor. fsutil's walk costs some 2x more: a stat by full path per
// file, and an lstat and an llistxattr per directory (metadata that the
// digest leaves out). TestPlainWalkIsFsutilsWalk holds the two equal.
// The names of skip are left out at any depth, as the FS's patterns
// "**/<name>" leave them out.
func (r *digestRun) walkPlainUnit(ctx context.Context, u walkUnit, skip skipSet, entries *[]*entry, files chan<- *entry) error {
	dir, name := filepath.Split(u.path)
	dirfd, err := unix.Open(filepath.Join(r.root, dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: filepath.Join(r.root, dir), Err: err}
	}
	defer unix.Close(dirfd)
	w := plainWalk{digestRun: r, skip: skip}
	return w.plainEntry(ctx, dirfd, u.path, name, !u.dirOnly, entries, files)
}

// plainWalk is one plain walk: the run it adds to and the names it skips.
type plainWalk struct {
	*digestRun
	skip skipSet
}

// plainEntry adds the entry name of the directory open as dirfd, whose path
// under the root is rel, and with descend everything below it.
func (r plainWalk) plainEntry(ctx context.Context, dirfd int, rel, name string, descend bool, entries *[]*entry, files chan<- *entry) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return &fs.PathError{Op: "lstat", Path: filepath.Join(r.root, rel), Err: err}
	}
	e := &entry{path: filepath.ToSlash(rel), kind: entryType(fileModeOf(st.Mode))}
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
			return r.plainDir(ctx, dirfd, rel, name, entries, files)
		}
	}
	return nil
}

// plainDir adds the entries below the directory name of dirfd.
func (r plainWalk) plainDir(ctx context.Context, dirfd int, rel, name string, entries *[]*entry, files chan<- *entry) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: filepath.Join(r.root, rel), Err: err}
	}
	dir := os.NewFile(uintptr(fd), filepath.Join(r.root, rel))
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, child := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.skip[child] {
			continue
		}
		if err := r.plainEntry(ctx, fd, filepath.Join(rel, child), child, true, entries, files); err != nil {
			return err
		}
	}
	return nil
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

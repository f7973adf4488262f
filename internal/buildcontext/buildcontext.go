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
	"sync"

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
	f, err := os.Open(filepath.Join(dir, IgnoreFile))
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
	base, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	patterns, err := IgnorePatterns(dir)
	if err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return base, nil
	}
	return fsutil.NewFilterFS(base, &fsutil.FilterOpt{ExcludePatterns: patterns})
}

// Digest digests the context in dir: every path that FS keeps, its type,
// whether it is executable, and its content or link target. Timestamps,
// owners and the other permission bits are left out, as git leaves them out,
// so that two checkouts of the same tree digest the same on any machine.
func Digest(ctx context.Context, dir string) (string, error) {
	contextFS, err := FS(dir)
	if err != nil {
		return "", fmt.Errorf("build context %s: %w", dir, err)
	}
	return digestFS(ctx, contextFS, dir)
}

// DigestPaths digests files and directories (all of their contents, no
// ignore file), e.g. the deps of a build command. Only their order and
// contents count, not where they are, so checkouts in other places agree.
func DigestPaths(ctx context.Context, paths []string) (string, error) {
	h := sha256.New()
	for i, p := range paths {
		d, err := digestPath(ctx, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d\x00%s\n", i, d)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func digestPath(ctx context.Context, p string) (string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		sum, err := hashFile(p, make([]byte, copyBufferSize))
		if err != nil {
			return "", err
		}
		return entryType(info.Mode()) + ":" + sum, nil
	}
	fsys, err := fsutil.NewFS(p)
	if err != nil {
		return "", err
	}
	return digestFS(ctx, fsys, p)
}

// entry is one walked path; sum is filled in by a hashing worker.
type entry struct {
	path string
	kind string
	sum  string
}

const copyBufferSize = 256 << 10

// digestFS walks fsys once, in lexical order, while workers hash the
// regular files as they are found; each file is read exactly once.
func digestFS(ctx context.Context, fsys fsutil.FS, root string) (string, error) {
	var (
		mu      sync.Mutex
		entries []*entry
	)
	group, ctx := errgroup.WithContext(ctx)
	files := make(chan *entry, 1024)
	workers := runtime.GOMAXPROCS(0)
	for range workers {
		group.Go(func() error {
			buf := make([]byte, copyBufferSize)
			for e := range files {
				sum, err := hashFile(filepath.Join(root, e.path), buf)
				if err != nil {
					return err
				}
				e.sum = sum
			}
			return nil
		})
	}
	group.Go(func() error {
		defer close(files)
		return fsys.Walk(ctx, "", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			e := &entry{path: filepath.ToSlash(path), kind: entryType(info.Mode())}
			if st, ok := info.Sys().(*fstypes.Stat); ok && st.Linkname != "" {
				e.sum = st.Linkname
			}
			mu.Lock()
			entries = append(entries, e)
			mu.Unlock()
			if info.Mode().IsRegular() {
				select {
				case files <- e:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	})
	if err := group.Wait(); err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", e.path, e.kind, e.sum)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
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

func hashFile(path string, buf []byte) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	// Only the Reader: *os.File's WriterTo would make CopyBuffer ignore buf
	// and allocate 32 KiB for every file.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

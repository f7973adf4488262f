//go:build linux || darwin

package buildcontext

import (
	"io/fs"
	"syscall"
)

const canCacheHashes = true

// statOf is what the hash cache compares; ok is false when info does not
// come from a stat of a local file.
func statOf(info fs.FileInfo) (fileStat, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}, false
	}
	mtime, ctime := statTimes(st)
	return fileStat{
		size:   info.Size(),
		mtime:  mtime,
		ctime:  ctime,
		inode:  uint64(st.Ino),
		device: uint64(st.Dev),
		mode:   uint32(st.Mode),
	}, true
}

//go:build unix

package buildcontext

import (
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a final symlink and
// without blocking: a FIFO or device put where a file was would otherwise
// block the open (and the plan) until a writer came, past any cancellation.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
}

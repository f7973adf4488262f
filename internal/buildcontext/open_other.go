//go:build !unix

package buildcontext

import "os"

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

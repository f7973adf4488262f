//go:build unix

package buildcontext

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO, named as a dep or put where a file was, is refused at once: an
// open would wait for a writer, past any cancellation.
func TestSpecialFilesAreRefusedNotOpened(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	go func() {
		_, err := DigestPaths(context.Background(), []string{fifo}, nil)
		done <- err
	}()
	go func() {
		_, err := DigestPaths(context.Background(), []string{link}, nil)
		done <- err
	}()
	go func() {
		// The file was checked, then replaced by a FIFO before the read.
		done <- Digester{}.start(fifo).read(&entry{}, make([]byte, 4096))
	}()
	for i := 0; i < 3; i++ {
		select {
		case err := <-done:
			var notFile NotFileOrDirError
			if !errors.As(err, &notFile) || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), fifo) {
				t.Errorf("digesting a FIFO: %v; want an error that names it as a named pipe", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("digesting a FIFO blocked")
		}
	}
	if err := CheckFileOrDir(link); err == nil {
		t.Error("CheckFileOrDir accepted a link to a FIFO")
	}
	if err := CheckFileOrDir(dir); err != nil {
		t.Errorf("CheckFileOrDir(dir) = %v", err)
	}
}

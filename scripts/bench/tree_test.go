package main

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

// The context with a .dockerignore sends what treeSpec.sent says, and each
// rule of ignoreFileContent leaves out or keeps some files.
func TestIgnoreTreeSendsWhatSentSays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ctx")
	spec := ignoreContextSpec(3000, 3000*64, "scratch")
	if err := generateTree(dir, spec); err != nil {
		t.Fatal(err)
	}
	fsys, err := buildcontext.FS(dir)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	if err := fsys.Walk(t.Context(), "", func(p string, _ fs.DirEntry, err error) error {
		sent[filepath.ToSlash(p)] = true
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var kinds [3]int // .log files, build/ left out, build/keep/ kept
	for i := range spec.Files {
		p := filepath.ToSlash(spec.relPath(i))
		if sent[p] != spec.sent(i) {
			t.Errorf("%s: sent %v, spec says %v", p, sent[p], spec.sent(i))
		}
		switch {
		case filepath.Ext(p) == ".log":
			kinds[0]++
		case !spec.sent(i):
			kinds[1]++
		case strings.HasPrefix(p, "build/keep/"):
			kinds[2]++
		}
	}
	if slices.Contains(kinds[:], 0) {
		t.Errorf("some rule does nothing: %d .log files, %d under build/ left out, %d under build/keep/", kinds[0], kinds[1], kinds[2])
	}
}

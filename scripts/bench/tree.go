package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// treeSpec fully determines a generated tree: the same spec gives the same
// bytes on any machine.
type treeSpec struct {
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
	Seed  uint64 `json:"seed"`
	// Dockerfile is written at the root when not empty.
	Dockerfile string `json:"dockerfile,omitempty"`
	// Layout changes whenever the generator does, so old trees are remade.
	Layout int `json:"layout"`
	// Ignore writes ignoreFileContent as the tree's .dockerignore and lays
	// the files out so that each of its rules keeps or leaves out some.
	Ignore bool `json:"ignore,omitempty"`
}

// ignoreFileContent is a realistic .dockerignore (issue 26): a rule at any
// depth, a directory rule and a re-include inside the excluded directory,
// which keeps the walk from skipping that directory whole.
const ignoreFileContent = "**/*.log\nbuild/\n!build/keep/\n"

const (
	treeSeed   = 0x1b_2026_0008
	treeLayout = 1
	// Three levels of ten folders each: 1,000 leaf folders.
	treeFanout = 10
	treeLevels = 3
)

func contextSpec(files int, size int64, baseImage string) treeSpec {
	return treeSpec{Files: files, Bytes: size, Seed: treeSeed, Layout: treeLayout,
		Dockerfile: fmt.Sprintf("FROM %s\nCOPY src /src\nRUN ls -R /src | wc -l\n", baseImage)}
}

// ignoreContextSpec is contextSpec with a .dockerignore (see treeSpec.Ignore).
func ignoreContextSpec(files int, size int64, baseImage string) treeSpec {
	spec := contextSpec(files, size, baseImage)
	spec.Ignore = true
	return spec
}

func digestTreeSpec(files int, size int64) treeSpec {
	return treeSpec{Files: files, Bytes: size, Seed: treeSeed, Layout: treeLayout}
}

// markerPath and dirtyPath sit beside the tree, not in it, so that they are
// no part of the build context.
func markerPath(dir string) string { return dir + ".params" }
func dirtyPath(dir string) string  { return dir + ".changed" }

// ensureTree makes dir hold exactly the tree spec describes: a tree made
// earlier with the same spec is reused after its changed files are restored.
func ensureTree(dir string, spec treeSpec) (reused bool, err error) {
	want, err := json.Marshal(spec)
	if err != nil {
		return false, err
	}
	if have, err := os.ReadFile(markerPath(dir)); err == nil && bytes.Equal(have, want) {
		return true, restoreChangedFiles(dir, spec)
	}
	// Marker first: an interrupted generation must not look finished.
	for _, p := range []string{markerPath(dir), dirtyPath(dir), dir} {
		if err := os.RemoveAll(p); err != nil {
			return false, err
		}
	}
	if err := generateTree(dir, spec); err != nil {
		return false, err
	}
	// Write the new tree back now, not while a scenario reads it.
	syscall.Sync()
	return false, os.WriteFile(markerPath(dir), want, 0o644)
}

func generateTree(dir string, spec treeSpec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if spec.Dockerfile != "" {
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(spec.Dockerfile), 0o644); err != nil {
			return err
		}
	}
	if spec.Ignore {
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(ignoreFileContent), 0o644); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, spec.maxFileSize())
	for i := range spec.Files {
		if err := spec.writeFile(dir, i, 0, buf); err != nil {
			return err
		}
	}
	return nil
}

// relPath spreads the files evenly over the leaf folders, in index order.
// With Ignore, the last tenth of the leaves is under build/ rather than
// src/ (a tenth of that under build/keep/), and one file in twenty is a .log.
func (s treeSpec) relPath(i int) string {
	leaves := 1
	for range treeLevels {
		leaves *= treeFanout
	}
	perLeaf := (s.Files + leaves - 1) / leaves
	leaf := i / perLeaf
	parts := []string{"src"}
	for level := treeLevels - 1; level >= 0; level-- {
		digit := leaf
		for range level {
			digit /= treeFanout
		}
		parts = append(parts, fmt.Sprintf("d%d", digit%treeFanout))
	}
	name := fmt.Sprintf("f%06d.bin", i)
	if s.Ignore {
		parts, name = s.ignoreLayout(parts, i, name)
	}
	return filepath.Join(append(parts, name)...)
}

// ignoreLayout moves leaf folders d9/* to build/ and build/d0/* to
// build/keep/, and renames one file in twenty to .log.
func (s treeSpec) ignoreLayout(parts []string, i int, name string) ([]string, string) {
	if parts[1] == "d9" {
		parts[0], parts[1] = "build", "d0"
		if parts[2] == "d0" {
			parts[1] = "keep"
		}
	}
	if i%20 == 7 {
		name = strings.TrimSuffix(name, ".bin") + ".log"
	}
	return parts, name
}

// sent says whether the context sends file i: ignoreFileContent leaves out
// the .log files and build/, but its last rule re-includes all of
// build/keep/, .log files too.
func (s treeSpec) sent(i int) bool {
	if !s.Ignore {
		return true
	}
	p := filepath.ToSlash(s.relPath(i))
	excluded := strings.HasSuffix(p, ".log") || strings.HasPrefix(p, "build/")
	return !excluded || strings.HasPrefix(p, "build/keep/")
}

// fileSize varies sizes around the mean in pairs that cancel out, so the
// total is exact; the last file takes the remainder of the division.
func (s treeSpec) fileSize(i int) int {
	mean := s.Bytes / int64(s.Files)
	size := mean
	pair := i / 2
	if 2*pair+1 < s.Files {
		rng := rand.New(rand.NewPCG(s.Seed, uint64(pair)))
		delta := rng.Int64N(mean/2 + 1)
		if i%2 == 1 {
			delta = -delta
		}
		size += delta
	}
	if i == s.Files-1 {
		size += s.Bytes - mean*int64(s.Files)
	}
	return int(size)
}

func (s treeSpec) maxFileSize() int {
	mean := s.Bytes / int64(s.Files)
	return int(mean + mean/2 + s.Bytes%int64(s.Files) + 1)
}

// writeFile writes file i. Variant 0 is the generated content; any other
// variant is a change of it, of the same size. ChaCha8 output does not
// compress, so neither tar nor the engine can shortcut the bytes.
func (s treeSpec) writeFile(dir string, i int, variant uint64, buf []byte) error {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[0:], s.Seed)
	binary.LittleEndian.PutUint64(seed[8:], uint64(i))
	binary.LittleEndian.PutUint64(seed[16:], variant)
	content := buf[:s.fileSize(i)]
	if _, err := rand.NewChaCha8(seed).Read(content); err != nil {
		return err
	}
	path := filepath.Join(dir, s.relPath(i))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, content, 0o644)
}

// changeFile gives file i new content of the same size, recording i first so
// that the next run restores it. A variant never used before (the caller
// passes e.g. the clock) keeps any build cache from matching the change.
func changeFile(dir string, spec treeSpec, i int, variant uint64) error {
	f, err := os.OpenFile(dirtyPath(dir), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, i)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	return spec.writeFile(dir, i, variant, make([]byte, 0, spec.maxFileSize()))
}

func restoreChangedFiles(dir string, spec treeSpec) error {
	f, err := os.Open(dirtyPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 0, spec.maxFileSize())
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		i, err := strconv.Atoi(strings.TrimSpace(lines.Text()))
		if err != nil || i < 0 || i >= spec.Files {
			return fmt.Errorf("%s: bad line %q", dirtyPath(dir), lines.Text())
		}
		if err := spec.writeFile(dir, i, 0, buf); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	return os.Remove(dirtyPath(dir))
}

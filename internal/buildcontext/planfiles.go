package buildcontext

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A saved plan (`terraform plan -out=FILE`, then `terraform apply FILE`) is
// written by Terraform or OpenTofu into its working directory under a name
// the user chooses, so TerraformNames cannot name it. It is no build input:
// it changes on every plan (a context holding it would rebuild on every
// run, and on every CI run, where the checkout has none) and it holds the
// configuration's secrets. Files of the working directory that are plan
// files are left out of a tree that holds that directory, as ignore
// patterns after the ignore file's, so that no "!" pattern re-includes
// them and the digest and the build leave out the same files.

// planFilePatterns are ignore patterns for the plan files directly in this
// process's working directory (a provider runs in Terraform's), when that
// directory is dir or inside it; none otherwise.
func planFilePatterns(dir string) []string {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	rel, ok := pathInside(dir, wd)
	if !ok {
		return nil
	}
	entries, err := os.ReadDir(wd)
	if err != nil {
		return nil
	}
	var patterns []string
	for _, e := range entries {
		if e.Type().IsRegular() && isPlanFile(filepath.Join(wd, e.Name())) {
			patterns = append(patterns, literalPattern(filepath.ToSlash(filepath.Join(rel, e.Name()))))
		}
	}
	return patterns
}

// pathInside is where p is below dir ("." for dir itself), after symlinks.
func pathInside(dir, p string) (string, bool) {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", false
	}
	if p, err = filepath.EvalSymlinks(p); err != nil {
		return "", false
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", false
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// zipMagic begins a zip archive's first local file header.
var zipMagic = []byte("PK\x03\x04")

// isPlanFile says whether path is a saved plan: a zip archive holding a
// "tfplan" entry, as Terraform's and OpenTofu's are. Only the first bytes
// and the archive's directory are read.
func isPlanFile(path string) bool {
	f, err := openNoFollow(path)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	magic := make([]byte, len(zipMagic))
	if _, err := io.ReadFull(f, magic); err != nil || !bytes.Equal(magic, zipMagic) {
		return false
	}
	archive, err := zip.NewReader(f, info.Size())
	if err != nil {
		return false
	}
	for _, entry := range archive.File {
		if entry.Name == "tfplan" {
			return true
		}
	}
	return false
}

// literalPattern is an ignore pattern that matches path alone: the
// characters that patterns give a meaning to are escaped.
func literalPattern(path string) string {
	var b strings.Builder
	for i, r := range path {
		if strings.ContainsRune(`*?[]\`, r) || (i == 0 && r == '!') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

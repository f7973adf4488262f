package buildcontext

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/patternmatcher"
)

// writeZip writes a zip archive at path holding entries (name -> content).
func writeZip(t *testing.T, path string, entries map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	for name, content := range entries {
		e, err := w.Create(name)
		if err == nil {
			_, err = e.Write([]byte(content))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// savedPlan is what a plan file holds, as far as isPlanFile looks.
var savedPlan = map[string]string{"tfplan": "plan", "tfstate": "{}", "tfconfig/m-/main.tf": ""}

// A saved plan in Terraform's working directory is neither digested nor
// sent, whatever its name, with or without an ignore file that would
// re-include it; a zip that is no plan, a plan elsewhere in the tree and a
// plan in a working directory outside the tree are inputs like any file.
func TestSavedPlansInTheWorkingDirectoryAreLeftOut(t *testing.T) {
	for name, ignore := range map[string]string{"no ignore file": "", "ignore file re-includes all": "*.md\n!*\n"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"Dockerfile": "FROM scratch\n", "infra/main.tf": ""}
			if ignore != "" {
				files[IgnoreFile] = ignore
			}
			tree(t, dir, files, 0o644)
			writeZip(t, filepath.Join(dir, "infra", "other.zip"), map[string]string{"a.txt": "a"})
			writeZip(t, filepath.Join(dir, "elsewhere.tfplan"), savedPlan)
			t.Chdir(filepath.Join(dir, "infra"))
			want := digest(t, dir)
			wantSent := walkFS(t, dir)

			writeZip(t, filepath.Join(dir, "infra", "tfplan"), savedPlan)
			writeZip(t, filepath.Join(dir, "infra", "!we*ird [1].tfplan"), savedPlan)
			if got := digest(t, dir); got != want {
				t.Errorf("saved plans in the working directory changed the digest: %s, want %s", got, want)
			}
			if got := walkFS(t, dir); !slices.Equal(got, wantSent) {
				t.Errorf("sent %q, want %q", got, wantSent)
			}
			if !slices.Contains(wantSent, "infra/other.zip") || !slices.Contains(wantSent, "elsewhere.tfplan") {
				t.Errorf("a zip that is no plan, or a plan outside the working directory, is not sent: %q", wantSent)
			}
			deps, err := DigestPaths(context.Background(), []string{dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"tfplan", "!we*ird [1].tfplan"} {
				if err := os.Remove(filepath.Join(dir, "infra", p)); err != nil {
					t.Fatal(err)
				}
			}
			if without, err := DigestPaths(context.Background(), []string{dir}, nil); err != nil || without != deps {
				t.Errorf("saved plans changed the digest of a dependency: %s, without them %s (%v)", deps, without, err)
			}
		})
	}
}

func TestSavedPlanOutsideTheWorkingDirectoryIsAnInput(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n"}, 0o644)
	t.Chdir(t.TempDir())
	before := digest(t, dir)
	writeZip(t, filepath.Join(dir, "tfplan"), savedPlan)
	if digest(t, dir) == before {
		t.Error("a plan file in a context that is not Terraform's working directory was left out")
	}
}

func TestIsPlanFile(t *testing.T) {
	dir := t.TempDir()
	writeZip(t, filepath.Join(dir, "plan"), savedPlan)
	writeZip(t, filepath.Join(dir, "zip"), map[string]string{"tfplan.txt": ""})
	tree(t, dir, map[string]string{"text": "PK\x03\x04 but no archive", "empty": ""}, 0o644)
	if err := os.Symlink("plan", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"plan": true, "zip": false, "text": false, "empty": false, "link": false, "missing": false} {
		if got := isPlanFile(filepath.Join(dir, name)); got != want {
			t.Errorf("isPlanFile(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestLiteralPatternMatchesThePathAlone(t *testing.T) {
	for _, path := range []string{"tfplan", "a/b.tfplan", "!x", "we*ird [1]?.tfplan", `back\slash`} {
		pattern := literalPattern(path)
		for _, candidate := range []string{path, path + "x", "x" + path, "weXird [1]?.tfplan", "weird 1x.tfplan"} {
			got, err := patternmatcher.Matches(candidate, []string{pattern})
			if err != nil {
				t.Fatalf("pattern %q of %q: %v", pattern, path, err)
			}
			if want := candidate == path; got != want {
				t.Errorf("pattern %q of %q matches %q: %v, want %v", pattern, path, candidate, got, want)
			}
		}
	}
}

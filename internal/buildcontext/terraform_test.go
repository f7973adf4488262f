package buildcontext

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// terraformTree is what Terraform writes in a working directory, at the
// root and in a subdirectory (a second Terraform root of a monorepo).
var terraformTree = map[string]string{
	"terraform.tfstate":                         `{"secret":"s3cr3t"}`,
	"terraform.tfstate.backup":                  "{}",
	".terraform.tfstate.lock.info":              "{}",
	".terraform/providers/p/bin":                "bin",
	".terraform/modules/modules.json":           "{}",
	"terraform.tfstate.d/dev/terraform.tfstate": "{}",
	"crash.log":                    "panic",
	"infra/terraform.tfstate":      "{}",
	"infra/.terraform/environment": "dev",
	"src/deep/crash.log":           "panic",
}

// appTree is the rest of the context; .terraform.lock.hcl is the
// dependency lock file, committed with the code, so it stays.
var appTree = map[string]string{
	"Dockerfile": "FROM scratch\nCOPY . /app\n", "main.tf": "terraform {}\n", ".terraform.lock.hcl": "# lock\n",
	"src/app.go": "package main\n", "src/deep/a.go": "package deep\n", "infra/main.tf": "terraform {}\n",
}

// isTerraforms: the path is, or is inside, one of TerraformNames.
func isTerraforms(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if slices.Contains(TerraformNames, part) {
			return true
		}
	}
	return false
}

// Terraform's files are neither sent nor digested, whatever the ignore
// file says, with the plain walk (no ignore file) and the filtered one.
func TestTerraformFilesAreNeverInTheContext(t *testing.T) {
	ctx := context.Background()
	clean := t.TempDir()
	tree(t, clean, appTree, 0o644)
	for name, ignore := range map[string]string{
		"no ignore file":      "",
		"re-included":         "!terraform.tfstate\n!.terraform\n!**/crash.log\n!infra/terraform.tfstate\n",
		"all but re-included": "*\n!Dockerfile\n!main.tf\n!.terraform.lock.hcl\n!src\n!infra\n!terraform.tfstate\n!.terraform\n",
		"unrelated pattern":   "*.tmp\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			tree(t, dir, appTree, 0o644)
			tree(t, dir, terraformTree, 0o644)
			// The ignore file outside the context, as a Dockerfile's own
			// (<Dockerfile>.dockerignore), so that both trees hold the same files.
			ignoreFile := filepath.Join(outside, "Dockerfile.dockerignore")
			tree(t, outside, map[string]string{"Dockerfile.dockerignore": ignore}, 0o644)
			fsys, err := FSWithIgnoreFile(dir, ignoreFile)
			if err != nil {
				t.Fatal(err)
			}
			sent, err := walkPaths(fsys)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(sent, isTerraforms); i >= 0 {
				t.Errorf("the context sends %s: %q", sent[i], sent)
			}
			if !slices.Contains(sent, ".terraform.lock.hcl") {
				t.Errorf("the context lost .terraform.lock.hcl: %q", sent)
			}
			got, err := Digester{}.DigestWithIgnoreFile(ctx, dir, ignoreFile)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Digester{}.DigestWithIgnoreFile(ctx, clean, ignoreFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("digest with Terraform's files %s, without %s", got, want)
			}
			// An apply rewrites the state: nothing to rebuild.
			tree(t, dir, map[string]string{"terraform.tfstate": `{"serial":2}`, "infra/.terraform/x": "x"}, 0o644)
			if again, err := (Digester{}).DigestWithIgnoreFile(ctx, dir, ignoreFile); err != nil || again != got {
				t.Errorf("after an apply: digest %s (%v), want %s", again, err, got)
			}
		})
	}
}

// The context's own .dockerignore cannot re-include them either, and FS
// (named contexts) leaves them out.
func TestDockerignoreCannotReincludeTerraformFiles(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, appTree, 0o644)
	tree(t, dir, terraformTree, 0o644)
	tree(t, dir, map[string]string{IgnoreFile: "!terraform.tfstate\n!.terraform/**\n"}, 0o644)
	for _, p := range walkFS(t, dir) {
		if isTerraforms(p) {
			t.Errorf("FS sends %s", p)
		}
	}
}

// The plain walk (no ignore rules) and fsutil's filtered walk of FS leave
// out the same files, at every split depth.
func TestPlainWalkSkipsWhatFSLeavesOut(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, appTree, 0o644)
	tree(t, dir, terraformTree, 0o644)
	want := walkFS(t, dir)
	for _, plain := range []bool{false, true} {
		for _, depth := range []int{0, 1, unfilteredSplitDepth, 5} {
			src := treeSource(dir, nil, contextSkip)
			src.plain, src.splitDepth = plain, depth
			entries, err := Digester{}.entries(context.Background(), dir, src)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.path)
			}
			if !slices.Equal(got, want) {
				t.Errorf("plain %v, depth %d:\n got %q\nwant %q", plain, depth, got, want)
			}
		}
	}
}

func TestSendsGit(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n"}, 0o644)
	if sent, err := SendsGit(dir, ""); err != nil || sent {
		t.Errorf("no .git: SendsGit = %v, %v", sent, err)
	}
	tree(t, dir, map[string]string{".git/HEAD": "ref: refs/heads/main\n"}, 0o644)
	if sent, err := SendsGit(dir, ""); err != nil || !sent {
		t.Errorf(".git, no .dockerignore: SendsGit = %v, %v", sent, err)
	}
	for ignore, want := range map[string]bool{".git\n": false, "/.git/\n": false, "*\n!Dockerfile\n": false, "*.log\n": true, ".git\n!.git\n": true} {
		tree(t, dir, map[string]string{IgnoreFile: ignore}, 0o644)
		if sent, err := SendsGit(dir, ""); err != nil || sent != want {
			t.Errorf(".dockerignore %q: SendsGit = %v, %v; want %v", ignore, sent, err, want)
		}
	}
}

// A dep directory: .git and Terraform's files are not digested, nor what
// ignore excludes (relative to the directory); anything else is.
func TestDigestPathsLeavesOutGitTerraformAndIgnored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tree(t, dir, appTree, 0o644)
	tree(t, dir, map[string]string{"app.log": "1", "sub/x.log": "1"}, 0o644)
	ignore := []string{"**/*.log"}
	paths := []string{filepath.Join(dir, "src"), dir}
	first, err := DigestPaths(ctx, paths, ignore)
	if err != nil {
		t.Fatal(err)
	}
	tree(t, dir, terraformTree, 0o644)
	tree(t, dir, map[string]string{".git/HEAD": "ref: refs/heads/main\n", "src/.git/FETCH_HEAD": "x", "app.log": "2", "sub/x.log": "2"}, 0o644)
	if got, err := DigestPaths(ctx, paths, ignore); err != nil || got != first {
		t.Errorf("after a fetch, an apply and a log line: %s (%v), want %s", got, err, first)
	}
	// Without ignore the logs count, .git and Terraform's files still not.
	withLogs, err := DigestPaths(ctx, paths, nil)
	if err != nil || withLogs == first {
		t.Errorf("without ignore: %s (%v), want a digest other than %s", withLogs, err, first)
	}
	// The plain walk (no ignore) and the filtered one agree: a pattern that
	// matches nothing changes nothing.
	if none, err := DigestPaths(ctx, paths, []string{"nothing-matches"}); err != nil || none != withLogs {
		t.Errorf("an ignore that matches nothing: %s (%v), want %s", none, err, withLogs)
	}
	tree(t, dir, map[string]string{"src/app.go": "package main // changed\n"}, 0o644)
	if got, err := DigestPaths(ctx, paths, ignore); err != nil || got == first {
		t.Errorf("a changed source file: %s (%v), want a new digest", got, err)
	}
	// A file named in paths is digested even if ignore matches it.
	logPath := []string{filepath.Join(dir, "app.log")}
	a, _ := DigestPaths(ctx, logPath, ignore)
	tree(t, dir, map[string]string{"app.log": "3"}, 0o644)
	if b, _ := DigestPaths(ctx, logPath, ignore); a == b {
		t.Error("a dep file matched by ignore: its change did not change the digest")
	}
	if _, err := DigestPaths(ctx, paths, []string{"a\\"}); err == nil || !strings.Contains(err.Error(), `a\`) {
		t.Errorf("a bad pattern: %v, want an error naming it", err)
	}
}

// The digest of deps without .git, Terraform's files or ignore is the one
// main computed before they were left out (a57000c): an upgrade rebuilds
// nothing.
func TestDigestPathsValueIsStable(t *testing.T) {
	dir := sampleTree(t)
	if err := os.Symlink("src/main.go", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	const want = "sha256:f258f11a8f41347aaf6e12b7712089807cd74a4b5806af8b1861c03ca07ad233"
	got, err := DigestPaths(context.Background(), []string{filepath.Join(dir, "Dockerfile"), dir, filepath.Join(dir, "src")}, nil)
	if err != nil || got != want {
		t.Errorf("DigestPaths = %s (%v), want %s", got, err, want)
	}
}

package dockerbuild

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A rewritten Dockerfile (contents standing for the file at DockerfilePath)
// keeps the file's name and its <Dockerfile>.dockerignore, on the client
// and for the frontend that reads it from the dockerfile source.
func TestNewSessionPartsRewrittenDockerfile(t *testing.T) {
	contextDir, dfDir := t.TempDir(), t.TempDir()
	path := filepath.Join(dfDir, "app.Dockerfile")
	for name, body := range map[string]string{path: "FROM acme/base\n", path + ".dockerignore": "secret.txt\n"} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewritten := "FROM acme/base:tf-1\n"
	opts := Options{ContextDir: contextDir, DockerfilePath: path, DockerfileContents: &rewritten}
	if got := ContextIgnoreFile(opts); got != path+".dockerignore" {
		t.Errorf("ContextIgnoreFile = %q, want the Dockerfile's own", got)
	}
	if got := dockerfileNameOf(opts); got != "app.Dockerfile" {
		t.Errorf("the frontend is told the Dockerfile is %q, want app.Dockerfile", got)
	}
	parts, err := NewSessionParts(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer parts.Cleanup()
	files := map[string]bool{}
	err = parts.Mounts[dockerfileSource].Walk(context.Background(), "", func(p string, _ os.DirEntry, err error) error {
		files[p] = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app.Dockerfile", "app.Dockerfile.dockerignore"} {
		if !files[name] {
			t.Errorf("the dockerfile source lacks %s: %v", name, files)
		}
	}
	rc, err := parts.Mounts[dockerfileSource].Open("app.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 100)
	n, _ := rc.Read(buf)
	if string(buf[:n]) != rewritten {
		t.Errorf("the dockerfile source serves %q, want the rewritten text", buf[:n])
	}

	// Inline contents alone: as before, "Dockerfile" and no ignore file of
	// a Dockerfile.
	inline := Options{ContextDir: contextDir, DockerfileContents: &rewritten}
	if ContextIgnoreFile(inline) != "" || dockerfileNameOf(inline) != "Dockerfile" {
		t.Errorf("inline contents: ignore file %q, name %q", ContextIgnoreFile(inline), dockerfileNameOf(inline))
	}
}

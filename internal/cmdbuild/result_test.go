package cmdbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distribution/reference"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

func mustNamed(t *testing.T, s string) reference.Named {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		t.Fatal(err)
	}
	return named
}

func TestExpectedRef(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct{ repo, tag, want string }{
		{"myapp", "", "docker.io/library/myapp:tf-build-1700000000"},
		{"myapp", "v1.2", "docker.io/library/myapp:v1.2"},
		{"localhost:5000/team/app:old", "", "localhost:5000/team/app:tf-build-1700000000"},
		{"gcr.io/p/app@sha256:" + strings.Repeat("a", 64), "dev", "gcr.io/p/app:dev"},
	} {
		got, err := ExpectedRef(mustNamed(t, tc.repo), tc.tag, NewBuildTag(now)[:len("tf-build-1700000000")])
		if err != nil || got.String() != tc.want {
			t.Errorf("ExpectedRef(%s, %q) = %v, %v; want %s", tc.repo, tc.tag, got, err, tc.want)
		}
	}
}

func TestExpectedRefRejectsBadTag(t *testing.T) {
	for _, tag := range []string{"-bad", "has space", strings.Repeat("t", 129)} {
		if _, err := ExpectedRef(mustNamed(t, "myapp"), tag, NewBuildTag(time.Now())); err == nil || !strings.Contains(err.Error(), "not a valid tag") {
			t.Errorf("tag %q: err = %v", tag, err)
		}
	}
	if _, err := ExpectedRef(nil, "", NewBuildTag(time.Now())); err == nil {
		t.Error("nil repo accepted")
	}
}

func TestPrepareRefFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ref")
	if err := PrepareRefFile(file); err != nil {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(file, []byte("old:ref"), 0o644)
	if err := PrepareRefFile(file); err != nil {
		t.Errorf("existing file: %v", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := PrepareRefFile(sub); err == nil || !strings.Contains(err.Error(), sub) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := os.Stat(sub); err != nil {
		t.Errorf("the directory was removed: %v", err)
	}
}

func TestPrepareRefFileUncheckable(t *testing.T) {
	// A parent that is a file makes the path uncheckable (ENOTDIR) even for
	// root, who ignores permissions.
	parent := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(parent, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(parent, "ref")
	if err := PrepareRefFile(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("PrepareRefFile(%s) = %v, want an error naming the file", file, err)
	}
}

func writeRefFile(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "ref.txt")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestReadRefFileGood(t *testing.T) {
	for content, want := range map[string]string{
		"myapp:v1": "docker.io/library/myapp:v1",
		"  localhost:5000/team/app:tf-build-1 \n\n": "localhost:5000/team/app:tf-build-1",
		"app:v1@sha256:" + strings.Repeat("b", 64):  "docker.io/library/app:v1@sha256:" + strings.Repeat("b", 64),
	} {
		got, err := ReadRefFile(writeRefFile(t, content), nil)
		if err != nil || got.String() != want {
			t.Errorf("ReadRefFile(%q, nil) = %v, %v; want %s", content, got, err, want)
		}
	}
}

func TestReadRefFileBad(t *testing.T) {
	const advice = "the command must write a tagged ref such as myapp:v1 to "
	for _, tc := range []struct{ name, content, want string }{
		{"untagged", "myapp\n", `holds a ref without a tag: it holds "myapp\n"`},
		{"digest only", "myapp@sha256:" + strings.Repeat("c", 64), "holds a ref without a tag"},
		{"garbage", "Not_A_Ref!", `is not a valid image reference`},
		{"uppercase", "MyApp:v1", `is not a valid image reference`},
		{"empty", "", `is empty: it holds ""`},
		{"blank", " \n\t\n", `is empty`},
		{"two lines", "a:v1\nb:v2\n", `holds more than one word or line: it holds "a:v1\nb:v2\n"`},
		{"two words", "a:v1 b:v2", `holds more than one word or line`},
		{"too long", strings.Repeat("x", 5000) + ":v1", "is longer than 4096 bytes"},
	} {
		file := writeRefFile(t, tc.content)
		_, err := ReadRefFile(file, nil)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, file+" ") || !strings.Contains(msg, tc.want) || !strings.HasSuffix(msg, advice+file) {
			t.Errorf("%s: message %q", tc.name, msg)
		}
		if len(msg) > 2*maxQuotedBytes+3*len(file)+200 {
			t.Errorf("%s: message of %d bytes quotes too much", tc.name, len(msg))
		}
	}
}

// The excerpt of a bad ref file is masked whole before it is cut: 180 bytes
// before a 40-byte secret put it across the 200-byte cut.
func TestReadRefFileMasksTheExcerpt(t *testing.T) {
	secret := "ghp_T0k3nV4lu3-0123456789abcdefghijklmno"
	mask := redact.Values([]string{secret})
	for _, content := range []string{
		strings.Repeat("x", 180) + secret + " two words",
		strings.Repeat("x", maxRefFileBytes-20) + secret,
	} {
		_, err := ReadRefFile(writeRefFile(t, content), mask)
		if err == nil {
			t.Fatal("accepted")
		}
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(err.Error(), secret[i:i+8]) {
				t.Errorf("the error quotes %q of the secret: %v", secret[i:i+8], err)
				break
			}
		}
	}
	if _, err := ReadRefFile(writeRefFile(t, secret+" x"), mask); err == nil || !strings.Contains(err.Error(), `it holds "**** x"`) {
		t.Errorf("error = %v, want the masked excerpt", err)
	}
}

func TestReadRefFileMissing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "never-written")
	_, err := ReadRefFile(file, nil)
	want := file + " does not exist after the command ran: the command must write the ref of the image it built there"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v", err)
	}
}

func TestReadRefFileDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRefFile(dir, nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("err = %v", err)
	}
}

// FuzzReadRefFile checks that no file content makes ReadRefFile panic, and
// that whatever it accepts is a tagged ref that parses back to itself.
func FuzzReadRefFile(f *testing.F) {
	for _, seed := range []string{
		"myapp:v1", "localhost:5000/a/b:tf-build-1\n", "app:v1@sha256:" + strings.Repeat("b", 64),
		"myapp", "", "\n", "a:b\nc:d", "UPPER:v1", "::", "a@sha256:x", "\xff\xfe", "docker.io/library/x:y ",
	} {
		f.Add([]byte(seed))
	}
	file := filepath.Join(f.TempDir(), "ref")
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
		ref, err := ReadRefFile(file, nil)
		if err != nil {
			if ref != nil {
				t.Errorf("returned both %v and %v", ref, err)
			}
			if !strings.Contains(err.Error(), file) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		again, err := reference.ParseNormalizedNamed(ref.String())
		if err != nil {
			t.Fatalf("accepted %q, whose String %q does not parse: %v", content, ref.String(), err)
		}
		tagged, ok := again.(reference.NamedTagged)
		if !ok || again.String() != ref.String() || tagged.Tag() != ref.Tag() || tagged.Name() != ref.Name() {
			t.Errorf("accepted %q as %q, which parses back as %q", content, ref.String(), again.String())
		}
	})
}

func TestNewBuildTagIsUnique(t *testing.T) {
	now := time.Unix(1700000000, 0)
	seen := map[string]bool{}
	for range 1000 {
		tag := NewBuildTag(now)
		if seen[tag] || !strings.HasPrefix(tag, "tf-build-1700000000-") {
			t.Fatalf("tag %q repeated or malformed", tag)
		}
		seen[tag] = true
	}
}

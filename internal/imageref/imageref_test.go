package imageref

import (
	"strings"
	"testing"
)

func TestParseRepository(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "myapp", want: "docker.io/library/myapp"},
		{in: "registry.example.com:5000/team/app", want: "registry.example.com:5000/team/app"},
		{in: "myapp:v1", want: "docker.io/library/myapp:v1"},
		{in: "MyApp", err: "not a valid image reference"},
		{in: "", err: "not a valid image reference"},
		{in: "myapp@sha256:" + strings.Repeat("a", 64), err: "contains a digest"},
	} {
		got, err := ParseRepository(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRepository(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseRepository(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTagged(t *testing.T) {
	if _, err := ParseTagged("myapp"); err == nil || !strings.Contains(err.Error(), "no tag") {
		t.Errorf("untagged ref: err = %v", err)
	}
	got, err := ParseTagged(" localhost:5000/app:v2\n")
	if err != nil || got.Tag() != "v2" || got.Name() != "localhost:5000/app" {
		t.Errorf("ParseTagged = %v, %v", got, err)
	}
}

func TestForRegistry(t *testing.T) {
	for _, tc := range []struct{ repo, host, want string }{
		{"myapp", "", "docker.io/library/myapp"},
		{"myapp", "localhost:5000", "localhost:5000/myapp"},
		{"gcr.io/team/app", "localhost:5000", "localhost:5000/gcr.io_team_app"},
		{"localhost:5000/app", "localhost:5000", "localhost:5000/app"},
		{"myapp:v1", "localhost:5000", "localhost:5000/myapp"},
	} {
		repo, err := ParseRepository(tc.repo)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ForRegistry(repo, tc.host)
		if err != nil || got.String() != tc.want {
			t.Errorf("ForRegistry(%q, %q) = %v, %v; want %s", tc.repo, tc.host, got, err, tc.want)
		}
	}
}

func TestImmutable(t *testing.T) {
	repo, _ := ParseRepository("localhost:5000/app:v1")
	got, err := Immutable(repo, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil || got != "localhost:5000/app:tf-0123456789abcdef" {
		t.Errorf("Immutable = %q, %v", got, err)
	}
	if _, err := Immutable(repo, "sha256:abc"); err == nil {
		t.Error("short image ID: want error")
	}
}

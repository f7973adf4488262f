package imageref

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/reference"
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
		{"Gcr.io/team/app", "localhost:5000", "localhost:5000/gcr.io_team_app"},
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

func TestPlace(t *testing.T) {
	for _, tc := range []struct{ repo, host, single, want, prefix string }{
		{"gcr.io/team/app", "us-docker.pkg.dev/acme/images", "", "us-docker.pkg.dev/acme/images/gcr.io_team_app", ""},
		{"myapp", "gcr.io/acme-dev", "", "gcr.io/acme-dev/myapp", ""},
		{"gcr.io/acme-dev/myapp", "gcr.io/acme-dev", "", "gcr.io/acme-dev/myapp", ""},
		{"gcr.io/acme-devs/myapp", "gcr.io/acme-dev", "", "gcr.io/acme-dev/gcr.io_acme-devs_myapp", ""},
		{"team/api:v1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "apps", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/apps", "api-"},
		{"gcr.io/team/app", "localhost:5000/x", "one/repo", "localhost:5000/x/one/repo", "app-"},
		{"localhost:5000/x/app", "localhost:5000/x", "one", "localhost:5000/x/app", ""},
	} {
		repo, err := ParseRepository(tc.repo)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Registry{Host: tc.host, SingleName: tc.single}.Place(repo)
		if err != nil || got.Repo.String() != tc.want || got.TagPrefix != tc.prefix {
			t.Errorf("Place(%q in %q, single %q) = %v %q, %v; want %s %q", tc.repo, tc.host, tc.single, got.Repo, got.TagPrefix, err, tc.want, tc.prefix)
		}
	}
	repo, _ := ParseRepository("team/api")
	placed, _ := Registry{Host: "localhost:5000", SingleName: "apps"}.Place(repo)
	got, err := placed.Immutable("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil || got != "localhost:5000/apps:api-tf-0123456789abcdef" {
		t.Errorf("Immutable under a single name = %q, %v", got, err)
	}
}

func TestForRegistryRejectsNonHost(t *testing.T) {
	repo, _ := ParseRepository("myapp")
	if got, err := ForRegistry(repo, "myregistry"); err == nil || !strings.Contains(err.Error(), "not a registry host") {
		t.Errorf("ForRegistry(myapp, myregistry) = %v, %v; want an error, not Docker Hub", got, err)
	}
}

func TestFamiliar(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io/library/myapp:v1":  "myapp:v1",
		"docker.io/team/app":          "team/app",
		"localhost:5000/app:v1":       "localhost:5000/app:v1",
		"docker.io/localhost/app:v1":  "docker.io/localhost/app:v1",
		"docker.io/my.org/app":        "docker.io/my.org/app",
		"docker.io/library/a.b/c:tag": "library/a.b/c:tag",
	} {
		named, err := reference.ParseNormalizedNamed(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Familiar(named); got != want {
			t.Errorf("Familiar(%s) = %q, want %q", in, got, want)
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
	if _, err := Immutable(repo, "sha256:../../etc/passwd/x"); err == nil {
		t.Error("image ID that is not hex: want error")
	}
}

// FuzzParseRepository checks that an accepted ref has no digest, parses back
// to itself in full and in familiar form, and takes a tag and the immutable
// tag; tag is fuzzed too, for WithTag.
func FuzzParseRepository(f *testing.F) {
	for _, seed := range [][2]string{
		{"myapp", "v1"}, {"localhost:5000/a/b:tag", "latest"}, {"registry.example.com:5000/team/app", "tf-0123"},
		{"a@sha256:" + strings.Repeat("0", 64), "v1"}, {"MyApp", "v1"}, {"", ""}, {"gcr.io/p/app:v1", "-bad"},
		{"[::1]:5000/app", "x"}, {"docker.io/library/x", "."}, {"a//b", "a b"}, {"a:", strings.Repeat("t", 129)},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, tag string) {
		repo, err := ParseRepository(s)
		if err != nil {
			if repo != nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Errorf("ParseRepository(%q) = %v, %q; want an error naming it", s, repo, err)
			}
			return
		}
		if _, ok := repo.(reference.Digested); ok {
			t.Errorf("ParseRepository(%q) accepted a digest: %s", s, repo)
		}
		for _, form := range []string{repo.String(), Familiar(repo)} {
			if again, err := ParseRepository(form); err != nil || again.String() != repo.String() {
				t.Errorf("ParseRepository(%q) = %s, whose form %q parses as %v, %v", s, repo, form, again, err)
			}
		}
		checkTagged(t, repo, tag)
		checkImmutable(t, repo)
	})
}

// checkTagged checks that WithTag puts tag on repo's name, or names the tag
// it rejects.
func checkTagged(t *testing.T, repo reference.Named, tag string) {
	t.Helper()
	ref, err := WithTag(repo, tag)
	if err != nil {
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", tag)) {
			t.Errorf("WithTag(%s, %q) error does not name the tag: %q", repo, tag, err)
		}
		return
	}
	tagged, err := ParseTagged(ref)
	if err != nil || tagged.Tag() != tag || tagged.Name() != repo.Name() {
		t.Errorf("WithTag(%s, %q) = %q, which parses as %v, %v", repo, tag, ref, tagged, err)
	}
}

// checkImmutable checks that every accepted repo takes its immutable tag.
func checkImmutable(t *testing.T, repo reference.Named) {
	t.Helper()
	const id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ref, err := Immutable(repo, id)
	if err != nil {
		t.Fatalf("Immutable(%s) = %v", repo, err)
	}
	tagged, err := ParseTagged(ref)
	if err != nil || tagged.Tag() != "tf-0123456789abcdef" || tagged.Name() != repo.Name() {
		t.Errorf("Immutable(%s) = %q, which parses as %v, %v", repo, ref, tagged, err)
	}
}

// FuzzParseTagged checks that an accepted ref has a tag and no digest and
// parses back to itself in full and in familiar form.
func FuzzParseTagged(f *testing.F) {
	for _, seed := range []string{
		"myapp:v1", " localhost:5000/app:v2\n", "localhost:5000/a/b:tag", "myapp", "a:v1@sha256:" + strings.Repeat("b", 64),
		"a@sha256:" + strings.Repeat("0", 64), "UPPER:v1", "a:-x", "a:" + strings.Repeat("t", 129), "", ":v1", "a:b c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tagged, err := ParseTagged(s)
		if err != nil {
			if tagged != nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Errorf("ParseTagged(%q) = %v, %q; want an error naming it", s, tagged, err)
			}
			return
		}
		if _, ok := tagged.(reference.Digested); ok || tagged.Tag() == "" {
			t.Errorf("ParseTagged(%q) = %s, which has a digest or no tag", s, tagged)
		}
		for _, form := range []string{tagged.String(), Familiar(tagged)} {
			if again, err := ParseTagged(form); err != nil || again.String() != tagged.String() {
				t.Errorf("ParseTagged(%q) = %s, whose form %q parses as %v, %v", s, tagged, form, again, err)
			}
		}
	})
}

// FuzzForRegistry checks that a repo moved into a registry is a repository
// (no tag, no digest) in that registry that parses back to itself, and that
// every repo can be moved into a registry host that parses as one, unless
// the name grows too long.
func FuzzForRegistry(f *testing.F) {
	for _, seed := range [][2]string{
		{"myapp", ""}, {"myapp", "localhost:5000"}, {"gcr.io/team/app", "localhost:5000"}, {"localhost:5000/app", "localhost:5000"},
		{"myapp:v1", "registry.example.com"}, {"a/b", "gcr.io/project"}, {"myapp", "myregistry"}, {"Gcr.io/team/app", "localhost:5000"},
		{"[::1]:5000/app", "localhost:5000"}, {"app", "[::1]:5000"}, {"app", "localhost:5000/"}, {"app", "LOCALHOST:5000"},
		{"myapp", "docker.io"}, {"myapp", "index.docker.io"}, {"a", strings.Repeat("h", 250) + ".io"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, host string) {
		repo, err := ParseRepository(s)
		if err != nil {
			return
		}
		moved, err := ForRegistry(repo, host)
		if err != nil {
			checkForRegistryError(t, repo, host, err)
			return
		}
		if _, ok := moved.(reference.Tagged); ok {
			t.Errorf("ForRegistry(%s, %q) = %s, which has a tag", repo, host, moved)
		}
		if again, err := ParseRepository(moved.String()); err != nil || again.String() != moved.String() {
			t.Errorf("ForRegistry(%s, %q) = %s, which parses as %v, %v", repo, host, moved, again, err)
		}
		if host != "" && !strings.HasPrefix(moved.Name(), host+"/") {
			t.Errorf("ForRegistry(%s, %q) = %s, which is not in that registry", repo, host, moved)
		}
		if host == "" && moved.String() != reference.TrimNamed(repo).String() {
			t.Errorf("ForRegistry(%s, \"\") = %s; want the repo unchanged", repo, moved)
		}
	})
}

// checkForRegistryError fails unless the host is no registry host or the
// moved name would be longer than a reference may be.
func checkForRegistryError(t *testing.T, repo reference.Named, host string, err error) {
	t.Helper()
	if err.Error() == "" {
		t.Errorf("ForRegistry(%s, %q) gave an empty error", repo, host)
	}
	// An IPv6 domain ("[::1]:5000") escapes to no valid path, as in Tilt.
	if !isRegistryHost(host) || strings.HasPrefix(reference.Domain(repo), "[") {
		return
	}
	if len(host)+1+len(reference.FamiliarName(repo)) <= reference.NameTotalLengthMax {
		t.Errorf("ForRegistry(%s, %q) = %v", repo, host, err)
	}
}

// isRegistryHost says whether host is taken as the registry of host/name.
func isRegistryHost(host string) bool {
	named, err := reference.ParseNormalizedNamed(host + "/name")
	return err == nil && reference.Domain(named) == host
}

// FuzzImmutableTag checks that an accepted image ID gives "tf-" and 16 hex
// digits, a valid tag.
func FuzzImmutableTag(f *testing.F) {
	for _, seed := range []string{
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "0123456789abcdef",
		"sha256:abc", "", "sha256:", "sha256:0123456789ABCDEF0123", "sha256:zzzzzzzzzzzzzzzzzzzz", "sha256:sha256:0123456789abcdef",
		"sha512:0123456789abcdef0123456789abcdef", "sha256:../../etc/passwd/x",
	} {
		f.Add(seed)
	}
	valid := regexp.MustCompile(`^tf-[0-9a-f]{16}$`)
	repo, err := ParseRepository("localhost:5000/app")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id string) {
		tag, err := ImmutableTag(id)
		if err != nil {
			if tag != "" || err.Error() == "" {
				t.Errorf("ImmutableTag(%q) = %q, %q", id, tag, err)
			}
			return
		}
		if !valid.MatchString(tag) {
			t.Errorf("ImmutableTag(%q) = %q; want tf- and 16 hex digits", id, tag)
		}
		if ref, err := Immutable(repo, id); err != nil || ref != "localhost:5000/app:"+tag {
			t.Errorf("Immutable(%s, %q) = %q, %v", repo, id, ref, err)
		}
	})
}

func TestInputsTag(t *testing.T) {
	digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tag, err := InputsTag(digest)
	if err != nil || tag != "tf-in-0123456789abcdef0123456789abcdef" {
		t.Fatalf("InputsTag = %q, %v", tag, err)
	}
	// Never a content tag: those are tf- and 16 hex digits.
	if content, _ := ImmutableTag(digest); strings.HasPrefix(tag, content) || tag[len(ImmutableTagPrefix)] != 'i' {
		t.Errorf("inputs tag %q could be taken for a content tag", tag)
	}
	for _, bad := range []string{"", "sha256:0123", "sha256:zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if _, err := InputsTag(bad); err == nil {
			t.Errorf("InputsTag(%q) accepted", bad)
		}
	}
}

// Package imageref derives the references the provider reads and writes: the
// repository a resource builds into, its rewrite for a cluster's registry, and
// the immutable, content-addressed tag of a built image.
package imageref

import (
	"fmt"
	"path"
	"strings"

	"github.com/distribution/reference"
)

// ImmutableTagPrefix starts every tag the provider derives from an image ID.
const ImmutableTagPrefix = "tf-"

// ParseRepository parses a user's ref. A tag is allowed (it is applied as an
// extra tag); a digest is not, since the provider produces the image.
func ParseRepository(s string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid image reference: %w; write a repository such as \"myapp\" or \"registry.example.com/team/myapp\"", s, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, fmt.Errorf("%q contains a digest; write the repository only (e.g. %q): the provider computes the digest", s, reference.FamiliarName(named))
	}
	return named, nil
}

// ParseTagged parses a full ref that must carry a tag, e.g. an extra tag or a
// ref a build command wrote to a file.
func ParseTagged(s string) (reference.NamedTagged, error) {
	named, err := reference.ParseNormalizedNamed(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid image reference: %w", s, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, fmt.Errorf("%q contains a digest; write a tagged reference such as \"myapp:v1\"", s)
	}
	tagged, ok := named.(reference.NamedTagged)
	if !ok {
		return nil, fmt.Errorf("%q has no tag; write a tagged reference such as \"%s:v1\"", s, reference.FamiliarName(named))
	}
	return tagged, nil
}

// ValidateImageMap checks an image map: a reference ("registry/app:tf-..."),
// or an image ID ("sha256:" and 64 hex digits, or the 64 hex digits alone).
func ValidateImageMap(s string) error {
	if _, err := reference.ParseAnyReference(s); err != nil {
		return fmt.Errorf("%q is not an image reference or ID: %w; write another resource's status.ref "+
			"(e.g. imagebuild_docker_image.base.status.ref), a reference such as \"registry.example.com/team/base:v1\", or an image ID \"sha256:...\"", s, err)
	}
	return nil
}

// ForRegistry moves repo into registryHost, as Tilt does for a cluster's
// registry: "gcr.io/team/app" with "localhost:5000" becomes
// "localhost:5000/gcr.io_team_app". A repo already in that registry is kept.
func ForRegistry(repo reference.Named, registryHost string) (reference.Named, error) {
	placed, err := Registry{Host: registryHost}.Place(repo)
	return placed.Repo, err
}

// Registry is a cluster's registry as seen from this machine. Host is
// host[:port] with an optional path ("us-docker.pkg.dev/acme/images",
// "gcr.io/acme-dev"), as Tilt's default_registry takes it; SingleName puts
// every image in the one repository Host/SingleName, the image's name going
// into its tags (registries such as ECR want each repository created first).
type Registry struct {
	Host, SingleName string
}

// Placement is where one resource's images go: the repository, and what
// starts each of its tags ("api-" under a single name, else nothing).
type Placement struct {
	Repo      reference.Named
	TagPrefix string
}

// Place moves repo into r, as Tilt does: "gcr.io/team/app" in
// "localhost:5000" becomes "localhost:5000/gcr.io_team_app", in
// "gcr.io/acme-dev" "gcr.io/acme-dev/gcr.io_team_app", and under the single
// name "images" "localhost:5000/images" with tags "app-...". A repo already in
// the registry (its name starts with Host) is kept as it is.
func (r Registry) Place(repo reference.Named) (Placement, error) {
	name := reference.TrimNamed(repo)
	if r.Host == "" {
		return Placement{Repo: name}, nil
	}
	if reference.Domain(name) == r.Host || strings.HasPrefix(name.Name(), r.Host+"/") {
		return Placement{Repo: name}, nil
	}
	// Lower case: a domain may have capitals, which a path may not; domains
	// are case-insensitive, and the rest of a name is lower case already.
	familiar := strings.ToLower(reference.FamiliarName(name))
	placed := Placement{}
	target := r.Host + "/" + escapeName(familiar)
	if r.SingleName != "" {
		target = r.Host + "/" + r.SingleName
		placed.TagPrefix = escapeName(path.Base(familiar)) + "-"
	}
	moved, err := reference.ParseNormalizedNamed(target)
	if err != nil {
		return Placement{}, fmt.Errorf("cannot place %q in registry %q: %w", reference.FamiliarName(name), r.Host, err)
	}
	// A host without a dot or port ("myregistry") is not taken as one: the
	// name would land on Docker Hub, as docker.io/myregistry/...
	if !strings.HasPrefix(moved.Name(), r.Host+"/") {
		return Placement{}, fmt.Errorf("%q is not a registry host: write host[:port][/path], e.g. localhost:5000, registry.example.com or gcr.io/my-project", r.Host)
	}
	placed.Repo = moved
	return placed, nil
}

// Tagged is the placement's repository with tag (after the prefix), in
// familiar form.
func (p Placement) Tagged(tag string) (string, error) {
	return WithTag(p.Repo, p.TagPrefix+tag)
}

// Immutable is the placement's content-addressed ref of an image.
func (p Placement) Immutable(imageID string) (string, error) {
	tag, err := ImmutableTag(imageID)
	if err != nil {
		return "", err
	}
	return p.Tagged(tag)
}

func escapeName(name string) string {
	return strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(name)
}

// AsSeenFromCluster renames ref, pushed to registryHost, to the host the
// cluster pulls it from (a KIND node reaches "localhost:5001" as
// "kind-registry:5000"). Refs in other registries, or an empty
// hostFromCluster, are returned as they are.
func AsSeenFromCluster(ref, registryHost, hostFromCluster string) string {
	rest, ok := strings.CutPrefix(ref, registryHost+"/")
	if registryHost == "" || hostFromCluster == "" || !ok {
		return ref
	}
	return hostFromCluster + "/" + rest
}

// ImmutableTag is the content-addressed tag of an image: "tf-" and the first
// 16 hex digits of its ID.
func ImmutableTag(imageID string) (string, error) {
	hex := strings.TrimPrefix(imageID, "sha256:")
	if len(hex) < 16 {
		return "", fmt.Errorf("image ID %q is too short to name a tag", imageID)
	}
	// Only hex digits make a tag that is valid and names the content; an ID
	// from a build command's engine could be anything.
	if strings.TrimLeft(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("image ID %q is not sha256: and hex digits, so it cannot name a tag", imageID)
	}
	return ImmutableTagPrefix + hex[:16], nil
}

// Immutable returns repo tagged with the image's content-addressed tag, in the
// familiar form users write ("myapp:tf-0123456789abcdef").
func Immutable(repo reference.Named, imageID string) (string, error) {
	tag, err := ImmutableTag(imageID)
	if err != nil {
		return "", err
	}
	tagged, err := reference.WithTag(reference.TrimNamed(repo), tag)
	if err != nil {
		return "", err
	}
	return Familiar(tagged), nil
}

// WithTag returns repo with tag, in familiar form.
func WithTag(repo reference.Named, tag string) (string, error) {
	tagged, err := reference.WithTag(reference.TrimNamed(repo), tag)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid tag: %w", tag, err)
	}
	return Familiar(tagged), nil
}

// Familiar is ref in the short form users write ("myapp:v1"), unless that
// form names another image: reference drops "docker.io/" even from
// "docker.io/localhost/app", whose short form is a repository on the
// registry "localhost". Such a ref keeps its full form.
func Familiar(ref reference.Named) string {
	short := reference.FamiliarString(ref)
	if again, err := reference.ParseNormalizedNamed(short); err != nil || again.String() != ref.String() {
		return ref.String()
	}
	return short
}

// InputsTagPrefix starts the tag that names a pushed image by the digest of
// its build's inputs. "tf-in-" cannot be mistaken for a content tag: "i" is
// not a hex digit.
const InputsTagPrefix = "tf-in-"

// InputsTag is the tag of an image by its inputs: "tf-in-" and the first 32
// hex digits of input_digest. The digest is the same on every machine, so
// another workspace building the same inputs finds the image under it.
func InputsTag(inputDigest string) (string, error) {
	hex := strings.TrimPrefix(inputDigest, "sha256:")
	if len(hex) < 32 || strings.TrimLeft(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("input digest %q is not sha256: and hex digits", inputDigest)
	}
	return InputsTagPrefix + hex[:32], nil
}

package dockerbuild

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
)

// ParseShmSize parses a `--shm-size` value: bytes, or a number with a unit
// (64m, 1g, 512k), as the Docker CLI reads it.
func ParseShmSize(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size; write bytes (67108864) or a number with a unit, e.g. 64m or 1g", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%q is not a size above zero; write e.g. 64m or 1g", s)
	}
	return n, nil
}

// ParseUlimit parses a `--ulimit` value: name=soft[:hard].
func ParseUlimit(s string) (*units.Ulimit, error) {
	name, _, ok := strings.Cut(s, "=")
	if !ok {
		return nil, fmt.Errorf("%q is not a ulimit; write name=soft[:hard], e.g. nofile=1024:2048", s)
	}
	if !knownUlimit(name) {
		return nil, fmt.Errorf("%q is not a ulimit: unknown name %q; write name=soft[:hard] with name one of %s",
			s, name, strings.Join(ulimitNames, ", "))
	}
	u, err := units.ParseUlimit(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a ulimit: %v; write name=soft[:hard] with whole numbers, soft no larger than hard, e.g. nofile=1024:2048", s, err)
	}
	return u, nil
}

// ulimitNames are the names go-units (and so dockerd) accepts.
var ulimitNames = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
	"nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

func knownUlimit(name string) bool {
	i := sort.SearchStrings(ulimitNames, name)
	return i < len(ulimitNames) && ulimitNames[i] == name
}

// hostnamePattern is an RFC 1123 host name, as /etc/hosts takes it.
var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// hostGateway is the special IP that dockerd replaces with its own host
// gateway address.
const hostGateway = "host-gateway"

// ParseExtraHost parses an `--add-host` value, host:ip (or host=ip), and
// returns it as the Engine API takes it, host:ip.
func ParseExtraHost(s string) (string, error) {
	sep := ":"
	if strings.Contains(s, "=") {
		sep = "="
	}
	host, ip, ok := strings.Cut(s, sep)
	if !ok || ip == "" {
		return "", fmt.Errorf("%q has no IP address; write host:ip, e.g. db.internal:10.0.0.5 (or host-gateway for the engine's host)", s)
	}
	if !hostnamePattern.MatchString(host) {
		return "", fmt.Errorf("%q: %q is not a host name; write host:ip, e.g. db.internal:10.0.0.5", s, host)
	}
	if ip == hostGateway {
		return host + ":" + ip, nil
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	if err != nil {
		return "", fmt.Errorf("%q: %q is not an IP address; write host:ip, e.g. db.internal:10.0.0.5 or db.internal:[fd00::5]", s, ip)
	}
	return host + ":" + addr.String(), nil
}

// CacheSource is one `--cache-from` entry: an image reference, or a
// type=... spec.
type CacheSource struct {
	// Type is "registry" for a plain reference.
	Type string
	// Ref is the image of a registry source.
	Ref   string
	Attrs map[string]string
}

// ParseCacheFrom parses a `--cache-from` value: an image reference, or a
// CSV spec type=registry,ref=IMAGE (type=local,src=DIR and the other
// BuildKit types parse here; whether a builder can use them is its own
// check, see EngineCacheRef).
func ParseCacheFrom(s string) (CacheSource, error) {
	if !strings.Contains(s, "=") {
		if _, err := reference.ParseNormalizedNamed(s); err != nil {
			return CacheSource{}, fmt.Errorf("%q is not a valid image reference: %w; write e.g. registry.example.com/team/app:cache or type=registry,ref=registry.example.com/team/app:cache", s, err)
		}
		return CacheSource{Type: "registry", Ref: s}, nil
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return CacheSource{}, fmt.Errorf("%q is not a cache spec: %v; write type=registry,ref=IMAGE", s, err)
	}
	src := CacheSource{Attrs: map[string]string{}}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return CacheSource{}, fmt.Errorf("%q: field %q is not key=value; write type=registry,ref=IMAGE", s, f)
		}
		switch k = strings.ToLower(k); k {
		case "type":
			src.Type = v
		case "ref":
			src.Ref = v
		default:
			src.Attrs[k] = v
		}
	}
	switch src.Type {
	case "":
		return CacheSource{}, fmt.Errorf("%q has no type; write type=registry,ref=IMAGE, or an image reference alone", s)
	case "registry":
		if src.Ref == "" {
			return CacheSource{}, fmt.Errorf("%q has no ref; write type=registry,ref=IMAGE", s)
		}
		if _, err := reference.ParseNormalizedNamed(src.Ref); err != nil {
			return CacheSource{}, fmt.Errorf("%q: ref %q is not a valid image reference: %w; write type=registry,ref=registry.example.com/team/app:cache", s, src.Ref, err)
		}
	case "inline":
		return CacheSource{}, fmt.Errorf("%q: type=inline is a cache export, not a source; to use an image's inline cache write type=registry,ref=IMAGE", s)
	case "local", "gha", "s3", "azblob":
	default:
		return CacheSource{}, fmt.Errorf("%q: unknown cache type %q; write type=registry,ref=IMAGE", s, src.Type)
	}
	return src, nil
}

// EngineCacheRef is the image that the Docker engine's build endpoint takes
// for src: it reads cache only from images (with inline cache metadata).
func EngineCacheRef(src CacheSource) (string, error) {
	if src.Type != "registry" {
		return "", fmt.Errorf("the Docker engine's builder imports cache only from images: type=%s needs a BuildKit builder; "+
			"write type=registry,ref=IMAGE (an image built with the build arg BUILDKIT_INLINE_CACHE=1), or an image reference", src.Type)
	}
	for k := range src.Attrs {
		return "", fmt.Errorf("the Docker engine's builder takes only type and ref in a cache source, not %q; write type=registry,ref=IMAGE", k)
	}
	return src.Ref, nil
}

// NamedContextImagePrefix marks a named context that is an image.
const NamedContextImagePrefix = "docker-image://"

// ValidateNamedContext checks a `--build-context` entry: name is what the
// Dockerfile uses (FROM name, COPY --from=name) and may name an image it
// overrides; value is a local directory or docker-image://REF. Whether the
// directory exists is for the plan to check.
// NamedContextName is the name BuildKit's Dockerfile frontend looks up for
// a build_contexts key, as buildx reduces it: an image name in familiar form
// without ":latest" ("golang:latest" and "docker.io/library/golang" are
// "golang", "docker.io/library/golang:1.22" is "golang:1.22"), so that
// "FROM golang" finds it. A key that is no reference is returned as it is.
func NamedContextName(key string) string {
	named, err := reference.ParseNormalizedNamed(key)
	if err != nil {
		return key
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest")
}

func ValidateNamedContext(name, value string) error {
	if _, err := reference.ParseNormalizedNamed(name); err != nil || strings.ContainsAny(name, "@") {
		return fmt.Errorf("%q is not a build context name: write a lowercase name such as \"assets\", or the image it replaces, e.g. \"alpine\"", name)
	}
	switch {
	case value == "":
		return fmt.Errorf("build context %q is empty; write the path of a local directory or docker-image://IMAGE", name)
	case strings.HasPrefix(value, NamedContextImagePrefix):
		ref := strings.TrimPrefix(value, NamedContextImagePrefix)
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return fmt.Errorf("build context %q: %q is not a valid image reference: %w; write docker-image://alpine:3.20", name, ref, err)
		}
	case strings.Contains(value, "://"):
		return fmt.Errorf("build context %q: %q is not supported; write the path of a local directory or docker-image://IMAGE", name, value)
	}
	return nil
}

package cmdbuild

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/distribution/reference"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
)

// ExpectedVars are the variables the provider gives a build command. The
// names are Tilt's custom_build ones, so existing build scripts run unchanged.
type ExpectedVars struct {
	// ExpectedRef, ExpectedImage and ExpectedTag become EXPECTED_REF,
	// EXPECTED_IMAGE and EXPECTED_TAG; SetExpected fills them from a ref.
	ExpectedRef, ExpectedImage, ExpectedTag string
	// OmitExpected leaves out the EXPECTED_* names of the image, for a
	// command that chooses its own ref and writes it to a file.
	OmitExpected bool
	// RegistryHost, when set, becomes EXPECTED_REGISTRY and REGISTRY_HOST.
	RegistryHost string
	// DockerHost, DockerCertPath, DockerTLSVerify and DockerTLS describe the
	// engine the provider uses, which is where the command must put the
	// image: DockerTLSVerify becomes DOCKER_TLS_VERIFY=1, DockerTLS alone
	// (TLS without checking the engine's certificate) DOCKER_TLS=1. When
	// DockerHost is set, they replace any DOCKER_HOST, DOCKER_CERT_PATH,
	// DOCKER_TLS_VERIFY and DOCKER_TLS inherited from Terraform's environment
	// or env, so the command speaks to the engine as the provider does.
	DockerHost, DockerCertPath string
	DockerTLSVerify, DockerTLS bool
	// DockerContext, when set instead of DockerHost, names the Docker CLI
	// context the engine came from: the command gets DOCKER_CONTEXT, so its
	// docker CLI reaches the same engine with the context's TLS material.
	DockerContext string
	// ImageMaps are refs of the images this build depends on; image i
	// becomes TILT_IMAGE_MAP_<i> and TILT_IMAGE_<i>.
	ImageMaps []string
}

// SetExpected fills the EXPECTED_* names of ref as Tilt does: the familiar
// ref, its path without the registry, and its tag.
func (v *ExpectedVars) SetExpected(ref reference.NamedTagged) {
	v.ExpectedRef = imageref.Familiar(ref)
	v.ExpectedImage = reference.Path(ref)
	v.ExpectedTag = ref.Tag()
}

// Environment composes a build command's environment: base (Terraform's
// os.Environ()), then userEnv in sorted key order, then the provider's
// variables. A later value replaces an earlier one with the same key, so the
// result holds each key once, in the position where it first appeared, which
// keeps it deterministic and easy to log. Entries of base without '=' are not
// variables and are dropped. userEnv keys must be valid (see ValidEnvKey).
func Environment(base []string, userEnv map[string]string, vars ExpectedVars) []string {
	env := &envList{index: map[string]int{}}
	for _, entry := range base {
		if key, value, ok := splitEnvEntry(entry); ok {
			env.set(key, value)
		}
	}
	for _, key := range sortedKeys(userEnv) {
		env.set(key, userEnv[key])
	}
	if vars.DockerHost != "" || vars.DockerContext != "" {
		for _, key := range []string{"DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CONTEXT"} {
			env.unset(key)
		}
	}
	for _, kv := range vars.pairs() {
		env.set(kv[0], kv[1])
	}
	return env.entries()
}

// ValidEnvKey reports why key cannot name an environment variable, or nil.
func ValidEnvKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("an environment variable needs a name; write a key such as MY_VAR")
	case strings.ContainsAny(key, "=\x00"):
		return fmt.Errorf("environment variable name %q contains '=' or a NUL byte; write the name alone as the key, such as MY_VAR", key)
	}
	return nil
}

// pairs lists the provider's variables as key, value pairs.
func (v ExpectedVars) pairs() [][2]string {
	var out [][2]string
	add := func(key, value string) { out = append(out, [2]string{key, value}) }
	if !v.OmitExpected {
		add("EXPECTED_REF", v.ExpectedRef)
		add("EXPECTED_IMAGE", v.ExpectedImage)
		add("EXPECTED_TAG", v.ExpectedTag)
	}
	if v.RegistryHost != "" {
		add("EXPECTED_REGISTRY", v.RegistryHost)
		add("REGISTRY_HOST", v.RegistryHost)
	}
	if v.DockerHost != "" {
		add("DOCKER_HOST", v.DockerHost)
	}
	if v.DockerContext != "" {
		add("DOCKER_CONTEXT", v.DockerContext)
	}
	if v.DockerCertPath != "" {
		add("DOCKER_CERT_PATH", v.DockerCertPath)
	}
	switch {
	case v.DockerTLSVerify:
		add("DOCKER_TLS_VERIFY", "1")
	case v.DockerTLS:
		add("DOCKER_TLS", "1")
	}
	// Tilt passes the image map's name as TILT_IMAGE_MAP_i and its built ref
	// as TILT_IMAGE_i; here an image map is just a ref, so both carry it.
	for i, ref := range v.ImageMaps {
		add(fmt.Sprintf("TILT_IMAGE_MAP_%d", i), ref)
		add(fmt.Sprintf("TILT_IMAGE_%d", i), ref)
	}
	return out
}

// envList is an ordered environment with one entry per key.
type envList struct {
	keys   []string // in order of first appearance; "" marks a removed key
	values []string
	index  map[string]int
}

func (l *envList) set(key, value string) {
	id := envKeyID(key)
	if i, ok := l.index[id]; ok {
		l.keys[i], l.values[i] = key, value
		return
	}
	l.index[id] = len(l.keys)
	l.keys = append(l.keys, key)
	l.values = append(l.values, value)
}

func (l *envList) unset(key string) {
	id := envKeyID(key)
	if i, ok := l.index[id]; ok {
		l.keys[i] = ""
		delete(l.index, id)
	}
}

func (l *envList) entries() []string {
	out := make([]string, 0, len(l.index))
	for i, key := range l.keys {
		if key != "" {
			out = append(out, key+"="+l.values[i])
		}
	}
	return out
}

// envKeyID is the identity of a key: Windows treats names case-insensitively.
func envKeyID(key string) string {
	if runtime.GOOS == "windows" {
		return strings.ToUpper(key)
	}
	return key
}

// splitEnvEntry splits "KEY=value". On Windows a name may begin with '='
// ("=C:=C:\dir"), so the separator is searched for after the first byte.
func splitEnvEntry(entry string) (key, value string, ok bool) {
	if entry == "" {
		return "", "", false
	}
	i := strings.IndexByte(entry[1:], '=')
	if i < 0 {
		return "", "", false
	}
	return entry[:i+1], entry[i+2:], true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

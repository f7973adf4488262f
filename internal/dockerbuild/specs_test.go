package dockerbuild

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/session/secrets"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FuzzParseBuildArg checks that an accepted build arg is split at its first
// '=' into a usable name and its value, and that a bare name takes its value
// from the environment.
func FuzzParseBuildArg(f *testing.F) {
	f.Setenv("IMAGEBUILD_FUZZ_ARG", "from-env")
	for _, seed := range []string{
		"KEY=VALUE", "KEY", "IMAGEBUILD_FUZZ_ARG", "=V", "A=B=C", "K=", "", " ", " K=V", "K V=1",
		"K\t=1", "HTTP_PROXY=http://proxy:3128", "K=multi\nline", "ключ=значение",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		key, value, err := ParseBuildArg(arg)
		if err != nil {
			if key != "" || value != nil || err.Error() == "" {
				t.Errorf("ParseBuildArg(%q) = %q, %v, %q", arg, key, value, err)
			}
			return
		}
		checkBuildArgName(t, arg, key)
		checkBuildArgValue(t, arg, key, value)
		all, err := ParseBuildArgs([]string{arg})
		if err != nil || len(all) != 1 || !maps.EqualFunc(all, map[string]*string{key: value}, sameValue) {
			t.Errorf("ParseBuildArgs([%q]) = %v, %v; ParseBuildArg gave %q", arg, all, err, key)
		}
	})
}

// checkBuildArgName checks that an accepted name can name an ARG: it is not
// empty and holds no '=' and no white space.
func checkBuildArgName(t *testing.T, arg, key string) {
	t.Helper()
	if key == "" || strings.Contains(key, "=") || strings.ContainsFunc(key, unicode.IsSpace) {
		t.Errorf("ParseBuildArg(%q) accepted the name %q", arg, key)
	}
}

// checkBuildArgValue checks that "K=V" gives V and a bare "K" gives $K.
func checkBuildArgValue(t *testing.T, arg, key string, value *string) {
	t.Helper()
	if k, v, ok := strings.Cut(arg, "="); ok {
		if k != key || value == nil || *value != v {
			t.Errorf("ParseBuildArg(%q) = %q, %v; want %q, %q", arg, key, value, k, v)
		}
		return
	}
	env, set := os.LookupEnv(key)
	if key != arg || (value != nil) != set || (set && *value != env) {
		t.Errorf("ParseBuildArg(%q) = %q, %v; want the environment's value (%q, set %v)", arg, key, value, env, set)
	}
}

// sameValue says whether two build arg values are both unset or both equal.
func sameValue(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// secretValue is what the fuzzed secret specs can name; no error may show it.
const secretValue = "s3cr3t-value-never-shown"

// FuzzValidateSecret checks that an accepted secret spec serves no secret
// under an empty id, and that no error shows the value of a secret it names
// (the spec names a file or a variable; their content is the secret).
func FuzzValidateSecret(f *testing.F) {
	file := filepath.Join(f.TempDir(), "token")
	if err := os.WriteFile(file, []byte(secretValue), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Setenv("IMAGEBUILD_FUZZ_SECRET", secretValue)
	for _, seed := range []string{
		"id=mysecret,src=" + file, "id=mysecret,source=" + file, "id=tok,env=IMAGEBUILD_FUZZ_SECRET",
		"type=env,id=IMAGEBUILD_FUZZ_SECRET", "id=IMAGEBUILD_FUZZ_SECRET", "env=IMAGEBUILD_FUZZ_SECRET",
		"type=file,id=x,src=" + file, "id=x,src=/does/not/exist", "src=" + file, "id=", "id", "",
		"id=a,type=ssh", "id=a,value=" + secretValue, `"id=a,src=` + file + `"`, `id="a`, "ID=a,SRC=" + file,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		err := ValidateSecret(spec)
		if err != nil {
			checkSecretError(t, spec, err)
			return
		}
		provider, err := SecretsProvider([]string{spec})
		if err != nil {
			t.Fatalf("ValidateSecret(%q) accepted what SecretsProvider rejects: %v", spec, err)
		}
		server, ok := provider.(secrets.SecretsServer)
		if !ok {
			t.Fatalf("SecretsProvider gave a %T, not a secrets server", provider)
		}
		_, err = server.GetSecret(context.Background(), &secrets.GetSecretRequest{ID: ""})
		if status.Code(err) != codes.NotFound {
			t.Errorf("ValidateSecret(%q) accepted a secret with an empty id: GetSecret(\"\") = %v", spec, err)
		}
	})
}

// checkSecretError checks that err advises the syntax and shows no secret
// value that the spec itself does not hold.
func checkSecretError(t *testing.T, spec string, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, "id=NAME") {
		t.Errorf("ValidateSecret(%q) error gives no advice: %q", spec, msg)
	}
	if strings.Contains(msg, secretValue) && !strings.Contains(spec, secretValue) {
		t.Errorf("ValidateSecret(%q) error shows the secret value: %q", spec, msg)
	}
}

// FuzzParseSSH checks that an accepted ssh spec has a non-empty id, the part
// before the first '=', and paths taken from the rest, non-empty unless the
// rest is empty ("ID=", the agent at $SSH_AUTH_SOCK).
func FuzzParseSSH(f *testing.F) {
	for _, seed := range []string{
		"default", "default=/run/agent.sock", "id=/a/b,/c", "github=/home/me/.ssh/id_ed25519",
		"=", "=/a", "a=", "a=/x,", "a=,/x", "a=/x,raw=true", "a=raw=true", "a=raw=false", "a=raw=maybe",
		"a=/x,/y,raw=true", "", " ", "a=b=c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		configs, err := ParseSSH([]string{spec})
		if err != nil {
			if configs != nil || err.Error() == "" {
				t.Errorf("ParseSSH(%q) = %v, %q", spec, configs, err)
			}
			return
		}
		if len(configs) != 1 {
			t.Fatalf("ParseSSH(%q) gave %d configs", spec, len(configs))
		}
		c := configs[0]
		id, rest, hasPaths := strings.Cut(spec, "=")
		if c.ID == "" || c.ID != id {
			t.Errorf("ParseSSH(%q) gave the id %q", spec, c.ID)
		}
		if !hasPaths && (len(c.Paths) != 0 || c.Raw) {
			t.Errorf("ParseSSH(%q) gave paths %q, raw %v, from a spec without any", spec, c.Paths, c.Raw)
		}
		for _, p := range c.Paths {
			// "ID=" alone is the agent at $SSH_AUTH_SOCK: an empty path.
			if (p == "" && rest != "") || !strings.Contains(rest, p) {
				t.Errorf("ParseSSH(%q) gave the path %q", spec, p)
			}
		}
		if c.Raw && len(c.Paths) != 1 {
			t.Errorf("ParseSSH(%q) gave raw mode with paths %q", spec, c.Paths)
		}
	})
}

// FuzzValidatePlatform checks that an accepted platform has an OS and an
// architecture, and that its normal os/arch[/variant] form (as containerd
// matches platforms) is accepted again and normalizes to itself; an error
// names the input. The OS version is left out: the engine gets the string as
// written, and containerd does not escape every byte of a version it formats.
func FuzzValidatePlatform(f *testing.F) {
	for _, seed := range []string{
		"linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/aarch64", "darwin/arm64", "windows/amd64",
		"windows(10.0.17763)/amd64", "linux", "amd64", "arm64", "", "/", "linux/", "/amd64", "linux/amd64/v2/x",
		"linux/*", "Linux/AMD64", "linux/x86_64", "plan9/386", "windows(10.0+win32k)/amd64", "linux(%2B)/amd64",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidatePlatform(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Errorf("ValidatePlatform(%q) error does not name it: %q", s, err)
			}
			return
		}
		p, err := platforms.Parse(s)
		if err != nil {
			t.Fatalf("ValidatePlatform(%q) accepted what platforms.Parse rejects: %v", s, err)
		}
		normal := platforms.Format(platforms.Normalize(p))
		if p.OS == "" || p.Architecture == "" {
			t.Errorf("ValidatePlatform(%q) accepted %q, which lacks an OS or architecture", s, normal)
		}
		if err := ValidatePlatform(normal); err != nil {
			t.Fatalf("ValidatePlatform(%q) accepted it, but not its normal form: %v", s, err)
		}
		again, _ := platforms.Parse(normal)
		if got := platforms.Format(platforms.Normalize(again)); got != normal {
			t.Errorf("ValidatePlatform(%q): its normal form %q normalizes to %q", s, normal, got)
		}
	})
}

func TestNamedContextName(t *testing.T) {
	for key, want := range map[string]string{
		"golang:latest":                 "golang",
		"docker.io/library/golang:1.22": "golang:1.22",
		"docker.io/library/golang":      "golang",
		"assets":                        "assets",
		"ghcr.io/acme/base:latest":      "ghcr.io/acme/base",
		"localhost:5000/team/tools:v1":  "localhost:5000/team/tools:v1",
		"docker.io/acme/builder:latest": "acme/builder",
	} {
		if got := NamedContextName(key); got != want {
			t.Errorf("NamedContextName(%q) = %q, want %q", key, got, want)
		}
	}
}

package dockerbuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/containerd/platforms"
	buildctl "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// ParseBuildArgs turns "KEY=VALUE" and "KEY" entries into the map the Engine
// API takes, as `docker build --build-arg` does: a bare KEY takes its value
// from the environment, and is left unset (nil) when the environment lacks it.
func ParseBuildArgs(args []string) (map[string]*string, error) {
	out := make(map[string]*string, len(args))
	for _, arg := range args {
		key, value, err := ParseBuildArg(arg)
		if err != nil {
			return nil, err
		}
		out[key] = value
	}
	return out, nil
}

// ParseBuildArg parses one build arg; see ParseBuildArgs.
func ParseBuildArg(arg string) (key string, value *string, err error) {
	key, val, hasValue := strings.Cut(arg, "=")
	if strings.TrimSpace(key) == "" {
		return "", nil, fmt.Errorf("build arg %q has an empty name; write KEY=VALUE, or KEY to take the value from the environment", arg)
	}
	// Any Unicode space, as TrimSpace above: a name with "\r" or "\v" in it
	// can never match an ARG of the Dockerfile.
	if strings.ContainsFunc(key, unicode.IsSpace) {
		return "", nil, fmt.Errorf("build arg name %q contains whitespace; write KEY=VALUE", key)
	}
	if hasValue {
		return key, &val, nil
	}
	if env, ok := os.LookupEnv(key); ok {
		return key, &env, nil
	}
	return key, nil, nil
}

// SecretsProvider serves `--secret` specs (id=..., src=/source=..., env=...,
// type=file|env) to the build. It fails for a malformed spec or a file that
// cannot be read, naming the spec.
func SecretsProvider(specs []string) (session.Attachable, error) {
	attachable, err := buildctl.ParseSecret(specs)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w; write id=NAME,src=PATH or id=NAME,env=VARIABLE", err)
	}
	return attachable, nil
}

// ValidateSecretSyntax checks the form of one `--secret` spec only: a file
// or variable it reads may not exist yet (a CI lint job has neither).
func ValidateSecretSyntax(spec string) error {
	if spec == "" {
		return fmt.Errorf("empty secret spec; write id=NAME,src=PATH or id=NAME,env=VARIABLE")
	}
	// buildctl's parser also stats a file source; its absence is for the
	// plan to report.
	if _, err := SecretsProvider([]string{spec}); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ValidateSecret checks one `--secret` spec and that its file or variable
// is there, without serving it.
func ValidateSecret(spec string) error {
	if spec == "" {
		return fmt.Errorf("empty secret spec; write id=NAME,src=PATH or id=NAME,env=VARIABLE")
	}
	if _, err := SecretsProvider([]string{spec}); err != nil {
		return err
	}
	// BuildKit would fail only mid-build, when a RUN step asks for it.
	if src, ok := parseSecretSource(spec); ok && src.env != "" {
		if _, set := os.LookupEnv(src.env); !set {
			return fmt.Errorf("secret %q reads the environment variable %s, which is not set; export it before running terraform, "+
				"or write id=NAME,src=PATH to read a file", spec, src.env)
		}
	}
	return nil
}

// ParseSSH parses `--ssh` specs: "default", "ID", or "ID=path[,path]".
func ParseSSH(specs []string) ([]sshprovider.AgentConfig, error) {
	configs, err := buildctl.ParseSSH(specs)
	if err != nil {
		return nil, fmt.Errorf("ssh_agent_configs: %w", err)
	}
	for i, c := range configs {
		if c.ID == "" {
			return nil, fmt.Errorf("ssh spec %q has an empty ID; write \"default\", \"ID\" or \"ID=/path/to/agent.sock\"", specs[i])
		}
		if _, rest, _ := strings.Cut(specs[i], "="); rest == "" && len(c.Paths) == 1 && c.Paths[0] == "" {
			// "ID=" alone is the agent at $SSH_AUTH_SOCK, as sshprovider reads it.
			continue
		}
		for _, p := range c.Paths {
			if p == "" {
				return nil, fmt.Errorf("ssh spec %q has an empty path; write \"%s\" to use $SSH_AUTH_SOCK, or \"%s=/path/to/agent.sock\"", specs[i], c.ID, c.ID)
			}
		}
	}
	return configs, nil
}

// SSHProvider forwards the agents or keys named by specs to the build.
func SSHProvider(specs []string) (session.Attachable, error) {
	configs, err := ParseSSH(specs)
	if err != nil {
		return nil, err
	}
	provider, err := sshprovider.NewSSHAgentProvider(configs)
	if err != nil {
		return nil, fmt.Errorf("ssh_agent_configs: %w (is ssh-agent running and SSH_AUTH_SOCK set?)", err)
	}
	return provider, nil
}

// ValidateSSH checks one `--ssh` spec as the build will read it: the agent
// sockets and key files it names exist and are readable (keys parse), and
// a spec without a path finds $SSH_AUTH_SOCK.
func ValidateSSH(spec string) error {
	_, err := SSHProvider([]string{spec})
	return err
}

// ValidatePlatform checks an os/arch[/variant] string with containerd's
// parser, as `docker build --platform` does.
func ValidatePlatform(platform string) error {
	p, err := platforms.Parse(platform)
	if err != nil {
		return fmt.Errorf("%q is not a platform: %w; write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8", platform, err)
	}
	// containerd takes "." and ".." for an architecture or variant, which no
	// image has; its own Format even drops them ("linux/." is "linux").
	if p.OS == "" || p.Architecture == "" || isDots(p.Architecture) || isDots(p.Variant) {
		return fmt.Errorf("%q is not a platform; write os/arch[/variant], e.g. linux/amd64", platform)
	}
	// containerd passes unknown names through; a build would then fail late
	// or, worse, resolve nothing for a typo such as "linux/amd46".
	if !slices.Contains(knownOSes, p.OS) {
		return fmt.Errorf("%q is not a platform: unknown operating system %q; write os/arch[/variant] with os one of %s",
			platform, p.OS, strings.Join(knownOSes, ", "))
	}
	if !slices.Contains(knownArchitectures, p.Architecture) {
		return fmt.Errorf("%q is not a platform: unknown architecture %q; write os/arch[/variant] with arch one of %s",
			platform, p.Architecture, strings.Join(knownArchitectures, ", "))
	}
	return nil
}

// The OCI image spec's values (Go's GOOS and GOARCH), after containerd's
// normalisation (x86_64 -> amd64, aarch64 -> arm64, ...).
var (
	knownOSes = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux",
		"netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}
	knownArchitectures = []string{"386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle",
		"ppc64", "ppc64le", "riscv64", "s390x", "sparc64", "wasm"}
)

func isDots(s string) bool { return s == "." || s == ".." }

package dockerbuild

import (
	"fmt"
	"os"
	"path/filepath"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/tonistiigi/fsutil"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

// The pieces of an engine build that a build on a BuildKit daemon shares:
// what the session serves, the folding of status messages into stages, and
// the masking of secrets. See internal/buildkitd.

// SessionParts is what a build's session serves: the local sources, named
// as the dockerfile.v0 frontend asks for them, and the attachables for
// registry credentials, secrets and SSH agents.
type SessionParts struct {
	Mounts      map[string]fsutil.FS
	Attachables []session.Attachable
	// SharedKey is stable for the context directory, so a daemon asks only
	// for changed files.
	SharedKey string
	// Cleanup removes what was written to disk; always safe to call.
	Cleanup func()
}

// Source names of the dockerfile.v0 frontend.
const (
	ContextSource    = contextSource
	DockerfileSource = dockerfileSource
	DockerfileName   = dockerfileName
)

// NewSessionParts prepares what opts' build serves, for the engine and for
// a BuildKit daemon alike. The context is filtered by .dockerignore (or
// <Dockerfile>.dockerignore) here with the same rules as the plan-time
// digest; the Dockerfile is read from its unfiltered directory, as the
// Docker CLI does, even if .dockerignore names it.
func NewSessionParts(opts Options) (*SessionParts, error) {
	parts := &SessionParts{Cleanup: func() {}, SharedKey: sharedKey(opts.ContextDir)}
	fail := func(err error) (*SessionParts, error) {
		parts.Cleanup()
		return nil, err
	}
	dockerfileDir := opts.ContextDir
	if p := dockerfilePathOf(opts); p != "" {
		dockerfileDir = filepath.Dir(p)
	}
	contextFS, err := buildcontext.FSWithIgnoreFile(opts.ContextDir, ContextIgnoreFile(opts))
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", opts.ContextDir, err)
	}
	dockerfileFS, err := fsutil.NewFS(dockerfileDir)
	if err != nil {
		return nil, fmt.Errorf("Dockerfile directory %s: %w", dockerfileDir, err)
	}
	if opts.DockerfileContents != nil {
		dir, err := writeDockerfile(opts)
		if dir != "" {
			parts.Cleanup = func() { os.RemoveAll(dir) }
		}
		if err != nil {
			return fail(err)
		}
		if dockerfileFS, err = fsutil.NewFS(dir); err != nil {
			return fail(err)
		}
	}
	parts.Mounts = map[string]fsutil.FS{contextSource: contextFS, dockerfileSource: dockerfileFS}
	for name, dir := range localNamedContexts(opts) {
		fsys, err := buildcontext.FS(dir)
		if err != nil {
			return fail(fmt.Errorf("build context %q (%s): %w", name, dir, err))
		}
		parts.Mounts[namedContextSource(opts, name)] = fsys
	}
	parts.Attachables = []session.Attachable{
		authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{AuthConfigProvider: authOrDefault(opts.Auth)}),
	}
	if len(opts.Secrets) > 0 || len(opts.SecretValues) > 0 {
		secrets, err := secretsWithValues(opts.Secrets, opts.SecretValues)
		if err != nil {
			return fail(err)
		}
		parts.Attachables = append(parts.Attachables, secrets)
	}
	if len(opts.SSH) > 0 {
		ssh, err := SSHProvider(opts.SSH)
		if err != nil {
			return fail(err)
		}
		parts.Attachables = append(parts.Attachables, ssh)
	}
	return parts, nil
}

// FrontendAttrs are the dockerfile.v0 frontend's options for opts, as the
// engine's control API takes them (cache sources as images in cache-from).
func FrontendAttrs(opts Options) (map[string]string, error) { return frontendAttrs(opts) }

// StatusRecorder folds BuildKit status messages into one Stage per vertex
// and the vertexes' logs into lines, as the engine path does.
type StatusRecorder struct {
	trace *traceRecorder
}

// NewStatusRecorder sends each finished log line to logLine (may be nil).
func NewStatusRecorder(logLine func(string)) *StatusRecorder {
	return &StatusRecorder{trace: newTraceRecorder(logLine)}
}

// Add takes one status message.
func (s *StatusRecorder) Add(status *controlapi.StatusResponse) { s.trace.add(status) }

// Stages flushes unterminated output and returns the stages so far.
func (s *StatusRecorder) Stages() []Stage {
	s.trace.flush()
	return s.trace.Stages()
}

// Failure is the error of a failed build: the failing step, message, and
// the last lines of its output; message alone when no step failed.
func (s *StatusRecorder) Failure(message string) error {
	step, stepErr, tail, ok := s.trace.failure()
	if !ok {
		return &BuildError{Message: message}
	}
	if message == "" {
		message = stepErr
	}
	return &BuildError{Step: step, Message: message, Tail: tail}
}

// Redactor masks the values of a build's secrets in what it prints.
type Redactor struct {
	r *redact.Masker
}

// NewRedactor reads the values of opts' secrets.
func NewRedactor(opts Options) Redactor {
	return Redactor{r: secretRedactor(opts.Secrets, opts.SecretValues)}
}

// Line masks one line.
func (r Redactor) Line(line string) string {
	return r.r.Replace(line)
}

// Result masks the stages' names and errors and the error's text.
func (r Redactor) Result(stages []Stage, err error) ([]Stage, error) {
	result, err := redactResult(r.r, &Result{Stages: stages}, err)
	return result.Stages, err
}

// writeDockerfile writes opts' Dockerfile contents into a new directory,
// under the name the frontend asks for, with the ignore file that filters
// the context beside it as <name>.dockerignore: the engine's frontend
// reads it there, so a rewritten Dockerfile keeps the context it had.
func writeDockerfile(opts Options) (string, error) {
	dir, err := os.MkdirTemp("", "imagebuild-dockerfile-")
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, dockerfileNameOf(opts))
	if err := os.WriteFile(name, []byte(*opts.DockerfileContents), 0o600); err != nil {
		return dir, err
	}
	if ignore := ContextIgnoreFile(opts); ignore != "" {
		raw, err := os.ReadFile(ignore)
		if err == nil {
			err = os.WriteFile(name+buildcontext.IgnoreFile, raw, 0o600)
		}
		if err != nil {
			return dir, err
		}
	}
	return dir, nil
}

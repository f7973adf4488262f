package dockerbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/tonistiigi/fsutil"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
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

// NewSessionParts prepares what opts' build serves, as the engine path does:
// the context filtered by .dockerignore, the Dockerfile from the unfiltered
// directory (or a temporary one holding DockerfileContents).
func NewSessionParts(opts Options) (*SessionParts, error) {
	parts := &SessionParts{Cleanup: func() {}, SharedKey: sharedKey(opts.ContextDir)}
	contextFS, err := buildcontext.FS(opts.ContextDir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", opts.ContextDir, err)
	}
	dockerfileFS, err := fsutil.NewFS(opts.ContextDir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", opts.ContextDir, err)
	}
	if opts.DockerfileContents != nil {
		dir, err := os.MkdirTemp("", "imagebuild-dockerfile-")
		if err != nil {
			return nil, err
		}
		parts.Cleanup = func() { os.RemoveAll(dir) }
		if err := os.WriteFile(filepath.Join(dir, dockerfileName), []byte(*opts.DockerfileContents), 0o600); err != nil {
			parts.Cleanup()
			return nil, err
		}
		if dockerfileFS, err = fsutil.NewFS(dir); err != nil {
			parts.Cleanup()
			return nil, err
		}
	}
	parts.Mounts = map[string]fsutil.FS{contextSource: contextFS, dockerfileSource: dockerfileFS}
	parts.Attachables = []session.Attachable{
		authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{AuthConfigProvider: authOrDefault(opts.Auth)}),
	}
	if len(opts.Secrets) > 0 {
		secrets, err := SecretsProvider(opts.Secrets)
		if err != nil {
			parts.Cleanup()
			return nil, err
		}
		parts.Attachables = append(parts.Attachables, secrets)
	}
	if len(opts.SSH) > 0 {
		ssh, err := SSHProvider(opts.SSH)
		if err != nil {
			parts.Cleanup()
			return nil, err
		}
		parts.Attachables = append(parts.Attachables, ssh)
	}
	return parts, nil
}

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
	r *strings.Replacer
}

// NewRedactor reads the values of the secrets specs name.
func NewRedactor(specs []string) Redactor { return Redactor{r: secretRedactor(specs)} }

// Line masks one line.
func (r Redactor) Line(line string) string {
	if r.r == nil {
		return line
	}
	return r.r.Replace(line)
}

// Result masks the stages' names and errors and the error's text.
func (r Redactor) Result(stages []Stage, err error) ([]Stage, error) {
	result, err := redactResult(r.r, &Result{Stages: stages}, err)
	return result.Stages, err
}

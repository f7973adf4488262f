// Package dockerbuild builds images with the Docker Engine's BuildKit and a
// client-side BuildKit session: filesync serves the context and the
// Dockerfile, secretsprovider and sshprovider serve secrets and agents, and
// authprovider serves registry credentials. It knows nothing of Terraform.
package dockerbuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/docker/cli/cli/config"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/filesync"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/redact"
)

// Options describe one build; the fields mirror `docker build` flags.
type Options struct {
	// ContextDir is the absolute path of the build context.
	ContextDir string
	// DockerfileContents, when not nil, is the Dockerfile; otherwise
	// DockerfilePath, or <ContextDir>/Dockerfile when that is empty.
	// With both, the contents stand for the file at DockerfilePath (a
	// rewrite of it, see internal/dockerfile): its name and its
	// <DockerfilePath>.dockerignore still apply.
	DockerfileContents *string
	// DockerfilePath is the absolute path of the Dockerfile, which may lie
	// outside the context; <DockerfilePath>.dockerignore beside it wins
	// over <ContextDir>/.dockerignore, as in BuildKit.
	DockerfilePath string
	BuildArgs      map[string]*string
	// CacheFrom are images, as the engine's build endpoint takes them.
	CacheFrom  []string
	Network    string
	Platform   string
	Pull       bool
	Target     string
	Labels     map[string]string
	NoCache    bool
	ExtraHosts []string // host:ip
	ShmSize    int64    // bytes; 0 means the engine's default
	Ulimits    []*container.Ulimit
	// NamedContexts maps a name the Dockerfile uses to an absolute local
	// directory or docker-image://REF. They need the engine's BuildKit
	// directly (its /grpc endpoint), as `docker buildx build` does.
	NamedContexts map[string]string
	// Exports are written beside the image (exports, --output); absolute
	// paths. They too need the engine's BuildKit directly.
	Exports []Export
	Secrets []string
	// SecretValues are secrets by id, served next to Secrets; they never
	// leave memory and are masked in the build's output.
	SecretValues map[string][]byte
	SSH          []string
	// Auth answers the daemon's credential requests (pull, cache_from); nil
	// means the Docker config file and its credential helpers.
	Auth authprovider.AuthConfigProvider
	// LogLine receives the build's output, a line at a time.
	LogLine func(string)
}

// Result is what a build produced; on failure it holds what was seen so far.
type Result struct {
	ImageID string
	Stages  []Stage
}

// BuildError is a failed build: the step that failed, the error, and the
// last lines the step printed.
type BuildError struct {
	Step    string
	Message string
	Tail    []string
}

func (e *BuildError) Error() string {
	var b strings.Builder
	if e.Step != "" {
		fmt.Fprintf(&b, "step %q failed: %s", e.Step, e.Message)
	} else {
		b.WriteString(e.Message)
	}
	if len(e.Tail) > 0 {
		b.WriteString("\nlast lines of its output:\n  ")
		b.WriteString(strings.Join(e.Tail, "\n  "))
	}
	return b.String()
}

// Builder runs builds on one engine.
type Builder struct {
	client *client.Client
	// host names the engine in errors.
	host string
}

// NewBuilder returns a Builder that uses c; host names the engine in errors.
func NewBuilder(c *client.Client, host string) *Builder {
	return &Builder{client: c, host: host}
}

const (
	contextSource    = "context"
	dockerfileSource = "dockerfile"
	dockerfileName   = "Dockerfile"
)

// Build runs one build and returns the image it produced. The image is not
// tagged: the caller names it once its ID is known.
func (b *Builder) Build(ctx context.Context, opts Options) (*Result, error) {
	sess, cleanup, err := b.newSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if len(opts.NamedContexts) > 0 || len(opts.Exports) > 0 {
		return b.solve(ctx, sess, opts)
	}
	return b.buildEndpoint(ctx, sess, opts)
}

// runSession serves sess to the engine over its /session endpoint until
// sess is closed; the channel gets the session's end.
func (b *Builder) runSession(ctx context.Context, sess *session.Session) <-chan error {
	sessionErr := make(chan error, 1)
	go func() {
		sessionErr <- sess.Run(ctx, func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return b.client.DialHijack(ctx, "/session", proto, meta)
		})
	}()
	return sessionErr
}

// buildEndpoint builds through the Engine API's build endpoint.
func (b *Builder) buildEndpoint(ctx context.Context, sess *session.Session, opts Options) (*Result, error) {
	var err error

	sessionErr := b.runSession(ctx, sess)
	defer sess.Close()

	buildID := identity.NewID()
	stopCancel := context.AfterFunc(ctx, func() {
		// Closing the request is enough on most engines; BuildCancel makes
		// sure BuildKit stops the solve at once.
		cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = b.client.BuildCancel(cancelCtx, buildID)
	})
	defer stopCancel()

	resp, err := b.client.ImageBuild(ctx, nil, build.ImageBuildOptions{
		Version:       build.BuilderBuildKit,
		SessionID:     sess.ID(),
		BuildID:       buildID,
		RemoteContext: "client-session",
		Dockerfile:    dockerfileNameOf(opts),
		BuildArgs:     opts.BuildArgs,
		Labels:        opts.Labels,
		NoCache:       opts.NoCache,
		ExtraHosts:    opts.ExtraHosts,
		ShmSize:       opts.ShmSize,
		Ulimits:       opts.Ulimits,
		CacheFrom:     opts.CacheFrom,
		NetworkMode:   opts.Network,
		Platform:      opts.Platform,
		PullParent:    opts.Pull,
		Target:        opts.Target,
		Remove:        true,
		ForceRemove:   true,
	})
	if err != nil {
		return nil, b.engineError(err, sessionErr)
	}
	defer resp.Body.Close()

	redact, logLine := redactedLog(opts)
	result, err := b.readStream(ctx, resp.Body, logLine)
	return redactResult(redact, result, err)
}

// redactedLog is opts.LogLine with the build's secrets masked.
func redactedLog(opts Options) (*redact.Masker, func(string)) {
	redact := secretRedactor(opts.Secrets, opts.SecretValues)
	logLine := opts.LogLine
	if redact != nil && logLine != nil {
		logLine = func(line string) { opts.LogLine(redact.Replace(line)) }
	}
	return redact, logLine
}

// dockerfileNameOf is the Dockerfile's name in the dockerfile source.
func dockerfileNameOf(opts Options) string {
	if opts.DockerfilePath != "" {
		return filepath.Base(opts.DockerfilePath)
	}
	return dockerfileName
}

// dockerfilePathOf is where the Dockerfile is on disk, or where the file
// that its contents stand for is; "" for an inline one.
func dockerfilePathOf(opts Options) string {
	switch {
	case opts.DockerfilePath != "":
		return opts.DockerfilePath
	case opts.DockerfileContents != nil:
		return ""
	}
	return filepath.Join(opts.ContextDir, dockerfileName)
}

// engineError explains a refused build request. An unreachable engine is
// said first; otherwise a session that failed first (say, an unreadable
// secret) is the more useful cause.
func (b *Builder) engineError(err error, sessionErr <-chan error) error {
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("cannot reach the Docker engine at %s: %w (check that dockerd is running and that the provider's host points at it)", b.host, err)
	}
	select {
	case serr := <-sessionErr:
		if serr != nil {
			return fmt.Errorf("build session with the Docker engine at %s: %w", b.host, serr)
		}
	default:
	}
	return fmt.Errorf("build request to the Docker engine at %s: %w", b.host, err)
}

// readStream follows the JSON message stream of a build to its end.
func (b *Builder) readStream(ctx context.Context, body io.Reader, logLine func(string)) (*Result, error) {
	trace := newTraceRecorder(logLine)
	result := &Result{}
	dec := json.NewDecoder(body)
	var streamErr *jsonmessage.JSONError
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			trace.flush()
			result.Stages = trace.Stages()
			if ctx.Err() != nil {
				return result, fmt.Errorf("build cancelled: %w", context.Cause(ctx))
			}
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
				return result, fmt.Errorf("the Docker engine at %s dropped the build mid-way (%w): it may have restarted or stopped; "+
					"check that it is running, then apply again", b.host, err)
			}
			return result, fmt.Errorf("reading the build output from the Docker engine at %s: %w", b.host, err)
		}
		switch {
		case msg.Error != nil:
			streamErr = msg.Error
		case msg.ID == "moby.buildkit.trace" && msg.Aux != nil:
			if err := trace.addAux(*msg.Aux); err != nil {
				return result, err
			}
		case msg.ID == "moby.image.id" && msg.Aux != nil:
			var id build.Result
			if err := json.Unmarshal(*msg.Aux, &id); err == nil {
				result.ImageID = id.ID
			}
		case msg.Stream != "" && logLine != nil:
			for _, line := range strings.Split(strings.TrimRight(msg.Stream, "\n"), "\n") {
				logLine(line)
			}
		}
	}
	trace.flush()
	result.Stages = trace.Stages()

	if ctx.Err() != nil {
		return result, fmt.Errorf("build cancelled: %w", context.Cause(ctx))
	}
	if streamErr != nil || hasFailedStage(result.Stages) {
		return result, buildError(trace, streamErr)
	}
	if result.ImageID == "" {
		return result, fmt.Errorf("the Docker engine at %s finished the build without reporting an image ID", b.host)
	}
	return result, nil
}

func hasFailedStage(stages []Stage) bool {
	for _, s := range stages {
		if s.Error != "" {
			return true
		}
	}
	return false
}

func buildError(trace *traceRecorder, streamErr *jsonmessage.JSONError) error {
	step, stepErr, tail, ok := trace.failure()
	message := stepErr
	if streamErr != nil {
		message = streamErr.Message
	}
	if !ok {
		return &BuildError{Message: message}
	}
	return &BuildError{Step: step, Message: message, Tail: tail}
}

// newSession prepares a BuildKit session with everything the build may ask
// for. cleanup removes what it wrote to disk.
func (b *Builder) newSession(ctx context.Context, opts Options) (*session.Session, func(), error) {
	parts, err := NewSessionParts(opts)
	if err != nil {
		return nil, func() {}, err
	}
	sess, err := session.NewSession(ctx, parts.SharedKey)
	if err != nil {
		parts.Cleanup()
		return nil, func() {}, fmt.Errorf("creating a BuildKit session: %w", err)
	}
	sess.Allow(filesync.NewFSSyncProvider(filesync.StaticDirSource(parts.Mounts)))
	for _, a := range parts.Attachables {
		sess.Allow(a)
	}
	if len(opts.Exports) > 0 {
		// The engine's own exporter is the first of the solve's (see solve).
		sess.Allow(syncTarget(opts.Exports, 1))
	}
	return sess, parts.Cleanup, nil
}

// ContextIgnoreFile is the ignore file that filters the context of a build
// with opts: <Dockerfile>.dockerignore beside the Dockerfile if there is
// one, as BuildKit prefers it; "" for <context>/.dockerignore.
func ContextIgnoreFile(opts Options) string {
	if p := dockerfilePathOf(opts); p != "" {
		return buildcontext.DockerfileIgnoreFile(p)
	}
	return ""
}

func authOrDefault(auth authprovider.AuthConfigProvider) authprovider.AuthConfigProvider {
	if auth != nil {
		return auth
	}
	return authprovider.LoadAuthConfig(config.LoadDefaultConfigFile(io.Discard))
}

// sharedKey is stable for a context directory on this machine, as the Docker
// CLI's is, so the daemon can reuse what it already synced and ask only for
// changed files.
func sharedKey(contextDir string) string {
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(host + "\x00" + contextDir))
	return hex.EncodeToString(sum[:])
}

package dockerbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/docker/pkg/jsonmessage"
	controlapi "github.com/moby/buildkit/api/services/control"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The build endpoint of the Engine API has no way to pass named contexts
// (the frontend attributes context:NAME): `docker buildx build` with the
// engine's own builder talks to its BuildKit through the /grpc endpoint
// instead, and so does solve. It asks for what the daemon asks for when it
// translates a build request (see moby's builder-next), plus the contexts.

// localNamedContexts are the named contexts that are local directories.
func localNamedContexts(opts Options) map[string]string {
	out := map[string]string{}
	for name, v := range opts.NamedContexts {
		if !strings.HasPrefix(v, NamedContextImagePrefix) {
			out[name] = v
		}
	}
	return out
}

// namedContextSource is the filesync source that serves the named context
// name: "named-<i>" in the sorted order of the names, so names that hold
// "/" (an image a context replaces) never reach the session's headers.
func namedContextSource(opts Options, name string) string {
	names := make([]string, 0, len(opts.NamedContexts))
	for n := range opts.NamedContexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return "named-" + strconv.Itoa(sort.SearchStrings(names, name))
}

// frontendAttrs are the Dockerfile frontend's options for opts.
func frontendAttrs(opts Options) (map[string]string, error) {
	attrs := map[string]string{
		"filename":           dockerfileNameOf(opts),
		"image-resolve-mode": "default",
	}
	if opts.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	if opts.Target != "" {
		attrs["target"] = opts.Target
	}
	if len(opts.CacheFrom) > 0 {
		attrs["cache-from"] = strings.Join(opts.CacheFrom, ",")
	}
	for k, v := range opts.BuildArgs {
		if v != nil {
			attrs["build-arg:"+k] = *v
		}
	}
	for k, v := range opts.Labels {
		attrs["label:"+k] = v
	}
	if opts.NoCache {
		attrs["no-cache"] = ""
	}
	if opts.Platform != "" {
		attrs["platform"] = opts.Platform
	}
	switch opts.Network {
	case "host", "none":
		attrs["force-network-mode"] = opts.Network
	}
	var hosts []string
	for _, h := range opts.ExtraHosts {
		host, ip, _ := strings.Cut(h, ":")
		if ip == hostGateway {
			return nil, fmt.Errorf("add_hosts %q: host-gateway is resolved by the engine's build endpoint, which builds with named contexts or exports cannot use; write the gateway's IP address", h)
		}
		hosts = append(hosts, host+"="+ip)
	}
	if len(hosts) > 0 {
		attrs["add-hosts"] = strings.Join(hosts, ",")
	}
	if opts.ShmSize > 0 {
		attrs["shm-size"] = strconv.FormatInt(opts.ShmSize, 10)
	}
	var ulimits []string
	for _, u := range opts.Ulimits {
		ulimits = append(ulimits, u.String())
	}
	if len(ulimits) > 0 {
		attrs["ulimit"] = strings.Join(ulimits, ",")
	}
	for name, v := range opts.NamedContexts {
		key := "context:" + NamedContextName(name)
		if strings.HasPrefix(v, NamedContextImagePrefix) {
			attrs[key] = v
		} else {
			attrs[key] = "local:" + namedContextSource(opts, name)
		}
	}
	return attrs, nil
}

// solve builds through the engine's BuildKit control API.
func (b *Builder) solve(ctx context.Context, sess *session.Session, opts Options) (*Result, error) {
	attrs, err := frontendAttrs(opts)
	if err != nil {
		return nil, err
	}
	bk, err := bkclient.New(ctx, "", bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return b.client.DialHijack(ctx, "/grpc", "h2c", nil)
	}))
	if err != nil {
		return nil, fmt.Errorf("connecting to the BuildKit of the Docker engine at %s: %w", b.host, err)
	}
	defer bk.Close()

	sessionErr := b.runSession(ctx, sess)
	defer sess.Close()

	ref := identity.NewID()
	req := &controlapi.SolveRequest{
		Ref:                ref,
		Exporters:          []*controlapi.Exporter{{Type: "moby", Attrs: map[string]string{}}},
		ExporterDeprecated: "moby",
		Frontend:           "dockerfile.v0",
		FrontendAttrs:      attrs,
		Session:            sess.ID(),
		Cache:              &controlapi.CacheOptions{},
	}
	for _, e := range opts.Exports {
		req.Exporters = append(req.Exporters, &controlapi.Exporter{Type: e.Type, Attrs: e.Attrs})
	}
	if v := opts.BuildArgs["BUILDKIT_INLINE_CACHE"]; v != nil {
		if on, err := strconv.ParseBool(*v); err == nil && on {
			req.Cache.Exports = append(req.Cache.Exports, &controlapi.CacheOptionsEntry{Type: "inline"})
		}
	}
	if opts.Network == "host" {
		req.Entitlements = append(req.Entitlements, "network.host")
	}

	redact, logLine := redactedLog(opts)
	trace := newTraceRecorder(logLine)
	control := bk.ControlClient()
	result := &Result{}
	var group errgroup.Group
	statusCtx, stopStatus := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStatus()
	group.Go(func() error {
		stream, err := control.Status(statusCtx, &controlapi.StatusRequest{Ref: ref})
		if err != nil {
			return nil
		}
		for {
			resp, err := stream.Recv()
			if err != nil {
				return nil // io.EOF once the solve is done; the solve's error says the rest
			}
			trace.add(resp)
		}
	})
	resp, solveErr := control.Solve(ctx, req)
	if solveErr != nil {
		// The status stream ends on its own once the solve is over; a
		// cancelled build stops waiting for it.
		if ctx.Err() != nil {
			stopStatus()
		}
	}
	_ = group.Wait()
	trace.flush()
	result.Stages = trace.Stages()

	if ctx.Err() != nil {
		return redactResult(redact, result, fmt.Errorf("build cancelled: %w", context.Cause(ctx)))
	}
	if solveErr != nil {
		select {
		case serr := <-sessionErr:
			if serr != nil && !errors.Is(serr, io.EOF) {
				return redactResult(redact, result, fmt.Errorf("build session with the Docker engine at %s: %w", b.host, serr))
			}
		default:
		}
		if status.Code(solveErr) == codes.Unavailable {
			return redactResult(redact, result, fmt.Errorf("cannot reach the BuildKit of the Docker engine at %s: %w", b.host, solveErr))
		}
		msg := solveErr.Error()
		if s, ok := status.FromError(solveErr); ok {
			msg = s.Message()
		}
		if strings.Contains(msg, `exporter "`+ExportOCI+`" could not be found`) {
			msg += "; exports: this engine's image store has no oci exporter (the containerd image store has one): " +
				"write type=tar or type=local, or build on a BuildKit builder"
		}
		return redactResult(redact, result, buildError(trace, &jsonmessage.JSONError{Message: msg}))
	}
	result.ImageID = resp.ExporterResponse["containerimage.digest"]
	if result.ImageID == "" {
		return result, fmt.Errorf("the Docker engine at %s finished the build without reporting an image ID", b.host)
	}
	return redactResult(redact, result, nil)
}

// secretsWithValues serves the secrets of specs (files and variables) and
// values (by id) together.
func secretsWithValues(specs []string, values map[string][]byte) (session.Attachable, error) {
	if len(values) == 0 {
		return SecretsProvider(specs)
	}
	stores := []secrets.SecretStore{mapStore(values)}
	if len(specs) > 0 {
		sources := make([]secretsprovider.Source, 0, len(specs))
		for _, spec := range specs {
			if _, err := SecretsProvider([]string{spec}); err != nil {
				return nil, err
			}
			src, _ := parseSecretSource(spec)
			sources = append(sources, secretsprovider.Source{ID: src.id, FilePath: src.file, Env: src.env})
		}
		files, err := secretsprovider.NewStore(sources)
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		stores = append(stores, files)
	}
	return secretsprovider.NewSecretProvider(multiStore(stores)), nil
}

type mapStore map[string][]byte

func (m mapStore) GetSecret(_ context.Context, id string) ([]byte, error) {
	v, ok := m[id]
	if !ok {
		return nil, secrets.ErrNotFound
	}
	return v, nil
}

// multiStore answers from the first store that has the secret.
type multiStore []secrets.SecretStore

func (m multiStore) GetSecret(ctx context.Context, id string) ([]byte, error) {
	for _, s := range m {
		v, err := s.GetSecret(ctx, id)
		if errors.Is(err, secrets.ErrNotFound) {
			continue
		}
		return v, err
	}
	return nil, secrets.ErrNotFound
}

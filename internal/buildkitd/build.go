package buildkitd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	buildctl "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/util/bklog"
	"github.com/moby/buildkit/util/entitlements"
	"github.com/sirupsen/logrus"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
)

// Daemons are the daemons of one provider builder block.
type Daemons struct {
	// Name is the builder block's name, for messages.
	Name      string
	Addresses []string
	// CertPath holds ca.pem, cert.pem and key.pem for mutual TLS (as
	// buildctl's --tlscacert, --tlscert, --tlskey); empty for none.
	CertPath string
}

// Options describe one build. The embedded engine options keep their
// meaning; Platform is used when Platforms is empty.
type Options struct {
	dockerbuild.Options
	Platforms []string
	// CacheTo are --export-cache specs: type=registry,ref=...[,mode=max],
	// type=local,dest=..., type=inline.
	CacheTo []string
	// Provenance is "", "min" or "max".
	Provenance string
	// SBOM asks for an SBOM attestation (--sbom), made by SBOMGenerator,
	// an image of BuildKit's SBOM generator protocol; "" is BuildKit's
	// default (docker/buildkit-syft-scanner).
	SBOM          bool
	SBOMGenerator string
	// PushRepository is pushed by digest (no tag is made); empty for no push.
	PushRepository string
	// PushTags are refs also pushed with their tags (extra tags).
	PushTags []string
	// Load, when set, receives the image as a `docker load` tarball
	// naming LoadName, and must read it to the end.
	Load     func(ctx context.Context, tarball io.Reader) error
	LoadName string
	// ConnectTimeout bounds the check that a daemon answers; 0 is 10 s.
	ConnectTimeout time.Duration
}

// ErrLoad marks a failure of the load into the Docker engine.
var ErrLoad = errors.New("loading the image")

// Result is what a build produced; on failure, what was seen of it.
type Result struct {
	// Daemon is the address of the daemon that built the image.
	Daemon string
	// Digest is the pushed manifest's or index's digest.
	Digest string
	Stages []dockerbuild.Stage
}

// Build builds opts on the first daemon, in the order of repository's hash
// (see Order), that answers. Errors name the daemon.
func Build(ctx context.Context, d Daemons, repository string, opts Options) (*Result, error) {
	// BuildKit's client logs its warnings (a missing local cache, say) to
	// stderr, which Terraform would show as the provider's own output.
	quiet := logrus.New()
	quiet.Out = io.Discard
	ctx = bklog.WithLogger(ctx, logrus.NewEntry(quiet))

	c, address, err := connect(ctx, d, repository, opts)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	result, err := solve(ctx, c, address, opts)
	if result != nil {
		result.Daemon = address
	}
	return result, err
}

// connect returns a client of the first daemon in hash order that lists
// its workers. A daemon that does not answer is skipped, and logged.
func connect(ctx context.Context, d Daemons, repository string, opts Options) (*client.Client, string, error) {
	var tlsOpts []func(address string) []client.ClientOpt
	if d.CertPath != "" {
		files := map[string]string{}
		for _, name := range []string{"ca.pem", "cert.pem", "key.pem"} {
			path := filepath.Join(d.CertPath, name)
			if _, err := os.Stat(path); err != nil {
				return nil, "", fmt.Errorf("builder %q: cert_path %s has no %s (%v); it must hold ca.pem, cert.pem and key.pem, "+
					"as buildctl's --tlscacert, --tlscert and --tlskey", d.Name, d.CertPath, name, err)
			}
			files[name] = path
		}
		tlsOpts = append(tlsOpts, func(address string) []client.ClientOpt {
			return []client.ClientOpt{
				client.WithServerConfig(serverName(address), files["ca.pem"]),
				client.WithCredentials(files["cert.pem"], files["key.pem"]),
			}
		})
	}
	timeout := opts.ConnectTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	var failures []string
	for _, address := range Order(d.Addresses, repository) {
		var copts []client.ClientOpt
		for _, o := range tlsOpts {
			copts = append(copts, o(address)...)
		}
		c, err := client.New(ctx, address, copts...)
		if err == nil {
			pingCtx, cancel := context.WithTimeout(ctx, timeout)
			var info *client.Info
			info, err = c.Info(pingCtx)
			cancel()
			if err == nil {
				if opts.LogLine != nil {
					opts.LogLine(fmt.Sprintf("building on buildkitd %s (builder %q, BuildKit %s)", address, d.Name, info.BuildkitVersion.Version))
				}
				return c, address, nil
			}
			c.Close()
		}
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("build cancelled: %w", context.Cause(ctx))
		}
		failures = append(failures, fmt.Sprintf("%s: %v", address, err))
		if opts.LogLine != nil {
			opts.LogLine(fmt.Sprintf("buildkitd %s does not answer, trying the next daemon of builder %q: %v", address, d.Name, err))
		}
	}
	return nil, "", fmt.Errorf("no daemon of builder %q answers:\n  %s\ncheck that buildkitd runs at those addresses and listens there (buildkitd --addr), "+
		"and, with TLS, that cert_path holds a CA, certificate and key the daemons accept", d.Name, strings.Join(failures, "\n  "))
}

// SolveOpt is the solve that opts describe, without the session's
// attachables; exported for the tests of the attributes it sets.
func SolveOpt(opts Options) (client.SolveOpt, error) {
	// The engine path's attributes (Dockerfile, target, args, labels,
	// no-cache, hosts, shm, ulimits, network, pull, named contexts); cache
	// sources go as cache imports instead, which Solve passes on.
	engineOpts := opts.Options
	engineOpts.CacheFrom = nil
	attrs, err := dockerbuild.FrontendAttrs(engineOpts)
	if err != nil {
		return client.SolveOpt{}, err
	}
	platforms := opts.Platforms
	if len(platforms) == 0 && opts.Platform != "" {
		platforms = []string{opts.Platform}
	}
	if len(platforms) > 0 {
		attrs["platform"] = strings.Join(platforms, ",")
	}
	var entitled []string
	if opts.Network == "host" {
		entitled = append(entitled, string(entitlements.EntitlementNetworkHost))
	}
	if opts.Provenance != "" {
		attrs["attest:provenance"] = "mode=" + opts.Provenance
	}
	if opts.SBOM {
		attrs["attest:sbom"] = ""
		if opts.SBOMGenerator != "" {
			attrs["attest:sbom"] = "generator=" + opts.SBOMGenerator
		}
	}
	imports, err := ParseCacheFrom(opts.CacheFrom)
	if err != nil {
		return client.SolveOpt{}, err
	}
	exports, err := ParseCacheTo(opts.CacheTo)
	if err != nil {
		return client.SolveOpt{}, err
	}
	var outputs []client.ExportEntry
	if opts.PushRepository != "" {
		outputs = append(outputs, client.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{
			"name": opts.PushRepository, "push": "true", "push-by-digest": "true",
		}})
	}
	if len(opts.PushTags) > 0 {
		outputs = append(outputs, client.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{
			"name": strings.Join(opts.PushTags, ","), "push": "true",
		}})
	}
	for _, e := range opts.Exports {
		entry := client.ExportEntry{Type: e.Type, Attrs: e.Attrs}
		if e.WritesFile() {
			entry.Output = e.FileOutput()
		} else {
			entry.OutputDir = e.Dest
		}
		outputs = append(outputs, entry)
	}
	return client.SolveOpt{
		Exports:             outputs,
		Frontend:            "dockerfile.v0",
		FrontendAttrs:       attrs,
		CacheImports:        imports,
		CacheExports:        exports,
		AllowedEntitlements: entitled,
	}, nil
}

// ParseCacheFrom reads cache_from entries: a type=registry|local|...
// spec, or an image ref (type=registry,ref=REF), as buildx does.
func ParseCacheFrom(specs []string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for _, spec := range specs {
		if !strings.Contains(spec, "type=") {
			out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": spec}})
			continue
		}
		entries, err := buildctl.ParseImportCache([]string{spec})
		if err != nil {
			return nil, fmt.Errorf("cache_from %q: %v; write type=registry,ref=REF or type=local,src=DIR", spec, err)
		}
		out = append(out, entries...)
	}
	return out, nil
}

// ParseCacheTo reads cache_to specs and checks what each type needs.
func ParseCacheTo(specs []string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for _, spec := range specs {
		if err := ValidateCacheTo(spec); err != nil {
			return nil, err
		}
		entries, err := buildctl.ParseExportCache([]string{spec})
		if err != nil {
			return nil, err
		}
		out = append(out, entries...)
	}
	return out, nil
}

// ValidateCacheTo checks one cache_to spec: type=registry,ref=REF[,mode=min|max],
// type=local,dest=DIR[,mode=...] or type=inline.
func ValidateCacheTo(spec string) error {
	const write = "write type=registry,ref=REGISTRY/REPO:TAG[,mode=max], type=local,dest=DIR[,mode=max] or type=inline"
	if !strings.Contains(spec, "type=") {
		return fmt.Errorf("cache_to %q has no type; %s", spec, write)
	}
	entries, err := buildctl.ParseExportCache([]string{spec})
	if err != nil {
		return fmt.Errorf("cache_to %q: %v; %s", spec, err, write)
	}
	e := entries[0]
	switch e.Type {
	case "registry":
		if e.Attrs["ref"] == "" {
			return fmt.Errorf("cache_to %q: type=registry needs ref=; %s", spec, write)
		}
	case "local":
		if e.Attrs["dest"] == "" {
			return fmt.Errorf("cache_to %q: type=local needs dest=; %s", spec, write)
		}
	case "inline":
	default:
		return fmt.Errorf("cache_to %q: type %q is not supported; %s", spec, e.Type, write)
	}
	if m := e.Attrs["mode"]; m != "min" && m != "max" {
		return fmt.Errorf("cache_to %q: mode must be min or max; %s", spec, write)
	}
	return nil
}

// ValidateCacheFrom checks one cache_from entry: an image ref (checked
// elsewhere) or a type=registry,ref=... / type=local,src=... spec.
func ValidateCacheFrom(spec string) error {
	const write = "write an image ref, type=registry,ref=REGISTRY/REPO:TAG or type=local,src=DIR"
	entries, err := buildctl.ParseImportCache([]string{spec})
	if err != nil {
		return fmt.Errorf("cache_from %q: %v; %s", spec, err, write)
	}
	e := entries[0]
	switch e.Type {
	case "registry":
		if e.Attrs["ref"] == "" {
			return fmt.Errorf("cache_from %q: type=registry needs ref=; %s", spec, write)
		}
	case "local":
		if e.Attrs["src"] == "" {
			return fmt.Errorf("cache_from %q: type=local needs src=; %s", spec, write)
		}
	case "gha", "s3", "azblob":
	default:
		return fmt.Errorf("cache_from %q: type %q is not supported; %s", spec, e.Type, write)
	}
	return nil
}

func solve(ctx context.Context, c *client.Client, address string, opts Options) (*Result, error) {
	result := &Result{}
	solveOpt, err := SolveOpt(opts)
	if err != nil {
		return result, err
	}
	parts, err := dockerbuild.NewSessionParts(opts.Options)
	if err != nil {
		return result, err
	}
	defer parts.Cleanup()
	solveOpt.LocalMounts = parts.Mounts
	solveOpt.Session = parts.Attachables
	solveOpt.SharedKey = parts.SharedKey

	redact := dockerbuild.NewRedactor(opts.Options)
	logLine := opts.LogLine
	if logLine != nil {
		logLine = func(line string) { opts.LogLine(redact.Line(line)) }
	}

	// The tarball of a load goes to the engine as the daemon sends it.
	loadDone := make(chan error, 1)
	loading := false
	if opts.Load != nil {
		attrs := map[string]string{}
		if opts.LoadName != "" {
			attrs["name"] = opts.LoadName
		}
		solveOpt.Exports = append(solveOpt.Exports, client.ExportEntry{
			Type:  client.ExporterDocker,
			Attrs: attrs,
			Output: func(map[string]string) (io.WriteCloser, error) {
				pr, pw := io.Pipe()
				loading = true
				go func() {
					err := opts.Load(ctx, pr)
					pr.CloseWithError(err)
					loadDone <- err
				}()
				return pw, nil
			},
		})
	}

	statuses := make(chan *client.SolveStatus)
	recorder := dockerbuild.NewStatusRecorder(logLine)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for s := range statuses {
			for _, r := range s.Marshal() {
				recorder.Add(r)
			}
		}
	}()
	started := time.Now()
	resp, solveErr := c.Solve(ctx, nil, solveOpt, statuses)
	<-recorded
	daemonStage := dockerbuild.Stage{Name: "buildkitd " + address, Started: &started}
	finished := time.Now()
	daemonStage.Completed = &finished
	result.Stages = append([]dockerbuild.Stage{daemonStage}, recorder.Stages()...)

	var err2 error
	switch {
	case solveErr != nil && ctx.Err() != nil:
		err2 = fmt.Errorf("build cancelled: %w", context.Cause(ctx))
	case solveErr != nil:
		// Masked before it is wrapped: a wrapper's text is fixed when made.
		var failure error
		result.Stages, failure = redact.Result(result.Stages, recorder.Failure(solveErrorMessage(solveErr)))
		err2 = fmt.Errorf("build on buildkitd %s: %w", address, failure)
	}
	if loading && solveErr == nil {
		if err := <-loadDone; err != nil {
			err2 = fmt.Errorf("%w built on buildkitd %s into the Docker engine: %w", ErrLoad, address, err)
		}
	}
	if err2 == nil && opts.PushRepository != "" {
		result.Digest = resp.ExporterResponse["containerimage.digest"]
		if result.Digest == "" {
			err2 = fmt.Errorf("buildkitd %s pushed %s without reporting its digest", address, opts.PushRepository)
		}
	}
	result.Stages, err2 = redact.Result(result.Stages, err2)
	return result, err2
}

// solveErrorMessage is the daemon's message without grpc's wrapping.
func solveErrorMessage(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"rpc error: code = Unknown desc = ", "rpc error: code = Unavailable desc = ", "failed to solve: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	return msg
}

package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
)

// The arguments of imagebuild_docker_image that the seed lacks (issue 16):
// their plan checks, digest and build options. Each is digested only when
// set, so that configurations without them keep their digests.

// surfaceKnown says whether the new arguments are known at plan time.
// secret_values_wo is not among them: write-only, it is null in the plan.
func (m *dockerImageModel) surfaceKnown() bool {
	return allKnown(m.Dockerfile, m.Labels, m.NoCache, m.AddHosts, m.ShmSize, m.Ulimits, m.BuildContexts, m.SecretValuesWOVersion)
}

// checkSurface checks at plan time what validate must not: the Dockerfile
// and the named contexts' directories, and the cache sources the Docker
// engine's builder cannot read.
func checkSurface(ctx context.Context, m *dockerImageModel, diags *diag.Diagnostics) {
	if !m.Dockerfile.IsNull() && !m.Dockerfile.IsUnknown() {
		p := m.Dockerfile.ValueString()
		info, err := os.Stat(p)
		switch {
		case err != nil:
			diags.AddAttributeError(path.Root("dockerfile"), "Dockerfile not found",
				fmt.Sprintf("%v. Write the path of the Dockerfile; a relative path is taken from %s.", err, workingDir()))
		case info.IsDir():
			diags.AddAttributeError(path.Root("dockerfile"), "Dockerfile is a directory",
				fmt.Sprintf("%s is a directory. Write the path of the file itself, e.g. %s.", p, filepath.Join(p, "Dockerfile")))
		}
	}
	if !m.BuildContexts.IsNull() && !m.BuildContexts.IsUnknown() {
		for name, e := range m.BuildContexts.Elements() {
			s, ok := e.(types.String)
			if !ok || s.IsNull() || s.IsUnknown() || strings.HasPrefix(s.ValueString(), dockerbuild.NamedContextImagePrefix) {
				continue
			}
			dir := s.ValueString()
			info, err := os.Stat(dir)
			switch {
			case err != nil:
				diags.AddAttributeError(path.Root("build_contexts").AtMapKey(name), "Build context not found",
					fmt.Sprintf("%v. Write the path of a directory (a relative path is taken from %s), or docker-image://IMAGE.", err, workingDir()))
			case !info.IsDir():
				diags.AddAttributeError(path.Root("build_contexts").AtMapKey(name), "Build context is not a directory",
					fmt.Sprintf("%s is a file. Write the directory that holds the files (COPY --from=%s copies from it), or docker-image://IMAGE.", dir, name))
			}
		}
	}
	// A BuildKit builder imports every type; the engine only images.
	if m.Builder.IsNull() && !m.CacheFrom.IsNull() && !m.CacheFrom.IsUnknown() {
		for i, e := range m.CacheFrom.Elements() {
			s, ok := e.(types.String)
			if !ok || s.IsNull() || s.IsUnknown() {
				continue
			}
			src, err := dockerbuild.ParseCacheFrom(s.ValueString())
			if err == nil {
				_, err = dockerbuild.EngineCacheRef(src)
			}
			if err != nil {
				diags.AddAttributeError(path.Root("cache_from").AtListIndex(i), "Cache source not supported", err.Error())
			}
		}
	}
}

// contextIgnoreFile is the ignore file that filters the context, as the
// build will apply it (see dockerbuild.ContextIgnoreFile).
func (m *dockerImageModel) contextIgnoreFile(contextDir string) string {
	opts := dockerbuild.Options{ContextDir: contextDir}
	if !m.DockerfileContents.IsNull() {
		contents := m.DockerfileContents.ValueString()
		opts.DockerfileContents = &contents
	}
	if !m.Dockerfile.IsNull() {
		opts.DockerfilePath, _ = filepath.Abs(m.Dockerfile.ValueString())
	}
	return dockerbuild.ContextIgnoreFile(opts)
}

// canonicalCacheFrom is cache_from as the digest takes it: a
// type=registry,ref=IMAGE spec is the image alone, so that either spelling
// digests the same (and a list of plain images as it always did).
func canonicalCacheFrom(specs []string) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s
		if src, err := dockerbuild.ParseCacheFrom(s); err == nil {
			if ref, err := dockerbuild.EngineCacheRef(src); err == nil {
				out[i] = ref
			}
		}
	}
	return out
}

// engineCacheFrom is cache_from as the engine's build endpoint takes it.
func engineCacheFrom(specs []string) ([]string, error) {
	var out []string
	for _, s := range specs {
		src, err := dockerbuild.ParseCacheFrom(s)
		if err != nil {
			return nil, fmt.Errorf("cache_from: %w", err)
		}
		ref, err := dockerbuild.EngineCacheRef(src)
		if err != nil {
			return nil, fmt.Errorf("cache_from %q: %w", s, err)
		}
		out = append(out, ref)
	}
	return out, nil
}

// addSurfaceInputs digests the new arguments that are set. It returns
// false, with the error on the attribute, when one cannot be read.
func (m *dockerImageModel) addSurfaceInputs(ctx context.Context, data *providerData, in buildInputs, diags *diag.Diagnostics) bool {
	in.addMap(ctx, "labels", m.Labels)
	in.addBool("no_cache", m.NoCache, false)
	if hosts := listStrings(ctx, m.AddHosts); len(hosts) > 0 {
		for i, h := range hosts {
			if norm, err := dockerbuild.ParseExtraHost(h); err == nil {
				hosts[i] = norm
			}
		}
		in.add("add_hosts", hosts)
	}
	if !m.ShmSize.IsNull() {
		if n, err := dockerbuild.ParseShmSize(m.ShmSize.ValueString()); err == nil {
			in.add("shm_size", strconv.FormatInt(n, 10))
		} else {
			in.add("shm_size", m.ShmSize.ValueString())
		}
	}
	if ulimits := listStrings(ctx, m.Ulimits); len(ulimits) > 0 {
		for i, u := range ulimits {
			if parsed, err := dockerbuild.ParseUlimit(u); err == nil {
				ulimits[i] = parsed.String()
			}
		}
		in.add("ulimits", ulimits)
	}
	in.addString("secret_values_wo_version", m.SecretValuesWOVersion, "")

	contexts := mapStrings(ctx, m.BuildContexts)
	if len(contexts) == 0 {
		return true
	}
	digests := map[string]string{}
	var listings []buildcontext.Listing
	for name, v := range contexts {
		if strings.HasPrefix(v, dockerbuild.NamedContextImagePrefix) {
			digests[name] = v
			continue
		}
		dir, err := filepath.Abs(v)
		var tree buildcontext.Tree
		if err == nil {
			tree, err = data.digesterFor(ctx).ContextTree(ctx, dir, "")
		}
		if err != nil {
			diags.AddAttributeError(path.Root("build_contexts").AtMapKey(name), "Cannot read the build context", err.Error())
			return false
		}
		digests[name] = tree.Digest
		// Named "<name>:<path>", so that a changed path says its context.
		listings = append(listings, tree.Listing.Prefixed(name+":"))
	}
	in.add(buildContextsInput, digests)
	if len(listings) > 0 {
		m.addListing(buildContextsInput, buildcontext.Merge(listings...))
	}
	return true
}

// surfaceOptions sets the new arguments in opts. config is the
// configuration as written, where the write-only secret values are.
func (m *dockerImageModel) surfaceOptions(ctx context.Context, config *dockerImageModel, opts *dockerbuild.Options) error {
	if !m.Dockerfile.IsNull() {
		p, err := filepath.Abs(m.Dockerfile.ValueString())
		if err != nil {
			return fmt.Errorf("dockerfile: %w", err)
		}
		opts.DockerfilePath = p
	}
	opts.Labels = mapStrings(ctx, m.Labels)
	opts.NoCache = m.NoCache.ValueBool()
	for _, h := range listStrings(ctx, m.AddHosts) {
		norm, err := dockerbuild.ParseExtraHost(h)
		if err != nil {
			return fmt.Errorf("add_hosts: %w", err)
		}
		opts.ExtraHosts = append(opts.ExtraHosts, norm)
	}
	if !m.ShmSize.IsNull() {
		n, err := dockerbuild.ParseShmSize(m.ShmSize.ValueString())
		if err != nil {
			return fmt.Errorf("shm_size: %w", err)
		}
		opts.ShmSize = n
	}
	for _, u := range listStrings(ctx, m.Ulimits) {
		parsed, err := dockerbuild.ParseUlimit(u)
		if err != nil {
			return fmt.Errorf("ulimits: %w", err)
		}
		opts.Ulimits = append(opts.Ulimits, parsed)
	}
	for name, v := range mapStrings(ctx, m.BuildContexts) {
		if opts.NamedContexts == nil {
			opts.NamedContexts = map[string]string{}
		}
		if !strings.HasPrefix(v, dockerbuild.NamedContextImagePrefix) {
			abs, err := filepath.Abs(v)
			if err != nil {
				return fmt.Errorf("build_contexts[%q]: %w", name, err)
			}
			v = abs
		}
		opts.NamedContexts[name] = v
	}
	if config == nil {
		return nil
	}
	values := mapStrings(ctx, config.SecretValuesWO)
	if len(values) == 0 {
		return nil
	}
	fromSpecs := map[string]bool{}
	for _, spec := range opts.Secrets {
		if id := dockerbuild.SecretID(spec); id != "" {
			fromSpecs[id] = true
		}
	}
	opts.SecretValues = map[string][]byte{}
	for id, v := range values {
		if fromSpecs[id] {
			return fmt.Errorf("the secret ID %q is in both secrets and secret_values_wo; give it in only one of them", id)
		}
		opts.SecretValues[id] = []byte(v)
	}
	return nil
}

// engineFeature is an argument that only newer engines honour.
type engineFeature struct {
	argument string
	// why an older engine cannot, and what to do there instead.
	why, instead string
	// api is the first Engine API version (of Docker release docker) that
	// can; "" is minFeatureAPI (Docker 23.0).
	api, docker string
}

// minAPI is the Engine API version and Docker release f needs.
func (f engineFeature) minAPI() (api, docker string) {
	if f.api == "" {
		return minFeatureAPI, "23.0"
	}
	return f.api, f.docker
}

// minFeatureAPI is the first Engine API version whose BuildKit honours
// shm_size and ulimits in RUN steps and has named contexts: Docker 23.0,
// with BuildKit 0.10's Dockerfile frontend. Docker 20.10 (API 1.41) ignores
// the first two silently and has no named contexts (checked); Docker 29
// (API 1.52 and later) honours all three (checked).
const minFeatureAPI = "1.42"

// engineNeeds lists what opts asks of the engine beyond what every
// supported engine does.
func engineNeeds(opts dockerbuild.Options) []engineFeature {
	var needs []engineFeature
	if opts.ShmSize > 0 {
		needs = append(needs, engineFeature{argument: "shm_size", why: "its BuildKit ignores shm_size in RUN steps",
			instead: "or remove shm_size and give a step a larger /dev/shm with RUN --mount=type=tmpfs,target=/dev/shm"})
	}
	if len(opts.Ulimits) > 0 {
		needs = append(needs, engineFeature{argument: "ulimits", why: "its BuildKit ignores ulimits in RUN steps",
			instead: "or remove ulimits (RUN steps then have the daemon's limits: dockerd --default-ulimit sets them)"})
	}
	if len(opts.NamedContexts) > 0 {
		needs = append(needs, engineFeature{argument: "build_contexts", why: "its Dockerfile frontend has no named contexts",
			instead: "or remove build_contexts: copy the directory into the context, or for docker-image://IMAGE write a stage FROM IMAGE AS NAME"})
	}
	return append(needs, exportsNeed(opts)...)
}

// checkEngineSupports fails, naming the engine and its version, when the
// engine cannot honour an argument that is set: building without it would
// make another image than the configuration says.
func checkEngineSupports(ctx context.Context, e *engine.Engine, needs []engineFeature) error {
	if len(needs) == 0 {
		return nil
	}
	v, err := e.ServerVersion(ctx)
	if err != nil {
		return err
	}
	var lines []string
	for _, n := range needs {
		api, docker := n.minAPI()
		if !v.APIAtLeast(api) {
			lines = append(lines, fmt.Sprintf("%s: %s; use an engine of Docker %s or later (API %s), %s", n.argument, n.why, docker, api, n.instead))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	sort.Strings(lines)
	return fmt.Errorf("the Docker engine at %s is %s, which cannot honour every argument, so nothing was built:\n  %s",
		e.Describe(), v, strings.Join(lines, "\n  "))
}

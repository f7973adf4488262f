package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildkitd"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/engine"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

// BuildKit builders: provider `builder` blocks name BuildKit daemons that
// build docker_image's images instead of the Docker engine.

type builderModel struct {
	Name     types.String `tfsdk:"name"`
	BuildKit types.List   `tfsdk:"buildkit"`
	CertPath types.String `tfsdk:"cert_path"`
	Insecure types.Bool   `tfsdk:"insecure"`
}

// builderSet is the provider's builder blocks by name.
type builderSet struct {
	byName map[string]buildkitd.Daemons
	// namesUnknown: some block's name is not known until apply.
	namesUnknown bool
}

func builderBlock() providerschema.Block {
	return providerschema.ListNestedBlock{
		Description: "BuildKit daemons that build the `imagebuild_docker_image` resources whose `builder` names this block, instead of the " +
			"Docker engine: a `buildkitd` on a build host, or a fleet of them. No Docker engine is needed for their builds unless `load = true`.",
		NestedObject: providerschema.NestedBlockObject{
			Attributes: map[string]providerschema.Attribute{
				"name": providerschema.StringAttribute{
					Required:    true,
					Description: "Name that resources give in their `builder` argument.",
					Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
				},
				"buildkit": providerschema.ListAttribute{
					Required:    true,
					ElementType: types.StringType,
					Description: "Addresses of the daemons, as buildctl's `--addr`: `tcp://HOST:PORT` or `unix:///PATH`. With several, each image always " +
						"goes to the same daemon (a stable hash of its repository), so its cache stays warm; when that daemon does not answer, " +
						"the next one in the hash order builds it. A `tcp://` address that is not a loopback one (`127.0.0.0/8`, `::1`, " +
						"`localhost`) needs `cert_path`, or `insecure = true`: every registry credential, secret and SSH agent of a build " +
						"passes through the daemon's session.",
					Validators: []validator.List{
						listvalidator.SizeAtLeast(1),
						listvalidator.ValueStringsAre(stringCheck{"BuildKit address", buildkitd.ValidateAddress}),
					},
				},
				"cert_path": providerschema.StringAttribute{
					Optional: true,
					Description: "Directory holding `ca.pem`, `cert.pem` and `key.pem` for mutual TLS with the daemons (buildctl's `--tlscacert`, " +
						"`--tlscert`, `--tlskey`). Read when a build connects.",
					Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
				},
				"insecure": providerschema.BoolAttribute{
					Optional: true,
					Description: "`true`: allow `tcp://` daemons on other hosts without `cert_path`, in the clear. Their builds' registry " +
						"credentials, secrets and SSH agent then cross the network unencrypted, and anyone who can reach the port can " +
						"build there; use it only on a network you trust. Loopback and `unix://` addresses need nothing.",
				},
			},
			Validators: []validator.Object{plainBuilderCheck{}},
		},
	}
}

// plainBuilderCheck refuses, at plan, a builder block that would send its
// builds' credentials, secrets and SSH agent over a network in the clear,
// unless the block says insecure = true.
type plainBuilderCheck struct{}

func (plainBuilderCheck) Description(context.Context) string {
	return "a tcp:// daemon on another host needs cert_path or insecure = true"
}

func (v plainBuilderCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (plainBuilderCheck) ValidateObject(ctx context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	certPath, _ := attrs["cert_path"].(types.String)
	insecure, _ := attrs["insecure"].(types.Bool)
	addresses, _ := attrs["buildkit"].(types.List)
	if certPath.IsUnknown() || insecure.IsUnknown() || insecure.ValueBool() || addresses.IsNull() || addresses.IsUnknown() {
		return
	}
	withTLS := !certPath.IsNull()
	for i, element := range addresses.Elements() {
		address, ok := element.(types.String)
		if !ok || address.IsNull() || address.IsUnknown() || !buildkitd.ExposedWithoutTLS(address.ValueString(), withTLS) {
			continue
		}
		resp.Diagnostics.AddAttributeError(req.Path.AtName("buildkit").AtListIndex(i), "BuildKit daemon reached without TLS",
			fmt.Sprintf("%s is on another host and this builder block has no cert_path, so every registry credential, secret and "+
				"SSH agent of its builds would cross the network unencrypted. Set cert_path to a directory holding ca.pem, cert.pem "+
				"and key.pem for mutual TLS (buildkitd's --tlscacert, --tlscert, --tlskey), or, only on a network you trust, "+
				"set insecure = true in this builder block.", address.ValueString()))
	}
}

// configureBuilders reads the provider's builder blocks.
func configureBuilders(ctx context.Context, blocks []builderModel, diags *diag.Diagnostics) builderSet {
	set := builderSet{byName: map[string]buildkitd.Daemons{}}
	for i, b := range blocks {
		if b.Name.IsUnknown() {
			set.namesUnknown = true
			continue
		}
		name := b.Name.ValueString()
		if _, dup := set.byName[name]; dup {
			diags.AddAttributeError(path.Root("builder").AtListIndex(i).AtName("name"), "Duplicate builder name",
				fmt.Sprintf("A builder named %q is already defined; give each builder block its own name.", name))
			continue
		}
		set.byName[name] = buildkitd.Daemons{Name: name, Addresses: listStrings(ctx, b.BuildKit), CertPath: b.CertPath.ValueString()}
	}
	return set
}

// Attributes of docker_image for builders.
func builderAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"builder": schema.StringAttribute{
			Optional: true,
			Description: "Name of a provider `builder` block: its BuildKit daemons build the image, as `docker buildx build --builder`. " +
				"Null: the Docker engine builds it. The image must go somewhere: to the cluster's registry (`cluster_needs = \"push\"`, " +
				"the default, with a cluster that has a registry) and/or into the Docker engine (`load = true`).",
			Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		"load": schema.BoolAttribute{
			Optional: true,
			Description: "With a `builder`: also load the image into the Docker engine, as `--load` (one platform only). " +
				"The engine is then needed, and `status.ref` names the image there.",
		},
		"platforms": schema.ListAttribute{
			Optional:    true,
			ElementType: types.StringType,
			Description: "Target platforms, as `--platform a,b`. Two or more build a manifest list, which needs a `builder` and a push. Conflicts with `platform`.",
			Validators: []validator.List{
				listvalidator.SizeAtLeast(1),
				uniquePlatforms{},
				listvalidator.ValueStringsAre(platformValidator()),
				listvalidator.ConflictsWith(path.MatchRoot("platform")),
			},
		},
		"cache_to": stringListAttribute("Cache exports, as `--cache-to`: `type=registry,ref=REGISTRY/REPO:TAG[,mode=max]`, "+
			"`type=local,dest=DIR[,mode=max]` or `type=inline`. Only `type=inline` works without a `builder`.",
			stringCheck{"cache_to spec", buildkitd.ValidateCacheTo}),
		"attest_provenance": schema.StringAttribute{
			Optional:    true,
			Description: "Provenance attestation, as `--provenance`: `min` or `max`. BuildKit builders only. The pushed image is then an OCI index holding the image manifest and an attestation manifest; null (the default): none, and a single-platform image is pushed as one manifest.",
			Validators: []validator.String{stringCheck{"provenance mode", func(s string) error {
				if s != "min" && s != "max" {
					return fmt.Errorf("%q is not a provenance mode; write \"min\" or \"max\", or remove the argument for no attestation", s)
				}
				return nil
			}}},
		},
	}
}

// uniquePlatforms refuses a platform listed twice.
type uniquePlatforms struct{}

func (uniquePlatforms) Description(context.Context) string         { return "each platform once" }
func (uniquePlatforms) MarkdownDescription(context.Context) string { return "each platform once" }

func (uniquePlatforms) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	seen := map[string]bool{}
	for i, e := range req.ConfigValue.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsNull() || s.IsUnknown() {
			continue
		}
		if seen[s.ValueString()] {
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Duplicate platform",
				fmt.Sprintf("%q is listed twice; list each platform once.", s.ValueString()))
		}
		seen[s.ValueString()] = true
	}
}

// addBuilderInputs digests the builder arguments that are set.
func addBuilderInputs(ctx context.Context, in buildInputs, m *dockerImageModel) {
	in.addString("builder", m.Builder, "")
	in.addBool("load", m.Load, false)
	in.addList(ctx, "platforms", m.Platforms)
	in.addList(ctx, "cache_to", m.CacheTo)
	in.addString("attest_provenance", m.AttestProvenance, "")
}

func builderInputsKnown(m *dockerImageModel) bool {
	return allKnown(m.Builder, m.Load, m.Platforms, m.CacheTo, m.AttestProvenance)
}

// checkProvider checks, at plan, what depends on the provider's blocks:
// the builder exists, and the arguments that only a builder takes.
func (dockerImageKind) checkProvider(ctx context.Context, data *providerData, model kindModel, cluster Cluster, clusterKnown bool, diags *diag.Diagnostics) {
	m := model.(*dockerImageModel)
	checkImageMaps(ctx, m, cluster, clusterKnown, diags)
	checkOutputsProvider(m, diags)
	platforms := listStrings(ctx, m.Platforms)
	if m.Builder.IsNull() {
		if len(platforms) > 1 {
			diags.AddAttributeError(path.Root("platforms"), "Several platforms need a BuildKit builder",
				"Two or more platforms build a manifest list, which the Docker engine cannot: set builder to the name of a provider "+
					"builder block (and build for a cluster with a registry), or give one platform.")
		}
		if !m.Load.IsNull() {
			diags.AddAttributeError(path.Root("load"), "load needs a BuildKit builder",
				"An image the Docker engine builds is always in the engine: remove load, or set builder to the name of a provider builder block.")
		}
		if !m.AttestProvenance.IsNull() {
			diags.AddAttributeError(path.Root("attest_provenance"), "attest_provenance needs a BuildKit builder",
				"The Docker engine's builds carry no attestations: remove attest_provenance, or set builder to the name of a provider builder block.")
		}
		for i, spec := range listStrings(ctx, m.CacheTo) {
			if !isInlineCache(spec) {
				diags.AddAttributeError(path.Root("cache_to").AtListIndex(i), "cache_to needs a BuildKit builder",
					fmt.Sprintf("The Docker engine can only export inline cache: write \"type=inline\" instead of %q, or set builder to the name "+
						"of a provider builder block.", spec))
			}
		}
		return
	}
	if m.Builder.IsUnknown() {
		return
	}
	name := m.Builder.ValueString()
	if _, ok := data.builders.byName[name]; !ok {
		if !data.builders.namesUnknown {
			diags.AddAttributeError(path.Root("builder"), "Unknown builder",
				fmt.Sprintf("No provider builder block is named %q. Add `builder { name = %q, buildkit = [\"tcp://HOST:PORT\"] }` to the provider, "+
					"or remove the argument to build with the Docker engine.", name, name))
		}
		return
	}
	for i, spec := range listStrings(ctx, m.CacheFrom) {
		if strings.Contains(spec, "type=") {
			if err := buildkitd.ValidateCacheFrom(spec); err != nil {
				diags.AddAttributeError(path.Root("cache_from").AtListIndex(i), "Invalid cache source", err.Error())
			}
		}
	}
	if m.Load.ValueBool() && len(platforms) > 1 {
		diags.AddAttributeError(path.Root("load"), "load takes one platform",
			"The Docker engine cannot load a manifest list: give one platform, or set load = false and pull the image from the cluster's registry.")
	}
	if !clusterKnown || m.ClusterNeeds.IsUnknown() || m.Load.IsUnknown() || m.Load.ValueBool() || m.Ref.IsUnknown() {
		return
	}
	target, err := newBuildTarget(cluster, m.Ref.ValueString())
	if err == nil && !target.needsPush(m.ClusterNeeds.ValueString()) {
		why := fmt.Sprintf("cluster %q has no registry and ref names none", cluster.Name)
		if target.refNamesRegistry || cluster.RegistryHost != "" {
			why = "cluster_needs is \"" + m.ClusterNeeds.ValueString() + "\""
		}
		diags.AddAttributeError(path.Root("builder"), "The image of a BuildKit builder must go somewhere",
			fmt.Sprintf("A BuildKit daemon keeps no image of its own, and here it would be neither pushed (%s) nor loaded: set load = true "+
				"to load it into the Docker engine, or push it: write a ref that names a registry (registry.example.com/team/api), or "+
				"build for a cluster with a registry (a provider cluster block with registry { host = ... }), with cluster_needs = \"push\".", why))
	}
}

func isInlineCache(spec string) bool {
	entries, err := buildkitd.ParseCacheTo([]string{spec})
	return err == nil && len(entries) == 1 && entries[0].Type == "inline"
}

// withEngineCacheTo applies cache_to = ["type=inline"] on the engine path:
// the engine's BuildKit exports inline cache when asked by build arg.
func withEngineCacheTo(ctx context.Context, m *dockerImageModel, opts dockerbuild.Options) dockerbuild.Options {
	if len(listStrings(ctx, m.CacheTo)) == 0 {
		return opts
	}
	one := "1"
	args := map[string]*string{"BUILDKIT_INLINE_CACHE": &one}
	for k, v := range opts.BuildArgs {
		args[k] = v
	}
	opts.BuildArgs = args
	return opts
}

// registryOnly says whether m's image lives only in a registry: a builder
// pushed it and no engine holds it, so Read asks the registry, not the engine.
func (dockerImageKind) registryOnly(ctx context.Context, state attributeGetter) bool {
	var builder types.String
	var load types.Bool
	state.GetAttribute(ctx, path.Root("builder"), &builder)
	state.GetAttribute(ctx, path.Root("load"), &load)
	return !builder.IsNull() && !load.ValueBool()
}

// newBuildkitBuild prepares m's build on the builder it names.
func newBuildkitBuild(ctx context.Context, data *providerData, m *dockerImageModel, opts dockerbuild.Options, target buildTarget) (imageBuilder, error) {
	daemons, ok := data.builders.byName[m.Builder.ValueString()]
	if !ok {
		return nil, fmt.Errorf("no provider builder block is named %q", m.Builder.ValueString())
	}
	repo := reference.TrimNamed(target.clusterRepo())
	b := buildkitBuild{
		daemons: daemons, engine: data.engine, repo: repo, name: imageref.Familiar(repo),
		opts: buildkitd.Options{
			Options:       opts,
			Platforms:     listStrings(ctx, m.Platforms),
			CacheTo:       listStrings(ctx, m.CacheTo),
			Provenance:    m.AttestProvenance.ValueString(),
			SBOM:          m.AttestSBOM.ValueBool(),
			SBOMGenerator: m.SBOMGenerator.ValueString(),
		},
	}
	if m.Load.ValueBool() {
		// The core names and, if the cluster needs it, pushes the loaded
		// image through the engine, as it does the engine's builds.
		tag, err := scratchTag()
		if err != nil {
			return nil, err
		}
		scratch, err := imageref.WithTag(repo, tag)
		if err != nil {
			return nil, err
		}
		b.scratch = scratch
		b.opts.LoadName = scratch
		b.opts.Load = b.load
		return b, nil
	}
	if target.needsPush(m.ClusterNeeds.ValueString()) {
		b.opts.PushRepository = repo.String()
		names, err := dockerImageKind{}.fixedNames(ctx, m, target)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if namesRegistry(name) {
				b.opts.PushTags = append(b.opts.PushTags, name)
			} else {
				tflog.Warn(ctx, "a tag that names no registry is not made: the image of a builder without load = true is only in the registry",
					map[string]any{"tag": name})
			}
		}
	}
	return b, nil
}

func scratchTag() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("tf-build-%d-%s", time.Now().Unix(), hex.EncodeToString(b[:])), nil
}

// buildkitBuild is a build on the daemons of a provider builder block.
type buildkitBuild struct {
	daemons buildkitd.Daemons
	engine  *engine.Engine
	opts    buildkitd.Options
	repo    reference.Named
	name    string // the repository, for messages and the daemon's hash
	scratch string // the name a load gives the image, until the core names it
}

func (b buildkitBuild) build(ctx context.Context) (builtImage, error) {
	tflog.Info(ctx, "building image on a BuildKit builder", map[string]any{"ref": b.name, "builder": b.daemons.Name, "context": b.opts.ContextDir})
	result, err := buildkitd.Build(ctx, b.daemons, b.name, b.opts)
	var built builtImage
	if result != nil {
		built.stages = stageStatuses(result.Stages)
	}
	if err != nil {
		err = fmt.Errorf("building %s on builder %q: %w", b.name, b.daemons.Name, err)
		if host, refused := dockerbuild.RefusedRegistry(err); refused {
			err = fmt.Errorf("%w\n\nRegistry %s refused the pull: give its credentials in a provider registry_auth block (address = %q).", err, host, host)
		}
		if errors.Is(err, buildkitd.ErrLoad) && (b.opts.SBOM || b.opts.Provenance != "") {
			err = fmt.Errorf("%w\n\nWith attestations the image is an index, which only an engine with the containerd image store loads: "+
				"remove attest_sbom and attest_provenance, or set load = false to push from the builder (attestations reach the registry "+
				"only that way).", err)
		}
		return built, err
	}
	if b.scratch != "" {
		id, found, err := b.engine.InspectImage(ctx, b.scratch)
		if err == nil && !found {
			err = fmt.Errorf("the Docker engine at %s has no %s after loading it", b.engine.Host(), b.scratch)
		}
		if err != nil {
			return built, err
		}
		built.imageID = id
		built.scratchTags = []string{b.scratch}
		return built, nil
	}
	built.ref = b.repo.String() + "@" + result.Digest
	built.idIsDigest = true
	return built, nil
}

// load reads a `docker load` tarball into the engine.
func (b buildkitBuild) load(ctx context.Context, tarball io.Reader) error {
	c, err := b.engine.Client()
	if err != nil {
		return fmt.Errorf("cannot connect to the Docker engine: %w", err)
	}
	resp, err := c.ImageLoad(ctx, tarball, client.ImageLoadWithQuiet(true))
	if err != nil {
		return b.engine.Wrap(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the Docker engine's answer to the load: %w", err)
		}
		if msg.Error != nil {
			return errors.New(msg.Error.Message)
		}
	}
}

// registryImageExists is Read's check of an image that only a registry holds.
func registryImageExists(ctx context.Context, data *providerData, ref string) (bool, error) {
	return registry.ExistsRemote(ctx, data.credentials, ref)
}

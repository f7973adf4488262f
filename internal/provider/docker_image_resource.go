package provider

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

var (
	_ resource.ResourceWithConfigure      = (*dockerImageResource)(nil)
	_ resource.ResourceWithValidateConfig = (*dockerImageResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*dockerImageResource)(nil)
)

// NewDockerImageResource is the imagebuild_docker_image resource.
func NewDockerImageResource() resource.Resource {
	return &dockerImageResource{}
}

type dockerImageResource struct {
	data *providerData
}

type dockerImageModel struct {
	ID                 types.String   `tfsdk:"id"`
	Ref                types.String   `tfsdk:"ref"`
	Context            types.String   `tfsdk:"context"`
	DockerfileContents types.String   `tfsdk:"dockerfile_contents"`
	Args               types.List     `tfsdk:"args"`
	CacheFrom          types.List     `tfsdk:"cache_from"`
	ExtraTags          types.List     `tfsdk:"extra_tags"`
	Network            types.String   `tfsdk:"network"`
	Platform           types.String   `tfsdk:"platform"`
	Pull               types.Bool     `tfsdk:"pull"`
	Secrets            types.List     `tfsdk:"secrets"`
	SSHAgentConfigs    types.List     `tfsdk:"ssh_agent_configs"`
	Target             types.String   `tfsdk:"target"`
	Cluster            types.String   `tfsdk:"cluster"`
	ClusterNeeds       types.String   `tfsdk:"cluster_needs"`
	ImageMaps          types.List     `tfsdk:"image_maps"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
	Status             types.Object   `tfsdk:"status"`
	ImageID            types.String   `tfsdk:"image_id"`
	RepoDigest         types.String   `tfsdk:"repo_digest"`
	ClusterRef         types.String   `tfsdk:"cluster_ref"`
	InputDigest        types.String   `tfsdk:"input_digest"`
}

func (r *dockerImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_docker_image"
}

func (r *dockerImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Builds an image with the Docker Engine's BuildKit during apply, and records its immutable reference " +
			"in `status.ref`. The Terraform form of Tilt's DockerImage object. A change in any input (an argument, a file of the context " +
			"after `.dockerignore`, the Dockerfile) rebuilds the image in place; nothing else does.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "Same as `status.ref` once an image exists."},
			"ref": schema.StringAttribute{
				Required: true,
				Description: "Repository to build into, e.g. `myapp` or `registry.example.com/team/myapp`. No digest. " +
					"A tag, if given, is applied like an entry of `extra_tags`.",
				Validators: []validator.String{repositoryValidator()},
			},
			"context": schema.StringAttribute{
				Required:    true,
				Description: "Build context directory. A relative path is taken from Terraform's working directory. `<context>/.dockerignore` is honoured.",
				Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"dockerfile_contents": schema.StringAttribute{
				Optional:    true,
				Description: "The Dockerfile's text. When null, `<context>/Dockerfile` is used.",
				Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"args": stringListAttribute("Build args, as `--build-arg`: `KEY=VALUE`, or `KEY` to take the value from Terraform's environment.",
				buildArgValidator()),
			"cache_from": stringListAttribute("Images to use as cache sources, as `--cache-from`. A registry image needs inline cache metadata "+
				"(build it with the arg `BUILDKIT_INLINE_CACHE=1`).", taggedOrRepoValidator()),
			"extra_tags": stringListAttribute("More references to tag the image with, as `--tag`; pushed with `status.ref` when the cluster needs a push. "+
				"Removed from the engine on destroy.", taggedRefValidator()),
			"network": schema.StringAttribute{
				Optional:    true,
				Description: "Network for `RUN` steps, as `--network`: `default`, `none` or `host`.",
				Validators:  []validator.String{networkValidator()},
			},
			"platform": schema.StringAttribute{
				Optional:    true,
				Description: "Target platform, as `--platform`: `os/arch[/variant]`, e.g. `linux/amd64`. When null, the cluster's `arch` applies.",
				Validators:  []validator.String{platformValidator()},
			},
			"pull": schema.BoolAttribute{
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
				Description: "Always pull a newer version of base images, as `--pull`.",
			},
			"secrets": stringListAttribute("Secrets for `RUN --mount=type=secret`, as `--secret`: `id=NAME,src=PATH`, `id=NAME,env=VARIABLE` "+
				"or `id=NAME` (the variable or file named NAME). Only the specs are stored, never the values; as with `docker build`, "+
				"a new secret value alone does not rebuild the image.", secretValidator()),
			"ssh_agent_configs": stringListAttribute("SSH agents or keys for `RUN --mount=type=ssh`, as `--ssh`: `default` "+
				"(the agent at `$SSH_AUTH_SOCK`), `ID`, or `ID=PATH[,PATH]` (agent sockets or private keys).", sshValidator()),
			"target": schema.StringAttribute{
				Optional:    true,
				Description: "Stage of a multi-stage Dockerfile to build, as `--target`.",
				Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"cluster":       clusterAttribute(),
			"cluster_needs": clusterNeedsAttribute(),
			"image_maps": stringListAttribute("References of images this build depends on, usually other resources' `status.ref`. "+
				"A change in any of them rebuilds this image.", stringvalidator.LengthAtLeast(1)),
			"status":       statusSchema(true),
			"image_id":     schema.StringAttribute{Computed: true, Description: "ID of the built image (`sha256:...`)."},
			"repo_digest":  schema.StringAttribute{Computed: true, Description: "Registry digest reference of the pushed image, once pushed."},
			"cluster_ref":  clusterRefAttribute(),
			"input_digest": schema.StringAttribute{Computed: true, Description: "Digest of everything that determines the build; a change rebuilds the image."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func stringListAttribute(description string, each validator.String) schema.ListAttribute {
	return schema.ListAttribute{
		Optional:    true,
		ElementType: types.StringType,
		Description: description,
		Validators:  []validator.List{listvalidator.ValueStringsAre(each)},
	}
}

func taggedOrRepoValidator() validator.String {
	return stringCheck{"image reference", func(s string) error {
		_, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			return fmt.Errorf("%q is not a valid image reference: %w; write e.g. registry.example.com/team/app:cache", s, err)
		}
		return nil
	}}
}

func clusterAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional:    true,
		Computed:    true,
		Default:     stringdefault.StaticString(DefaultClusterName),
		Description: "Name of a provider `cluster` block: its registry and architecture apply to this build.",
		Validators:  []validator.String{stringvalidator.LengthAtLeast(1)},
	}
}

func clusterRefAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true,
		Description: "`status.ref` as the cluster's nodes pull it: with the cluster registry's `host_from_cluster` in place of its `host` " +
			"(for example `kind-registry:5000/app:tf-...` for `localhost:5001/app:tf-...`); equal to `status.ref` otherwise. Use it in the cluster's manifests.",
	}
}

func clusterNeedsAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional:    true,
		Computed:    true,
		Default:     stringdefault.StaticString(clusterNeedsPush),
		Description: "`push` (default): push `status.ref` and the extra tags to the cluster's registry, if it has one; `base-image`: keep the image local.",
		Validators:  []validator.String{stringvalidator.OneOf(clusterNeedsPush, clusterNeedsBaseImage)},
	}
}

const (
	clusterNeedsPush      = "push"
	clusterNeedsBaseImage = "base-image"
)

func (r *dockerImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if data := providerDataOf(req, resp); data != nil {
		r.data = data
	}
}

// ValidateConfig checks what lives on disk: the context and the Dockerfile.
func (r *dockerImageResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config dockerImageModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || config.Context.IsUnknown() || config.Context.IsNull() {
		return
	}
	dir := config.Context.ValueString()
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root("context"), "Build context not found",
			fmt.Sprintf("%v. Write the path of a directory; a relative path is taken from %s.", err, workingDir()))
		return
	case !info.IsDir():
		resp.Diagnostics.AddAttributeError(path.Root("context"), "Build context is not a directory",
			fmt.Sprintf("%s is a file. Write the directory that holds the files the Dockerfile copies.", dir))
		return
	}
	if config.DockerfileContents.IsNull() {
		dockerfile := filepath.Join(dir, "Dockerfile")
		if _, err := os.Stat(dockerfile); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("dockerfile_contents"), "No Dockerfile",
				fmt.Sprintf("%s does not exist (%v). Create it, or give the Dockerfile's text in dockerfile_contents.", dockerfile, err))
		}
	}
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "Terraform's working directory"
	}
	return wd
}

// ModifyPlan checks what needs the provider's configuration (the cluster)
// and digests the inputs: a changed digest, a failed build or a missing image
// plans an in-place rebuild; anything else plans no build.
func (r *dockerImageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan dockerImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	checkCluster(r.data, plan.Cluster, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	current, err := r.inputs(ctx, &plan)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("context"), "Cannot read the build inputs", err.Error())
		return
	}
	rebuildPlan{current: current, withStages: true}.apply(ctx, req, resp)
}

// inputs digests everything that determines the build; nil when some of it
// is unknown until apply.
func (r *dockerImageResource) inputs(ctx context.Context, m *dockerImageModel) (buildInputs, error) {
	values := map[string]attr.Value{
		"ref": m.Ref, "cache_from": m.CacheFrom, "extra_tags": m.ExtraTags, "network": m.Network,
		"platform": m.Platform, "pull": m.Pull, "secrets": m.Secrets, "ssh_agent_configs": m.SSHAgentConfigs,
		"target": m.Target, "cluster_needs": m.ClusterNeeds, "image_maps": m.ImageMaps,
	}
	if !allKnown(m.Context, m.DockerfileContents, m.Args, m.Cluster) || !allKnown(slices.Collect(maps.Values(values))...) {
		return nil, nil
	}
	in := buildInputs{}
	in.addValues(values)
	in["cluster"] = digestOf(r.data.clusters[m.Cluster.ValueString()])

	contextDir, err := filepath.Abs(m.Context.ValueString())
	if err != nil {
		return nil, err
	}
	if in["context files"], err = r.data.digester.Digest(ctx, contextDir); err != nil {
		return nil, err
	}
	dockerfile := m.DockerfileContents.ValueString()
	if m.DockerfileContents.IsNull() {
		raw, err := os.ReadFile(filepath.Join(contextDir, "Dockerfile"))
		if err != nil {
			return nil, err
		}
		dockerfile = string(raw)
	}
	in["dockerfile"] = digestOf(dockerfile)
	// Bare KEY args take their values from the environment, so those values
	// are inputs too.
	args, err := dockerbuild.ParseBuildArgs(listStrings(ctx, m.Args))
	if err != nil {
		return nil, err
	}
	in["args"] = digestOf(args)
	return in, nil
}

func checkCluster(data *providerData, cluster types.String, diags *diag.Diagnostics) {
	if cluster.IsUnknown() || cluster.IsNull() {
		return
	}
	if _, ok := data.clusters[cluster.ValueString()]; !ok {
		diags.AddAttributeError(path.Root("cluster"), "Unknown cluster",
			fmt.Sprintf("No provider cluster block is named %q. Add a `cluster { name = %q }` block to the provider, or remove the argument to use %q.",
				cluster.ValueString(), cluster.ValueString(), DefaultClusterName))
	}
}

// markRebuild plans a new build by making its results unknown.
func markRebuild(ctx context.Context, resp *resource.ModifyPlanResponse, withStages bool) {
	for _, name := range []string{"id", "image_id", "repo_digest", "cluster_ref", "input_digest"} {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), types.StringUnknown())...)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"),
		types.ObjectUnknown(statusAttrTypes(ctx, withStages)))...)
}

func (r *dockerImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan dockerImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultBuildTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withBuildTimeout(ctx, "create", timeout)
	defer cancel()

	result := r.build(ctx, &plan, reasonCreated)
	resp.Diagnostics.Append(result.diags...)
	if result.saved {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		if in, err := r.inputs(ctx, &plan); err == nil {
			resp.Diagnostics.Append(recordInputs(ctx, resp.Private, in)...)
		}
	}
}

func (r *dockerImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state dockerImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultBuildTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withBuildTimeout(ctx, "update", timeout)
	defer cancel()

	if !plan.Status.IsUnknown() {
		// ModifyPlan found no input changed (e.g. only timeouts did).
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	result := r.build(ctx, &plan, plannedReason(ctx, req.Private, "inputs changed"))
	resp.Diagnostics.Append(result.diags...)
	if !result.saved {
		return
	}
	if result.failed {
		// The previous image is still there: keep pointing at it, with the
		// error recorded so that the next plan rebuilds.
		plan.ID, plan.ImageID, plan.RepoDigest, plan.ClusterRef = state.ID, state.ImageID, state.RepoDigest, state.ClusterRef
		resp.Diagnostics.Append(keepPreviousRefOf(ctx, &plan.Status, state.Status, true)...)
	} else {
		resp.Diagnostics.Append(r.removeStaleTags(ctx, &state, &plan)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// removeStaleTags removes the tags the previous build made that the new one
// no longer has.
func (r *dockerImageResource) removeStaleTags(ctx context.Context, state, plan *dockerImageModel) diag.Diagnostics {
	var diags diag.Diagnostics
	keep := map[string]bool{}
	for _, t := range r.createdTags(ctx, plan, &diags) {
		keep[t] = true
	}
	for _, t := range r.createdTags(ctx, state, &diags) {
		if keep[t] {
			continue
		}
		if err := r.data.engine.Untag(ctx, t); err != nil {
			diags.AddWarning("Could not remove the previous image tag", err.Error())
		}
	}
	return diags
}

func (r *dockerImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state dockerImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	status, ok, diags := fromStatusObject(ctx, state.Status, true)
	resp.Diagnostics.Append(diags...)
	if !ok || status.Ref.IsNull() {
		return
	}
	_, found, err := r.data.engine.InspectImage(ctx, status.Ref.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cannot check the built image", err.Error())
		return
	}
	if !found && !state.RepoDigest.IsNull() {
		// Pushed: a fresh CI runner has an empty engine, but the registry
		// still serving the image is enough.
		found, err = registry.Exists(ctx, r.data.engine, r.data.credentials, status.Ref.ValueString())
		if err != nil {
			resp.Diagnostics.AddError("Cannot check the pushed image", err.Error())
			return
		}
	}
	if !found {
		tflog.Info(ctx, "built image is gone from the engine and registry; it will be rebuilt", map[string]any{"ref": status.Ref.ValueString()})
		state.Status, diags = imageMissingStatus(ctx, state.Status, true)
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

func (r *dockerImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state dockerImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, t := range r.createdTags(ctx, &state, &resp.Diagnostics) {
		if err := r.data.engine.Untag(ctx, t); err != nil {
			resp.Diagnostics.AddError("Cannot remove an image tag", err.Error())
		}
	}
}

// createdTags lists the names the resource gave its image: status.ref, the
// tag in ref, and the extra tags.
func (r *dockerImageResource) createdTags(ctx context.Context, m *dockerImageModel, diags *diag.Diagnostics) []string {
	status, ok, d := fromStatusObject(ctx, m.Status, true)
	diags.Append(d...)
	if !ok || status.Ref.IsNull() || (status.Completed != nil && !status.Completed.Error.IsNull() && m.ImageID.IsNull()) {
		return nil
	}
	tags := []string{status.Ref.ValueString()}
	names, err := r.tagNames(ctx, m)
	if err != nil {
		diags.AddError("Invalid tags", err.Error())
		return tags
	}
	return append(tags, names...)
}

// tagNames lists the fixed names (not the tf- ref) the image gets: the tag
// in ref, then extra_tags, each moved into the cluster's registry.
func (r *dockerImageResource) tagNames(ctx context.Context, m *dockerImageModel) ([]string, error) {
	var names []string
	repo, err := imageref.ParseRepository(m.Ref.ValueString())
	if err != nil {
		return nil, err
	}
	registry := r.data.clusters[m.Cluster.ValueString()].RegistryHost
	if tagged, ok := repo.(reference.NamedTagged); ok {
		moved, err := imageref.ForRegistry(repo, registry)
		if err != nil {
			return nil, err
		}
		name, err := imageref.WithTag(moved, tagged.Tag())
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	for _, extra := range listStrings(ctx, m.ExtraTags) {
		tagged, err := imageref.ParseTagged(extra)
		if err != nil {
			return nil, err
		}
		moved, err := imageref.ForRegistry(tagged, registry)
		if err != nil {
			return nil, err
		}
		name, err := imageref.WithTag(moved, tagged.Tag())
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// buildOutcome says whether state should be written and whether the build failed.
type buildOutcome struct {
	saved  bool
	failed bool
	diags  diag.Diagnostics
}

// build runs the build for plan and fills in its computed attributes.
func (r *dockerImageResource) build(ctx context.Context, plan *dockerImageModel, reason string) buildOutcome {
	var out buildOutcome
	cluster := r.data.clusters[plan.Cluster.ValueString()]
	repo, err := imageref.ParseRepository(plan.Ref.ValueString())
	if err == nil {
		repo, err = imageref.ForRegistry(repo, cluster.RegistryHost)
	}
	if err != nil {
		out.diags.AddAttributeError(path.Root("ref"), "Invalid ref", err.Error())
		return out
	}
	opts, err := r.buildOptions(ctx, plan, cluster)
	if err != nil {
		out.diags.AddError("Invalid build arguments", err.Error())
		return out
	}
	client, err := r.data.engine.Client()
	if err != nil {
		out.diags.AddError("Cannot connect to the Docker engine", err.Error())
		return out
	}

	started := time.Now()
	tflog.Info(ctx, "building image", map[string]any{"ref": reference.FamiliarName(repo), "context": opts.ContextDir})
	result, buildErr := dockerbuild.NewBuilder(client, r.data.engine.Host()).Build(ctx, opts)
	var statusRef, repoDigest string
	var stages []stageStatusModel
	if result != nil {
		stages = stageStatuses(result.Stages)
	}
	if buildErr == nil {
		statusRef, buildErr = r.nameImage(ctx, plan, repo, result.ImageID)
	}
	if buildErr == nil && cluster.needsPush(plan.ClusterNeeds.ValueString()) {
		var pushStage stageStatusModel
		repoDigest, pushStage, buildErr = r.push(ctx, plan, statusRef)
		stages = append(stages, pushStage)
	}

	status := completedStatus(statusRef, reason, started, buildErr)
	status.StageStatuses = stages
	statusObj, diags := toStatusObject(ctx, status, true)
	out.diags.Append(diags...)
	plan.Status = statusObj
	plan.RepoDigest = optionalString(repoDigest)
	if plan.InputDigest.IsUnknown() {
		// ModifyPlan digests the inputs once they are all known, which they
		// are by apply time; this only guards against leaving it unknown.
		plan.InputDigest = types.StringNull()
		if in, err := r.inputs(ctx, plan); err == nil && in != nil {
			plan.InputDigest = types.StringValue(in.digest())
		}
	}

	if buildErr != nil {
		out.failed = true
		// A build that never reached the engine leaves nothing to record.
		out.saved = result != nil
		plan.ID = types.StringValue(reference.FamiliarName(repo))
		plan.ImageID = types.StringNull()
		plan.ClusterRef = types.StringNull()
		detail := fmt.Sprintf("Building %s: %v", reference.FamiliarName(repo), buildErr)
		if host, refused := dockerbuild.RefusedRegistry(buildErr); refused {
			detail += fmt.Sprintf("\n\nRegistry %s refused the pull: give its credentials in a provider registry_auth block "+
				"(address = %q), or log in with `docker login %s`.", host, host, host)
		}
		out.diags.AddError("Image build failed", detail)
		return out
	}
	plan.ID = types.StringValue(statusRef)
	plan.ImageID = types.StringValue(result.ImageID)
	plan.ClusterRef = cluster.refFromCluster(statusRef)
	out.saved = true
	return out
}

// nameImage tags the built image with its immutable ref and fixed names.
func (r *dockerImageResource) nameImage(ctx context.Context, plan *dockerImageModel, repo reference.Named, imageID string) (string, error) {
	statusRef, err := imageref.Immutable(repo, imageID)
	if err != nil {
		return "", err
	}
	names, err := r.tagNames(ctx, plan)
	if err != nil {
		return "", err
	}
	for _, name := range append([]string{statusRef}, names...) {
		if err := r.data.engine.Tag(ctx, imageID, name); err != nil {
			return "", err
		}
	}
	return statusRef, nil
}

func (r *dockerImageResource) buildOptions(ctx context.Context, plan *dockerImageModel, cluster Cluster) (dockerbuild.Options, error) {
	contextDir, err := filepath.Abs(plan.Context.ValueString())
	if err != nil {
		return dockerbuild.Options{}, err
	}
	args, err := dockerbuild.ParseBuildArgs(listStrings(ctx, plan.Args))
	if err != nil {
		return dockerbuild.Options{}, err
	}
	platform := plan.Platform.ValueString()
	if platform == "" && cluster.Arch != "" {
		platform = "linux/" + cluster.Arch
	}
	opts := dockerbuild.Options{
		ContextDir: contextDir,
		BuildArgs:  args,
		CacheFrom:  listStrings(ctx, plan.CacheFrom),
		Network:    plan.Network.ValueString(),
		Platform:   platform,
		Pull:       plan.Pull.ValueBool(),
		Target:     plan.Target.ValueString(),
		Secrets:    listStrings(ctx, plan.Secrets),
		Auth:       r.data.credentials.BuildKitProvider(),
		SSH:        listStrings(ctx, plan.SSHAgentConfigs),
		LogLine:    func(line string) { tflog.Info(ctx, line) },
	}
	if !plan.DockerfileContents.IsNull() {
		contents := plan.DockerfileContents.ValueString()
		opts.DockerfileContents = &contents
	}
	return opts, nil
}

// push pushes status.ref and the fixed names, and reports it as the stage
// "docker push" (as Tilt does). It returns the digest reference.
func (r *dockerImageResource) push(ctx context.Context, plan *dockerImageModel, statusRef string) (string, stageStatusModel, error) {
	stage := stageStatusModel{Name: types.StringValue(pushStageName), Cached: types.BoolValue(false), Error: types.StringNull()}
	names, err := r.tagNames(ctx, plan)
	if err != nil {
		return "", stage, err
	}
	started := time.Now()
	stage.StartedAt = microTime(started)
	var digest string
	for i, ref := range append([]string{statusRef}, names...) {
		tflog.Info(ctx, "pushing image", map[string]any{"ref": ref})
		result, err := registry.Push(ctx, r.data.engine, r.data.credentials, ref)
		if err != nil {
			stage.Error = types.StringValue(err.Error())
			stage.FinishedAt = microTime(time.Now())
			return "", stage, err
		}
		if i == 0 {
			digest = result.Digest
		}
	}
	stage.FinishedAt = microTime(time.Now())
	return digestRef(statusRef, digest), stage, nil
}

const pushStageName = "docker push"

// digestRef is ref's repository with digest: "registry/app@sha256:...".
func digestRef(ref, digest string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	return imageref.Familiar(reference.TrimNamed(named)) + "@" + digest
}

func stageStatuses(stages []dockerbuild.Stage) []stageStatusModel {
	out := make([]stageStatusModel, 0, len(stages))
	for _, s := range stages {
		out = append(out, stageStatusModel{
			Name:       types.StringValue(s.Name),
			Cached:     types.BoolValue(s.Cached),
			Error:      optionalString(s.Error),
			StartedAt:  optionalMicroTime(s.Started),
			FinishedAt: optionalMicroTime(s.Completed),
		})
	}
	return out
}

// listStrings reads a known list of strings; null or unknown reads as empty.
func listStrings(ctx context.Context, l types.List) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	l.ElementsAs(ctx, &out, false)
	return out
}

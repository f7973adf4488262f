package provider

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/cmdbuild"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

var (
	_ resource.ResourceWithConfigure  = (*cmdImageResource)(nil)
	_ resource.ResourceWithModifyPlan = (*cmdImageResource)(nil)
)

// NewCmdImageResource is the imagebuild_cmd_image resource.
func NewCmdImageResource() resource.Resource {
	return &cmdImageResource{}
}

type cmdImageResource struct {
	data *providerData
}

type cmdImageModel struct {
	ID                types.String   `tfsdk:"id"`
	Ref               types.String   `tfsdk:"ref"`
	Args              types.List     `tfsdk:"args"`
	Dir               types.String   `tfsdk:"dir"`
	Env               types.Map      `tfsdk:"env"`
	Deps              types.List     `tfsdk:"deps"`
	Cluster           types.String   `tfsdk:"cluster"`
	ClusterNeeds      types.String   `tfsdk:"cluster_needs"`
	ImageMaps         types.List     `tfsdk:"image_maps"`
	OutputMode        types.String   `tfsdk:"output_mode"`
	OutputTag         types.String   `tfsdk:"output_tag"`
	OutputsImageRefTo types.String   `tfsdk:"outputs_image_ref_to"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
	Status            types.Object   `tfsdk:"status"`
	ImageID           types.String   `tfsdk:"image_id"`
	RepoDigest        types.String   `tfsdk:"repo_digest"`
	ClusterRef        types.String   `tfsdk:"cluster_ref"`
	InputDigest       types.String   `tfsdk:"input_digest"`
}

func (r *cmdImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cmd_image"
}

func (r *cmdImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Builds an image with any command (docker, ko, bazel, nix, buildpacks, a script) during apply, then finds, " +
			"retags and, if the cluster needs it, pushes the result. The Terraform form of Tilt's CmdImage object. " +
			"The command gets `EXPECTED_REF`, `EXPECTED_IMAGE`, `EXPECTED_TAG`, `EXPECTED_REGISTRY`, `REGISTRY_HOST`, `DOCKER_HOST` " +
			"and `TILT_IMAGE_MAP_<i>`/`TILT_IMAGE_<i>` in its environment.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "Same as `status.ref` once an image exists."},
			"ref": schema.StringAttribute{
				Required:    true,
				Description: "Repository the command builds, e.g. `myapp`. No digest.",
				Validators:  []validator.String{repositoryValidator()},
			},
			"args": schema.ListAttribute{
				Required:    true,
				ElementType: types.StringType,
				Description: "The command and its arguments, executed directly (no shell); use `[\"sh\", \"-c\", \"...\"]` for one.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)),
				},
			},
			"dir": schema.StringAttribute{
				Optional:    true,
				Description: "Working directory of the command; default Terraform's working directory.",
				Validators:  []validator.String{directoryValidator()},
			},
			"env": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Environment variables for the command, on top of Terraform's own.",
				Validators:  []validator.Map{mapvalidator.KeysAre(stringCheck{"environment variable name", cmdbuild.ValidEnvKey})},
			},
			"deps": stringListAttribute("Files and directories whose contents feed `input_digest`: a change in them rebuilds the image.",
				stringvalidator.LengthAtLeast(1)),
			"cluster":       clusterAttribute(),
			"cluster_needs": clusterNeedsAttribute(),
			"image_maps": stringListAttribute("References of images this build depends on, usually other resources' `status.ref`; "+
				"exported as `TILT_IMAGE_MAP_<i>` and `TILT_IMAGE_<i>`. A change in any of them rebuilds this image.",
				stringvalidator.LengthAtLeast(1)),
			"output_mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(cmdbuild.LocalDocker)),
				Description: "Where the command leaves the image: `local-docker` (default: in the engine; retagged, and pushed if the cluster needs it), " +
					"`local-docker-and-remote` (in the engine and already pushed: retagged, never pushed), `remote` (only in a registry: the expected ref is the result).",
				Validators: []validator.String{stringvalidator.OneOf(cmdbuild.OutputModes...)},
			},
			"output_tag": schema.StringAttribute{
				Optional:    true,
				Description: "Tag the command produces; without it the command gets a fresh `tf-build-<unix seconds>` tag in `EXPECTED_TAG`.",
				Validators: []validator.String{
					tagValidator(),
					stringvalidator.ConflictsWith(path.MatchRoot("outputs_image_ref_to")),
				},
			},
			"outputs_image_ref_to": schema.StringAttribute{
				Optional: true,
				Description: "File the command writes the tagged ref of its image into. It is removed before the command runs; " +
					"`EXPECTED_REF`, `EXPECTED_IMAGE` and `EXPECTED_TAG` are then not set.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"status":       statusSchema(false),
			"image_id":     schema.StringAttribute{Computed: true, Description: "ID of the built image; null in `remote` mode."},
			"repo_digest":  schema.StringAttribute{Computed: true, Description: "Registry digest reference of the pushed image, once pushed."},
			"cluster_ref":  clusterRefAttribute(),
			"input_digest": schema.StringAttribute{Computed: true, Description: "Digest of everything that determines the build; a change rebuilds the image."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func tagValidator() validator.String {
	return stringCheck{"tag", func(tag string) error {
		if tag == "" || reference.TagRegexp.FindString(tag) != tag {
			return fmt.Errorf("%q is not a valid tag: write up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag)
		}
		return nil
	}}
}

func directoryValidator() validator.String {
	return stringCheck{"directory", func(dir string) error {
		info, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%v; write an existing directory (a relative path is taken from %s)", err, workingDir())
		}
		if !info.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}}
}

func (r *cmdImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if data := providerDataOf(req, resp); data != nil {
		r.data = data
	}
}

// ModifyPlan checks the cluster and digests the inputs; see rebuildPlan.
func (r *cmdImageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan cmdImageModel
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
		resp.Diagnostics.AddAttributeError(path.Root("deps"), "Cannot read the build's deps", err.Error())
		return
	}
	rebuildPlan{current: current}.apply(ctx, req, resp)
}

// inputs digests everything that determines the build: the command, its
// environment and directory, the contents of deps, and the image maps.
func (r *cmdImageResource) inputs(ctx context.Context, m *cmdImageModel) (buildInputs, error) {
	values := map[string]attr.Value{
		"ref": m.Ref, "args": m.Args, "dir": m.Dir, "env": m.Env, "cluster_needs": m.ClusterNeeds,
		"image_maps": m.ImageMaps, "output_mode": m.OutputMode, "output_tag": m.OutputTag,
		"outputs_image_ref_to": m.OutputsImageRefTo,
	}
	if !allKnown(m.Deps, m.Cluster) || !allKnown(slices.Collect(maps.Values(values))...) {
		return nil, nil
	}
	in := buildInputs{}
	in.addValues(values)
	in["cluster"] = digestOf(r.data.clusters[m.Cluster.ValueString()])
	if deps := listStrings(ctx, m.Deps); len(deps) > 0 {
		digest, err := r.data.digester.DigestPaths(ctx, deps)
		if err != nil {
			return nil, err
		}
		in["deps"] = digest
	}
	return in, nil
}

func (r *cmdImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan cmdImageModel
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

	if r.build(ctx, &plan, reasonCreated, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		if in, err := r.inputs(ctx, &plan); err == nil {
			resp.Diagnostics.Append(recordInputs(ctx, resp.Private, in)...)
		}
	}
}

func (r *cmdImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state cmdImageModel
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
	if !r.build(ctx, &plan, plannedReason(ctx, req.Private, "inputs changed"), &resp.Diagnostics) {
		return
	}
	if resp.Diagnostics.HasError() {
		// The previous image is still there: keep pointing at it, with the
		// error recorded so that the next plan rebuilds.
		plan.ID, plan.ImageID, plan.RepoDigest, plan.ClusterRef = state.ID, state.ImageID, state.RepoDigest, state.ClusterRef
		resp.Diagnostics.Append(keepPreviousRefOf(ctx, &plan.Status, state.Status, false)...)
	} else if old := r.localRef(ctx, &state); old != "" && old != r.localRef(ctx, &plan) {
		if err := r.data.engine.Untag(ctx, old); err != nil {
			resp.Diagnostics.AddWarning("Could not remove the previous image tag", err.Error())
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *cmdImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state cmdImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	status, ok, diags := fromStatusObject(ctx, state.Status, false)
	resp.Diagnostics.Append(diags...)
	if !ok || status.Ref.IsNull() || (status.Completed != nil && !status.Completed.Error.IsNull()) {
		return
	}
	ref := status.Ref.ValueString()
	found, err := r.imageExists(ctx, &state, ref)
	if err != nil {
		resp.Diagnostics.AddError("Cannot check the built image", err.Error())
		return
	}
	if !found {
		tflog.Info(ctx, "built image is gone; it will be rebuilt", map[string]any{"ref": ref})
		state.Status, diags = imageMissingStatus(ctx, state.Status, false)
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

// imageExists looks for the image in the engine and, if it was pushed or
// only ever lived in a registry, there.
func (r *cmdImageResource) imageExists(ctx context.Context, m *cmdImageModel, ref string) (bool, error) {
	if !m.ImageID.IsNull() {
		_, found, err := r.data.engine.InspectImage(ctx, ref)
		if err != nil || found {
			return found, err
		}
	}
	if m.RepoDigest.IsNull() && m.OutputMode.ValueString() == string(cmdbuild.LocalDocker) {
		return false, nil
	}
	return registry.Exists(ctx, r.data.engine, r.data.credentials, ref)
}

func (r *cmdImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state cmdImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if ref := r.localRef(ctx, &state); ref != "" {
		if err := r.data.engine.Untag(ctx, ref); err != nil {
			resp.Diagnostics.AddError("Cannot remove the image tag", err.Error())
		}
	}
}

// localRef is the tag the resource made in the engine, or "" when it made
// none (remote mode, or a failed first build).
func (r *cmdImageResource) localRef(ctx context.Context, m *cmdImageModel) string {
	status, ok, _ := fromStatusObject(ctx, m.Status, false)
	if !ok || status.Ref.IsNull() || m.ImageID.IsNull() || m.ImageID.IsUnknown() {
		return ""
	}
	return status.Ref.ValueString()
}

// build runs the command for plan and fills in the computed attributes. It
// returns whether plan should be saved; errors go to diags.
func (r *cmdImageResource) build(ctx context.Context, plan *cmdImageModel, reason string, diags *diag.Diagnostics) bool {
	spec, err := r.spec(ctx, plan)
	if err != nil {
		diags.AddError("Invalid build command", err.Error())
		return false
	}
	started := time.Now()
	tflog.Info(ctx, "running build command", map[string]any{"args": spec.Command.Args, "dir": spec.Command.Dir})
	result, buildErr := cmdbuild.Build(ctx, r.data.engine, spec, started)
	var ref, repoDigest string
	if buildErr == nil {
		ref = result.Ref
		repoDigest, buildErr = r.pushIfNeeded(ctx, plan, result)
	}
	status, d := toStatusObject(ctx, completedStatus(ref, reason, started, buildErr), false)
	diags.Append(d...)
	plan.Status = status
	plan.RepoDigest = optionalString(repoDigest)
	if plan.InputDigest.IsUnknown() {
		plan.InputDigest = types.StringNull()
		if in, err := r.inputs(ctx, plan); err == nil && in != nil {
			plan.InputDigest = types.StringValue(in.digest())
		}
	}
	if buildErr != nil {
		plan.ID = types.StringValue(reference.FamiliarName(spec.ClusterRepo))
		plan.ImageID = types.StringNull()
		plan.ClusterRef = types.StringNull()
		diags.AddError("Image build command failed", buildErr.Error())
		return true
	}
	plan.ID = types.StringValue(result.Ref)
	plan.ImageID = optionalString(result.ImageID)
	plan.ClusterRef = r.data.clusters[plan.Cluster.ValueString()].refFromCluster(result.Ref)
	return true
}

// pushIfNeeded pushes what a local-docker build produced when the cluster
// needs it; the other modes leave pushing to the command.
func (r *cmdImageResource) pushIfNeeded(ctx context.Context, plan *cmdImageModel, result *cmdbuild.Result) (string, error) {
	cluster := r.data.clusters[plan.Cluster.ValueString()]
	if plan.OutputMode.ValueString() != string(cmdbuild.LocalDocker) || !cluster.needsPush(plan.ClusterNeeds.ValueString()) {
		return "", nil
	}
	tflog.Info(ctx, "pushing image", map[string]any{"ref": result.Ref})
	pushed, err := registry.Push(ctx, r.data.engine, r.data.credentials, result.Ref)
	if err != nil {
		return "", err
	}
	return digestRef(result.Ref, pushed.Digest), nil
}

func (r *cmdImageResource) spec(ctx context.Context, plan *cmdImageModel) (cmdbuild.Spec, error) {
	cluster := r.data.clusters[plan.Cluster.ValueString()]
	repo, err := imageref.ParseRepository(plan.Ref.ValueString())
	if err != nil {
		return cmdbuild.Spec{}, err
	}
	clusterRepo, err := imageref.ForRegistry(repo, cluster.RegistryHost)
	if err != nil {
		return cmdbuild.Spec{}, err
	}
	env := map[string]string{}
	if !plan.Env.IsNull() {
		diags := plan.Env.ElementsAs(ctx, &env, false)
		if diags.HasError() {
			return cmdbuild.Spec{}, fmt.Errorf("reading env: %v", diags)
		}
	}
	return cmdbuild.Spec{
		Repo:        reference.TrimNamed(repo),
		ClusterRepo: clusterRepo,
		Command: cmdbuild.Command{
			Args:    listStrings(ctx, plan.Args),
			Dir:     plan.Dir.ValueString(),
			LogLine: func(line string) { tflog.Info(ctx, line) },
		},
		UserEnv: env,
		BaseEnv: os.Environ(),
		Vars: cmdbuild.ExpectedVars{
			RegistryHost:   cluster.RegistryHost,
			DockerHost:     r.data.engine.Host(),
			DockerCertPath: r.data.engine.CertPath(),
			ImageMaps:      listStrings(ctx, plan.ImageMaps),
		},
		OutputMode:        cmdbuild.OutputMode(plan.OutputMode.ValueString()),
		OutputTag:         plan.OutputTag.ValueString(),
		OutputsImageRefTo: plan.OutputsImageRefTo.ValueString(),
	}, nil
}

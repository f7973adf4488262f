package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

// The image-resource core: both resources plan, build, name, push and record
// an image the same way; what differs (the schema, the model, how the image
// is built) is an imageKind.

var (
	_ resource.ResourceWithConfigure    = (*imageResource)(nil)
	_ resource.ResourceWithModifyPlan   = (*imageResource)(nil)
	_ resource.ResourceWithUpgradeState = (*imageResource)(nil)
)

// imageModel holds the attributes every image resource has; each kind's
// model embeds it.
type imageModel struct {
	ID           types.String   `tfsdk:"id"`
	Ref          types.String   `tfsdk:"ref"`
	Cluster      types.String   `tfsdk:"cluster"`
	ClusterNeeds types.String   `tfsdk:"cluster_needs"`
	ImageMaps    types.List     `tfsdk:"image_maps"`
	Triggers     types.Map      `tfsdk:"triggers"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
	Status       types.Object   `tfsdk:"status"`
	ImageID      types.String   `tfsdk:"image_id"`
	RepoDigest   types.String   `tfsdk:"repo_digest"`
	ClusterRef   types.String   `tfsdk:"cluster_ref"`
	InputDigest  types.String   `tfsdk:"input_digest"`
	BuildReason  types.String   `tfsdk:"build_reason"`
	// ReuseFromRegistry is no input: it changes where the image comes
	// from, not what it is.
	ReuseFromRegistry types.Bool `tfsdk:"reuse_from_registry"`

	// prior are the inputs the last build recorded (private state), where
	// a base image that cannot be looked up keeps its recorded digest;
	// basesRecorded: they hold its base images (see privateBasesKey).
	prior         buildInputs
	basesRecorded bool
	// listings are what the inputs that are trees of files (the context,
	// named contexts, deps) covered, by input name, for their summaries.
	listings map[string]buildcontext.Listing
	// dockerfileRead: the Dockerfile input was read from a file.
	dockerfileRead bool
}

// addListing keeps what input name covered.
func (m *imageModel) addListing(name string, l buildcontext.Listing) {
	if m.listings == nil {
		m.listings = map[string]buildcontext.Listing{}
	}
	m.listings[name] = l
}

func (m *imageModel) common() *imageModel { return m }

// kindModel is a kind's whole model, which embeds imageModel.
type kindModel interface {
	common() *imageModel
}

// buildTarget is where a build's image goes.
type buildTarget struct {
	cluster Cluster
	// repo is the repository as written; placed is where its images go in
	// the cluster's registry (repo itself without a registry).
	repo   reference.Named
	placed imageref.Placement
	// refNamesRegistry: ref as written starts with a registry host.
	refNamesRegistry bool
}

// newBuildTarget is where the images of ref go for cluster.
func newBuildTarget(cluster Cluster, ref string) (buildTarget, error) {
	repo, err := imageref.ParseRepository(ref)
	if err != nil {
		return buildTarget{}, err
	}
	placed, err := cluster.registry().Place(repo)
	if err != nil {
		return buildTarget{}, err
	}
	return buildTarget{cluster: cluster, repo: repo, placed: placed, refNamesRegistry: namesRegistry(ref)}, nil
}

// clusterRepo is the repository the images go into.
func (t buildTarget) clusterRepo() reference.Named { return t.placed.Repo }

// needsPush says whether the image goes to a registry: the cluster's, or,
// for a cluster without one, the registry that ref names (as Tilt pushes
// such a ref). A ref without a registry ("api", "team/api") stays in the
// engine; cluster_needs = "base-image" keeps every image there.
func (t buildTarget) needsPush(clusterNeeds string) bool {
	return clusterNeeds == clusterNeedsPush && (t.cluster.RegistryHost != "" || t.refNamesRegistry)
}

// imageKind is what one resource type adds to the core.
type imageKind interface {
	// typeName is the resource type without the provider prefix, e.g. "_docker_image".
	typeName() string
	// schema holds the kind's own attributes; the core adds the common ones.
	schema(ctx context.Context) schema.Schema
	// withStages says whether status has stage_statuses.
	withStages() bool
	newModel() kindModel
	// checkPlan checks at plan time what validate must not need: files,
	// directories and environment variables, each on its attribute.
	checkPlan(ctx context.Context, m kindModel, diags *diag.Diagnostics)
	// inputs digests everything that determines the image; nil when some of
	// it is unknown until apply. Errors go on the attribute they concern.
	// Write-only arguments are never inputs (a digest of a secret could be
	// tried against guesses): a version argument stands for them.
	inputs(ctx context.Context, data *providerData, m kindModel, cluster Cluster) (buildInputs, diag.Diagnostics)
	// newBuilder prepares the build of m. config is the configuration as
	// written: write-only arguments are only there, never in m.
	newBuilder(ctx context.Context, data *providerData, m, config kindModel, target buildTarget) (imageBuilder, error)
	// fixedNames are the names besides status.ref that the image gets.
	fixedNames(ctx context.Context, m kindModel, target buildTarget) ([]string, error)
	// reuseBlocker names what makes m's image unfit to be reused from a
	// registry by its inputs (a part the digest cannot see); "" when none.
	reuseBlocker(ctx context.Context, m, config kindModel) string
}

// imageBuilder produces one image: the Docker engine, a command, later a
// BuildKit daemon. Naming, pushing and recording it are the core's.
type imageBuilder interface {
	build(ctx context.Context) (builtImage, error)
}

// builtImage is what a build produced; on failure, what was seen of it.
type builtImage struct {
	// imageID is the image in the engine; empty when it lives only in a
	// registry, under ref.
	imageID string
	ref     string
	stages  []stageStatusModel
	// scratchTags are names the build made for itself, removed once the
	// image has its own.
	scratchTags []string
	// idIsDigest: the image lives only in a registry (ref is by digest),
	// and its image_id is that manifest or index digest.
	idIsDigest bool
}

// providerChecker is a kind that checks at plan what depends on the
// provider's blocks; registryOnlyKind one whose image may live only in a
// registry, where Read then looks for it.
type (
	providerChecker interface {
		checkProvider(ctx context.Context, data *providerData, m kindModel, cluster Cluster, known bool, diags *diag.Diagnostics)
	}
	registryOnlyKind interface {
		registryOnly(ctx context.Context, state attributeGetter) bool
	}
)

type imageResource struct {
	kind imageKind
	data *providerData
}

func (r *imageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.kind.typeName()
}

func (r *imageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = withCommonAttributes(ctx, r.kind.schema(ctx), r.kind.withStages())
}

func (r *imageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if data := providerDataOf(req, resp); data != nil {
		r.data = data
	}
}

// ModifyPlan checks what validate must not, digests the inputs and decides
// whether the apply builds (see decidePlan). A planned build leaves every
// result unknown, input_digest included: the apply digests what it builds,
// so a file that another resource rewrites during the apply is no surprise.
func (r *imageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	ctx = planning(ctx)
	plan := r.kind.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, known := r.data.cluster(plan.common().Cluster, &resp.Diagnostics)
	r.kind.checkPlan(ctx, plan, &resp.Diagnostics)
	if k, ok := r.kind.(providerChecker); ok {
		k.checkProvider(ctx, r.data, plan, cluster, known, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	facts := planFacts{exists: !req.State.Raw.IsNull(), priorInputs: previousInputs(ctx, req.Private)}
	// A new resource builds whatever its inputs: digesting them is the apply's.
	if known && facts.exists {
		plan.common().prior, plan.common().basesRecorded = facts.priorInputs, basesRecorded(ctx, req.Private)
		inputs, diags := r.kind.inputs(ctx, r.data, plan, cluster)
		resp.Diagnostics.Append(diags...)
		facts.inputs = inputs
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var stored storedResults
	if facts.exists {
		var diags diag.Diagnostics
		stored, diags = readStoredResults(ctx, req.State)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		facts.priorDigest = stored.InputDigest.ValueString()
		facts.failed = !objectString(stored.Status, "completed", "error").IsNull()
		facts.imageMissing = objectString(stored.Status, "waiting", "reason").ValueString() == reasonImageMissing
		facts.notPushed = known && r.neverPushed(plan.common(), stored, cluster)
	}

	// One Set of the whole plan, and none when it stays as Terraform
	// proposed it: each Set reflects and walks the whole value.
	p := plan.common()
	decision := decidePlan(facts)
	observed := readObserved(ctx, req.Private)
	if !decision.build && len(observed) > 0 {
		// The refresh saw a change that this plan's own reading does not
		// (a plan with -refresh=false after a refresh that was saved): the
		// apply's re-plan cannot tell the two apart, so both build.
		decision = planDecision{build: true, reason: reasonInputsChanged}
	}
	if !decision.build {
		proposed := resultsOf(p)
		r.keepResults(p, stored, cluster, known)
		if !resultsOf(p).equal(proposed) {
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		}
		return
	}
	p.ID, p.ImageID, p.RepoDigest, p.ClusterRef, p.InputDigest =
		types.StringUnknown(), types.StringUnknown(), types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	p.Status = types.ObjectUnknown(statusAttrTypes(ctx, r.kind.withStages()))
	p.BuildReason = types.StringUnknown()
	if reason := explainPlan(p, facts, decision, observed); reason != "" {
		p.BuildReason = types.StringValue(reason)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	raw, _ := json.Marshal(decision.reason)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateReasonKey, raw)...)
}

// neverPushed says whether the stored image needs a push it never had: a
// state written before a ref that names a registry was pushed there without
// a cluster registry. Its ref is not in the registry it names.
func (r *imageResource) neverPushed(m *imageModel, stored storedResults, cluster Cluster) bool {
	if m.Ref.IsUnknown() || m.ClusterNeeds.IsUnknown() || !stored.RepoDigest.IsNull() || stored.ImageID.IsNull() ||
		objectString(stored.Status, "ref").IsNull() {
		return false
	}
	target, err := newBuildTarget(cluster, m.Ref.ValueString())
	return err == nil && target.needsPush(m.ClusterNeeds.ValueString())
}

// keepResults plans no build: the state's results stay, so that a change of
// timeouts alone rebuilds nothing. cluster_ref follows host_from_cluster,
// which does not change the image.
func (r *imageResource) keepResults(plan *imageModel, stored storedResults, cluster Cluster, known bool) {
	plan.ID, plan.Status, plan.ImageID = stored.ID, stored.Status, stored.ImageID
	plan.RepoDigest, plan.InputDigest, plan.ClusterRef = stored.RepoDigest, stored.InputDigest, stored.ClusterRef
	plan.BuildReason = stored.BuildReason
	if ref := objectString(stored.Status, "ref"); !ref.IsNull() {
		plan.ClusterRef = types.StringUnknown()
		if known && !cluster.FromClusterUnknown {
			plan.ClusterRef = cluster.refFromCluster(ref.ValueString())
		}
	}
}

func (r *imageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.data.walks.applied.Store(true)
	plan, config := r.kind.newModel(), r.kind.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.common().Timeouts.Create(ctx, defaultBuildTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withBuildTimeout(ctx, "create", timeout)
	defer cancel()

	run := r.run(ctx, plan, config, nil, func(buildInputs) string { return reasonCreated })
	resp.Diagnostics.Append(run.diags...)
	if !run.attempted {
		return
	}
	if run.err != nil {
		// Saved with the error, and tainted: the next apply builds again.
		c := plan.common()
		c.ID = types.StringValue(imageref.Familiar(run.target.clusterRepo()))
		c.ImageID, c.RepoDigest, c.ClusterRef = types.StringNull(), types.StringNull(), types.StringNull()
	}
	plan.common().BuildReason = types.StringValue(reasonCreated)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if run.err == nil {
		resp.Diagnostics.Append(recordInputs(ctx, resp.Private, run.inputs)...)
		resp.Diagnostics.Append(recordSummaries(ctx, resp.Private, plan.common().listings)...)
	}
	resp.Diagnostics.Append(writeTags(ctx, resp.Private, run.tags)...)
}

func (r *imageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.data.walks.applied.Store(true)
	plan, state, config := r.kind.newModel(), r.kind.newModel(), r.kind.newModel()
	resp.Diagnostics.Append(req.Plan.Get(ctx, plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.common().Status.IsUnknown() {
		// ModifyPlan planned no build (only timeouts or cluster_ref changed).
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		return
	}
	timeout, diags := plan.common().Timeouts.Update(ctx, defaultBuildTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := withBuildTimeout(ctx, "update", timeout)
	defer cancel()

	planned := plannedReason(ctx, req.Private)
	prior := previousInputs(ctx, req.Private)
	owned := r.ownedTags(ctx, state, req.Private, &resp.Diagnostics)
	plan.common().prior = prior
	run := r.run(ctx, plan, config, owned, func(inputs buildInputs) string { return applyReason(planned, inputs, prior) })
	resp.Diagnostics.Append(run.diags...)
	if !run.attempted {
		return
	}
	if p := plan.common(); p.BuildReason.IsUnknown() {
		p.BuildReason = types.StringValue(r.appliedReason(ctx, p, planned, run.inputs, prior, req.Private))
	}
	resp.Diagnostics.Append(recordObserved(ctx, resp.Private, nil)...)
	if run.err != nil {
		// The previous image is still there, with every tag where it was:
		// keep pointing at it, with the error recorded so that the next plan
		// rebuilds.
		p, s := plan.common(), state.common()
		p.ID, p.ImageID, p.RepoDigest, p.ClusterRef, p.InputDigest = s.ID, s.ImageID, s.RepoDigest, s.ClusterRef, s.InputDigest
		resp.Diagnostics.Append(keepPreviousRefOf(ctx, &p.Status, s.Status, r.kind.withStages())...)
	} else {
		held := removeTags(ctx, r.data.engine, owned, run.tags, &resp.Diagnostics, false)
		for name, imageID := range run.tags {
			held[name] = imageID
		}
		resp.Diagnostics.Append(recordInputs(ctx, resp.Private, run.inputs)...)
		resp.Diagnostics.Append(recordSummaries(ctx, resp.Private, plan.common().listings)...)
		resp.Diagnostics.Append(writeTags(ctx, resp.Private, held)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read keeps the resource in state, and marks it for a rebuild when its
// image is gone from the engine and (if it was pushed) from the registry.
// When neither can be asked, the state stays as it is: a plan needs no
// engine, only a build does.
func (r *imageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	// The digest key of an earlier version goes with the next refresh that
	// Terraform saves: without it, its keyed hash of secret_env is no clue.
	resp.Diagnostics.Append(dropDigestKey(ctx, resp.Private)...)
	if r.data == nil {
		return
	}
	r.data.walks.read.Store(true)
	stored, diags := readStoredResults(ctx, req.State)
	resp.Diagnostics.Append(diags...)
	ref := objectString(stored.Status, "ref")
	if resp.Diagnostics.HasError() {
		return
	}
	if ref.IsNull() || r.data.engineUnknown {
		resp.Diagnostics.Append(recordObserved(ctx, resp.Private, r.observe(ctx, req, !ref.IsNull()))...)
		return
	}
	// The engine (or registry) is asked while the inputs are read: the one
	// waits on a daemon, the other on the disk.
	var found bool
	var err error
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		found, err = r.builtImageExists(ctx, req.State, stored, ref.ValueString())
	}()
	resp.Diagnostics.Append(recordObserved(ctx, resp.Private, r.observe(ctx, req, true))...)
	<-checked
	if err != nil {
		resp.Diagnostics.AddWarning("Cannot check the built image",
			fmt.Sprintf("%v\n\nThe state of %s is kept as it is; only a build needs the engine.", err, ref.ValueString()))
		return
	}
	if found {
		return
	}
	tflog.Info(ctx, "built image is gone; it will be rebuilt", map[string]any{"ref": ref.ValueString()})
	state := r.kind.newModel()
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := state.common()
	c.Status, diags = imageMissingStatus(ctx, c.Status, r.kind.withStages())
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// builtImageExists says whether the image at ref is still where the
// last build put it: in the registry for an image only pushed there, else
// in the engine.
func (r *imageResource) builtImageExists(ctx context.Context, state attributeGetter, stored storedResults, ref string) (bool, error) {
	if k, ok := r.kind.(registryOnlyKind); ok && k.registryOnly(ctx, state) {
		return registryImageExists(ctx, r.data, ref)
	}
	return r.imageExists(ctx, stored, ref)
}

// observe is what changed since the last build among the inputs read from
// files and registries, as the plan's reason names them (see
// build_reason.go): the inputs of the state's arguments, read now. The
// plan reads the same through the plan's shared walks. Nothing when there
// is no image to compare with or the inputs cannot be read: the plan then
// says what is wrong.
func (r *imageResource) observe(ctx context.Context, req resource.ReadRequest, built bool) map[string]string {
	prior := previousInputs(ctx, req.Private)
	if !built || prior == nil {
		return nil
	}
	state := r.kind.newModel()
	if diags := req.State.Get(ctx, state); diags.HasError() {
		return nil
	}
	var ignored diag.Diagnostics
	cluster, known := r.data.cluster(state.common().Cluster, &ignored)
	if !known {
		return nil
	}
	c := state.common()
	c.prior, c.basesRecorded = prior, basesRecorded(ctx, req.Private)
	inputs, diags := r.kind.inputs(planning(ctx), r.data, state, cluster)
	if diags.HasError() || inputs == nil {
		return nil
	}
	return describeReadChanges(c, inputs, prior, readSummaries(ctx, req.Private))
}

// appliedReason is build_reason after a build whose plan could not say it:
// the planned reason, with the changed paths the apply's own reading of the
// trees tells.
func (r *imageResource) appliedReason(ctx context.Context, m *imageModel, planned string, inputs, prior buildInputs, private privateGetter) string {
	if planned != "" && planned != reasonInputsChanged && !strings.HasPrefix(planned, reasonInputsChanged+":") {
		return planned
	}
	if prior == nil {
		return reasonInputsChanged
	}
	parts := describeReadChanges(m, inputs, prior, readSummaries(ctx, private))
	for _, name := range inputs.changedSince(prior) {
		if _, ok := parts[name]; !ok && !slices.Contains(retiredInputs, name) {
			parts[name] = name
		}
	}
	if reason := composeReason(parts); reason != "" {
		return reason
	}
	return reasonInputsChanged
}

// imageExists looks for the image in the engine and, if it was pushed or
// only ever lived in a registry, there: a fresh CI runner has an empty
// engine, but a registry still serving the image is enough.
func (r *imageResource) imageExists(ctx context.Context, m storedResults, ref string) (bool, error) {
	if !m.ImageID.IsNull() {
		_, found, err := r.data.engine.InspectImage(ctx, ref)
		if err != nil || found {
			return found, err
		}
		if m.RepoDigest.IsNull() {
			return false, nil
		}
	}
	return registry.Exists(ctx, r.data.engine, r.data.credentials, ref)
}

func (r *imageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	state := r.kind.newModel()
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	if resp.Diagnostics.HasError() || r.data == nil {
		return
	}
	r.data.walks.applied.Store(true)
	held := removeTags(ctx, r.data.engine, r.ownedTags(ctx, state, req.Private, &resp.Diagnostics), nil, &resp.Diagnostics, true)
	for name := range held {
		resp.Diagnostics.AddWarning("Image tag left in place",
			fmt.Sprintf("A container still uses the image that %s names, so the engine keeps that tag; remove it with `docker rmi %s` once the container is gone.", name, name))
	}
}

// ownedTags are the tags the resource created: its record in private state,
// or, for state written before the record, status.ref and the fixed names
// while they name its image.
func (r *imageResource) ownedTags(ctx context.Context, m kindModel, private privateGetter, diags *diag.Diagnostics) tagRecord {
	if rec, ok := readTags(ctx, private); ok {
		return rec
	}
	c := m.common()
	status, ok, d := fromStatusObject(ctx, c.Status, r.kind.withStages())
	diags.Append(d...)
	if !ok || status.Ref.IsNull() || c.ImageID.IsNull() || c.ImageID.IsUnknown() {
		return nil
	}
	rec := tagRecord{status.Ref.ValueString(): c.ImageID.ValueString()}
	target, err := r.target(c)
	if err != nil {
		return rec
	}
	names, err := r.kind.fixedNames(ctx, m, target)
	if err != nil {
		return rec
	}
	for _, name := range names {
		rec[name] = c.ImageID.ValueString()
	}
	return rec
}

// target is where m's image goes: its repository, moved into the cluster's
// registry.
func (r *imageResource) target(m *imageModel) (buildTarget, error) {
	return newBuildTarget(r.data.clusters[m.Cluster.ValueString()], m.Ref.ValueString())
}

// buildRun is one apply's build of a resource.
type buildRun struct {
	// attempted: the build was started, so its outcome is to be saved.
	attempted bool
	// err is the failure of the build, name or push; diags hold it too.
	err    error
	target buildTarget
	inputs buildInputs
	// tags are the tags the resource holds on the new image.
	tags  tagRecord
	diags diag.Diagnostics
}

// run digests the inputs, builds, names, pushes and fills in m's results.
// owned is the previous build's tag record. A failure puts every tag back
// where it was and leaves no tag of this build.
func (r *imageResource) run(ctx context.Context, m, config kindModel, owned tagRecord, reason func(buildInputs) string) buildRun {
	var run buildRun
	c := m.common()
	target, err := r.target(c)
	if err != nil {
		run.diags.AddAttributeError(path.Root("ref"), "Invalid ref", err.Error())
		return run
	}
	run.target = target
	release, err := r.data.buildSlots.acquire(ctx, c.Ref.ValueString())
	if err != nil {
		run.diags.AddError("Image build not started", err.Error())
		return run
	}
	defer release()
	// Digested before the build: the digest is of what this build reads.
	inputs, diags := r.kind.inputs(ctx, r.data, m, target.cluster)
	run.diags.Append(diags...)
	if run.diags.HasError() {
		return run
	}
	if inputs == nil {
		run.diags.AddError("Build inputs unknown at apply", "Some input of the build is still unknown at apply; this is a bug in the provider.")
		return run
	}
	run.inputs = inputs
	builder, err := r.kind.newBuilder(ctx, r.data, m, config, target)
	if err != nil {
		run.diags.AddError("Invalid build arguments", err.Error())
		return run
	}

	run.attempted = true
	started := time.Now()
	inputsRef := r.inputsRef(ctx, m, config, target, inputs)
	if inputsRef != "" {
		if found, stage, ok := r.adopt(ctx, m, target, inputsRef); ok {
			r.recordAdopted(ctx, m, target, found, stage, reason(inputs), started, inputs, inputsRef, &run)
			return run
		}
	}
	built, err := builder.build(ctx)
	stages := built.stages
	tags := newTagging(r.data.engine, built.imageID, owned)
	var statusRef, repoDigest string
	if err == nil {
		statusRef, repoDigest, err = r.name(ctx, m, target, built, tags)
	}
	if err == nil && built.imageID != "" && target.needsPush(c.ClusterNeeds.ValueString()) {
		var push stageStatusModel
		repoDigest, push, err = r.push(ctx, m, target, statusRef)
		stages = append(stages, push)
	}
	if err != nil {
		tags.rollback(ctx)
	}
	if err == nil && inputsRef != "" && repoDigest != "" {
		r.tagByInputs(ctx, statusRef, inputsRef)
	}
	r.dropScratchTags(ctx, built)
	run.err, run.tags = err, tags.created

	status := completedStatus(statusRef, reason(inputs), started, err)
	status.StageStatuses = stages
	if err != nil {
		status.Ref = types.StringNull()
	}
	c.Status, diags = toStatusObject(ctx, status, r.kind.withStages())
	run.diags.Append(diags...)
	c.InputDigest = types.StringValue(inputs.digest())
	c.RepoDigest = optionalString(repoDigest)
	c.ImageID = optionalString(built.imageID)
	if _, digest, ok := strings.Cut(repoDigest, "@"); ok && built.idIsDigest && err == nil {
		c.ImageID = types.StringValue(digest)
	}
	c.ID = types.StringValue(statusRef)
	c.ClusterRef = target.cluster.refFromCluster(statusRef)
	if err != nil {
		run.diags.AddError("Image build failed", err.Error())
	}
	return run
}

// name gives a built image its immutable ref and fixed names. An image only
// in a registry gets its immutable tag there. It returns status.ref, and the
// digest reference when the registry was asked.
func (r *imageResource) name(ctx context.Context, m kindModel, target buildTarget, built builtImage, tags *tagging) (string, string, error) {
	if built.imageID == "" {
		ref, digest, err := registry.TagImmutable(ctx, r.data.credentials, built.ref, target.tagPrefixFor(built.ref))
		if err != nil {
			return "", "", err
		}
		return ref, digestRef(ref, digest), nil
	}
	statusRef, err := target.placed.Immutable(built.imageID)
	if err != nil {
		return "", "", err
	}
	names, err := r.kind.fixedNames(ctx, m, target)
	if err != nil {
		return "", "", err
	}
	for _, name := range append([]string{statusRef}, names...) {
		if err := tags.tag(ctx, name); err != nil {
			return "", "", err
		}
	}
	return statusRef, "", nil
}

// tagPrefixFor is what starts the tags of an image that ref names: the
// single-name prefix in the placed repository, nothing elsewhere (a command
// with output_tag in remote mode pushes to ref as written).
func (t buildTarget) tagPrefixFor(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil || reference.TrimNamed(named).String() != t.placed.Repo.String() {
		return ""
	}
	return t.placed.TagPrefix
}

// dropScratchTags removes the names a build made for itself. They are
// unique to the build, so no one else can hold them.
func (r *imageResource) dropScratchTags(ctx context.Context, built builtImage) {
	for _, scratch := range built.scratchTags {
		if err := r.data.engine.Untag(ctx, scratch); err != nil {
			tflog.Warn(ctx, "could not remove a build's temporary tag", map[string]any{"tag": scratch, "error": err.Error()})
		}
	}
}

// push pushes status.ref and the fixed names that name a registry, and
// reports it as the stage "docker push" (as Tilt does). It returns the
// digest reference of status.ref.
func (r *imageResource) push(ctx context.Context, m kindModel, target buildTarget, statusRef string) (string, stageStatusModel, error) {
	stage := stageStatusModel{Name: types.StringValue(pushStageName), Cached: types.BoolValue(false), Error: types.StringNull()}
	names, err := r.kind.fixedNames(ctx, m, target)
	if err != nil {
		return "", stage, err
	}
	stage.StartedAt = microTime(time.Now())
	refs := []string{statusRef}
	for _, name := range names {
		if namesRegistry(name) {
			refs = append(refs, name)
		}
	}
	var digest string
	for i, ref := range refs {
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

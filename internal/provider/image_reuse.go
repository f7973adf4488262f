package provider

import (
	"context"
	"time"

	"github.com/distribution/reference"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/imageref"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
)

// Build once for many workspaces. input_digest is the same on every machine,
// so a pushed image is also tagged in its repository by its inputs
// (<repo>:<prefix>tf-in-<32 hex>), and a build first looks that tag up: when
// the registry has it, the image is adopted (no build), with the status.ref
// that the build which pushed it recorded. It applies only where the digest
// sees everything the image is made of; see reuseBlocker.

// reuseStagePrefix starts the one stage of an adopted image.
const reuseStagePrefix = "reused "

// inputsRef is the inputs tag of m's image in its repository, or "" when
// reuse does not apply: reuse_from_registry = false, an image that stays in
// the engine, an input the digest cannot see, or a fixed name outside the
// repository (the registry can copy a manifest only within one).
func (r *imageResource) inputsRef(ctx context.Context, m, config kindModel, target buildTarget, inputs buildInputs) string {
	c := m.common()
	if !c.ReuseFromRegistry.IsNull() && !c.ReuseFromRegistry.ValueBool() {
		return ""
	}
	if !target.needsPush(c.ClusterNeeds.ValueString()) {
		return ""
	}
	if why := r.kind.reuseBlocker(ctx, m, config); why != "" {
		tflog.Info(ctx, "the image is not reused from the registry nor tagged by its inputs", map[string]any{"because": why})
		return ""
	}
	names, err := r.kind.fixedNames(ctx, m, target)
	if err != nil {
		return ""
	}
	for _, name := range names {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil || named.Name() != target.placed.Repo.Name() {
			tflog.Info(ctx, "the image is not reused from the registry: a name is outside its repository", map[string]any{"name": name})
			return ""
		}
	}
	tag, err := imageref.InputsTag(inputs.digest())
	if err != nil {
		return ""
	}
	ref, err := target.placed.Tagged(tag)
	if err != nil {
		return ""
	}
	return ref
}

// adopt looks inputsRef up and, when the registry has it and its content
// tag, gives the image m's fixed names there. ok is false when the image is
// to be built: not there, or the registry failed (the build then pushes,
// and says what is wrong with the registry if anything is).
func (r *imageResource) adopt(ctx context.Context, m kindModel, target buildTarget, inputsRef string) (registry.Adopted, stageStatusModel, bool) {
	stage := stageStatusModel{Name: types.StringValue(reuseStagePrefix + inputsRef), Cached: types.BoolValue(true),
		Error: types.StringNull(), StartedAt: microTime(time.Now())}
	found, ok, err := registry.FindByInputs(ctx, r.data.credentials, inputsRef, target.placed.TagPrefix)
	if err != nil {
		tflog.Warn(ctx, "could not look the image up by its inputs; building it", map[string]any{"error": err.Error()})
		return found, stage, false
	}
	if !ok {
		return found, stage, false
	}
	names, err := r.kind.fixedNames(ctx, m, target)
	if err != nil {
		return found, stage, false
	}
	for _, name := range names {
		if _, err := registry.Retag(ctx, r.data.credentials, found.Ref, name); err != nil {
			tflog.Warn(ctx, "could not give the reused image its name; building it", map[string]any{"name": name, "error": err.Error()})
			return found, stage, false
		}
	}
	stage.FinishedAt = microTime(time.Now())
	tflog.Info(ctx, "reusing the image the registry holds for the same inputs", map[string]any{"ref": found.Ref, "inputs_tag": inputsRef})
	return found, stage, true
}

// recordAdopted fills in m's results for an adopted image: status.ref and
// image_id as the build that pushed it recorded them; no tag in the engine.
func (r *imageResource) recordAdopted(ctx context.Context, m kindModel, target buildTarget, found registry.Adopted, stage stageStatusModel,
	reason string, started time.Time, inputs buildInputs, inputsRef string, run *buildRun) {
	c := m.common()
	status := completedStatus(found.Ref, reason+", "+reuseStagePrefix+inputsRef, started, nil)
	status.StageStatuses = []stageStatusModel{stage}
	var diags diag.Diagnostics
	c.Status, diags = toStatusObject(ctx, status, r.kind.withStages())
	run.diags.Append(diags...)
	c.InputDigest = types.StringValue(inputs.digest())
	c.RepoDigest = optionalString(digestRef(found.Ref, found.Digest))
	c.ImageID = types.StringValue(found.ImageID)
	c.ID = types.StringValue(found.Ref)
	c.ClusterRef = target.cluster.refFromCluster(found.Ref)
	run.tags = tagRecord{}
}

// tagByInputs gives a pushed image its inputs tag. A failure only costs
// another workspace a build, so it is logged, not an error.
func (r *imageResource) tagByInputs(ctx context.Context, statusRef, inputsRef string) {
	if _, err := registry.Retag(ctx, r.data.credentials, statusRef, inputsRef); err != nil {
		tflog.Warn(ctx, "could not tag the image by its inputs; other workspaces will build it", map[string]any{"error": err.Error()})
	}
}

package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// imageSchemaVersion is the state version of both image resources. Version
// 1 added triggers and made input_digest canonical.
const imageSchemaVersion = 1

// withCommonAttributes adds to a kind's schema the attributes every image
// resource has.
func withCommonAttributes(ctx context.Context, s schema.Schema, withStages bool) schema.Schema {
	s.Version = imageSchemaVersion
	common := map[string]schema.Attribute{
		"id":            schema.StringAttribute{Computed: true, Description: "Same as `status.ref` once an image exists."},
		"cluster":       clusterAttribute(),
		"cluster_needs": clusterNeedsAttribute(),
		"triggers": schema.MapAttribute{
			Optional:    true,
			ElementType: types.StringType,
			Description: "Arbitrary strings; any change rebuilds the image in place (never replaces it). Use it for a rebuild that no " +
				"file or argument shows: a generator of the same apply (`{ gen = terraform_data.gen.id }`), a schedule (`time_rotating`; for new base images, `pull = true` of `imagebuild_docker_image` needs none).",
		},
		"reuse_from_registry": schema.BoolAttribute{
			Optional: true,
			Description: "Build once for many workspaces (default `true`). An image that goes to a registry is also tagged there by its inputs " +
				"(`<repository>:tf-in-<32 hex digits of input_digest>`, after the single-name tag prefix), and a build first looks that tag up: " +
				"when the registry has it, the image is adopted instead of built (no build stage; `status.ref` is the one the build that pushed it " +
				"recorded; `status.completed.reason` ends with `reused <inputs tag>`). Never for an image that stays in the engine, nor for one whose " +
				"inputs have a part `input_digest` cannot see: `secrets`, `secret_values_wo`, `ssh_agent_configs`, `pull = true`, `load = true`, " +
				"`secret_env`, or a name (`extra_tags`) outside the repository. `false` neither looks the tag up nor makes it. Not an input: " +
				"changing it rebuilds nothing.",
		},
		"status":       statusSchema(withStages),
		"repo_digest":  schema.StringAttribute{Computed: true, Description: "Registry digest reference of the pushed image, once pushed."},
		"cluster_ref":  clusterRefAttribute(),
		"input_digest": schema.StringAttribute{Computed: true, Description: "Digest of everything that determines the build; a change rebuilds the image. Unknown in a plan that builds: the apply digests what it builds."},
		"build_reason": schema.StringAttribute{
			Computed: true,
			Description: "Why the planned build runs, in the plan: `created`, `image missing`, `previous build failed`, `not pushed`, or " +
				"`inputs changed: ` with the inputs that changed (`context files src/api/handler.go, src/api/util.go (+3 more), args`) and " +
				"`base image <ref> moved`. Changed paths of the context, named contexts and `deps` come from a summary of the last build's " +
				"files kept in private state (at most 32 KiB): every path in a context of up to about 2,000 files, else the deepest recorded " +
				"directory (`src/api/`). `(known after apply)` when the plan cannot say it in a way the apply keeps: an argument unknown until " +
				"apply, or a plan with `-refresh=false` (the paths are read during the refresh). Unchanged when no build is planned.",
		},
	}
	for name, a := range common {
		s.Attributes[name] = a
	}
	if s.Blocks == nil {
		s.Blocks = map[string]schema.Block{}
	}
	s.Blocks["timeouts"] = timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true})
	return s
}

// DockerImageSchema is imagebuild_docker_image's whole schema, for the
// bench's schema floor (scripts/bench/floorprovider): a resource that does
// nothing with this schema shows what the framework costs ours.
func DockerImageSchema(ctx context.Context) schema.Schema {
	var resp resource.SchemaResponse
	(&imageResource{kind: dockerImageKind{}}).Schema(ctx, resource.SchemaRequest{}, &resp)
	return resp.Schema
}

// UpgradeState moves version 0 state (before triggers) to version 1. Its
// input_digest is of the earlier scheme, so the first plan after the
// upgrade rebuilds once.
func (r *imageResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{0: {StateUpgrader: upgradeFromV0}}
}

func upgradeFromV0(_ context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	var attrs map[string]json.RawMessage
	if req.RawState == nil || json.Unmarshal(req.RawState.JSON, &attrs) != nil {
		resp.Diagnostics.AddError("Cannot upgrade the state", "The stored state of version 0 is not a JSON object.")
		return
	}
	attrs["triggers"] = json.RawMessage("null")
	raw, err := json.Marshal(attrs)
	if err != nil {
		resp.Diagnostics.AddError("Cannot upgrade the state", fmt.Sprintf("Encoding the upgraded state: %v", err))
		return
	}
	resp.DynamicValue = &tfprotov6.DynamicValue{JSON: raw}
}

func stringListAttribute(description string, each validator.String) schema.ListAttribute {
	return schema.ListAttribute{
		Optional:    true,
		ElementType: types.StringType,
		Description: description,
		Validators:  []validator.List{listvalidator.ValueStringsAre(each)},
	}
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
		Optional: true,
		Computed: true,
		Default:  stringdefault.StaticString(clusterNeedsPush),
		Description: "`push` (default): push `status.ref` (and the tags that name a registry) to the cluster's registry, or, for a " +
			"cluster without one, to the registry that `ref` names, if it names one (`ghcr.io/acme/api`); a ref without a registry " +
			"(`api`, `team/api`) stays in the engine. `base-image`: keep the image in the engine.",
		Validators: []validator.String{stringvalidator.OneOf(clusterNeedsPush, clusterNeedsBaseImage)},
	}
}

const (
	clusterNeedsPush      = "push"
	clusterNeedsBaseImage = "base-image"
)

package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The status attribute is the seed's Status object. Its Go form below is
// converted to and from types.Object, because a plan holds it as unknown.

type statusModel struct {
	Building      *buildingModel     `tfsdk:"building"`
	Completed     *completedModel    `tfsdk:"completed"`
	Ref           types.String       `tfsdk:"ref"`
	Waiting       *waitingModel      `tfsdk:"waiting"`
	StageStatuses []stageStatusModel `tfsdk:"stage_statuses"`
}

// cmdStatusModel is statusModel without stage statuses, which only BuildKit reports.
type cmdStatusModel struct {
	Building  *buildingModel  `tfsdk:"building"`
	Completed *completedModel `tfsdk:"completed"`
	Ref       types.String    `tfsdk:"ref"`
	Waiting   *waitingModel   `tfsdk:"waiting"`
}

type buildingModel struct {
	Reason    types.String `tfsdk:"reason"`
	StartedAt types.String `tfsdk:"started_at"`
}

type completedModel struct {
	Error      types.String `tfsdk:"error"`
	FinishedAt types.String `tfsdk:"finished_at"`
	Reason     types.String `tfsdk:"reason"`
	StartedAt  types.String `tfsdk:"started_at"`
}

type waitingModel struct {
	Reason types.String `tfsdk:"reason"`
}

type stageStatusModel struct {
	Name       types.String `tfsdk:"name"`
	Cached     types.Bool   `tfsdk:"cached"`
	Error      types.String `tfsdk:"error"`
	FinishedAt types.String `tfsdk:"finished_at"`
	StartedAt  types.String `tfsdk:"started_at"`
}

func (s statusModel) withoutStages() cmdStatusModel {
	return cmdStatusModel{Building: s.Building, Completed: s.Completed, Ref: s.Ref, Waiting: s.Waiting}
}

// microTime formats t as the seeds' MicroTime: RFC 3339, microseconds, UTC.
func microTime(t time.Time) types.String {
	return types.StringValue(t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}

func optionalMicroTime(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return microTime(*t)
}

func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// completedStatus is the status after a build that ran from started to now.
func completedStatus(ref string, reason string, started time.Time, buildErr error) statusModel {
	completed := &completedModel{
		Error:      types.StringNull(),
		FinishedAt: microTime(time.Now()),
		Reason:     types.StringValue(reason),
		StartedAt:  microTime(started),
	}
	if buildErr != nil {
		completed.Error = types.StringValue(buildErr.Error())
	}
	return statusModel{Completed: completed, Ref: optionalString(ref)}
}

func statusSchema(withStages bool) schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"building": schema.SingleNestedAttribute{
			Computed:    true,
			Description: "Set while a build is in progress; null once it has finished.",
			Attributes: map[string]schema.Attribute{
				"reason":     schema.StringAttribute{Computed: true, Description: "Why the image is building."},
				"started_at": schema.StringAttribute{Computed: true, Description: "When the build started (RFC 3339, microseconds, UTC)."},
			},
		},
		"completed": schema.SingleNestedAttribute{
			Computed:    true,
			Description: "The last finished build.",
			Attributes: map[string]schema.Attribute{
				"error":       schema.StringAttribute{Computed: true, Description: "Error message if the build failed; the resource is then tainted and rebuilt by the next apply."},
				"finished_at": schema.StringAttribute{Computed: true, Description: "When the build finished (RFC 3339, microseconds, UTC)."},
				"reason":      schema.StringAttribute{Computed: true, Description: "Why the build ran: created, which input changed, or image missing; followed by `, reused <inputs tag>` when the image was adopted from the registry instead of built (see `reuse_from_registry`)."},
				"started_at":  schema.StringAttribute{Computed: true, Description: "When the build started (RFC 3339, microseconds, UTC)."},
			},
		},
		"ref": schema.StringAttribute{
			Computed: true,
			Description: "Immutable reference of the built image, `<repository>:tf-<first 16 hex digits of the image ID>`, " +
				"with the repository moved into the cluster's registry if it has one. Pass this to the resources that run the image.",
		},
		"waiting": schema.SingleNestedAttribute{
			Computed:    true,
			Description: "Set while the build waits for something; null after apply.",
			Attributes: map[string]schema.Attribute{
				"reason": schema.StringAttribute{Computed: true, Description: "What the build is waiting for."},
			},
		},
	}
	if withStages {
		attrs["stage_statuses"] = schema.ListNestedAttribute{
			Computed:    true,
			Description: "One entry per BuildKit step of the last build, in the order the steps were first reported; a push adds a `docker push` stage.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"name":        schema.StringAttribute{Computed: true, Description: "The step, as BuildKit names it (e.g. `[2/3] RUN make`)."},
				"cached":      schema.BoolAttribute{Computed: true, Description: "Whether BuildKit reused a cached result."},
				"error":       schema.StringAttribute{Computed: true, Description: "Error message if the step failed."},
				"finished_at": schema.StringAttribute{Computed: true, Description: "When the step finished."},
				"started_at":  schema.StringAttribute{Computed: true, Description: "When the step started."},
			}},
		}
	}
	return schema.SingleNestedAttribute{
		Computed:    true,
		Description: "What the last build did, as the seed's Status object.",
		Attributes:  attrs,
	}
}

// statusAttrTypes returns the object type of the status attribute.
func statusAttrTypes(ctx context.Context, withStages bool) map[string]attr.Type {
	return statusSchema(withStages).GetType().(types.ObjectType).AttrTypes
}

// toStatusObject converts status to the attribute's value.
func toStatusObject(ctx context.Context, status statusModel, withStages bool) (types.Object, diag.Diagnostics) {
	if withStages {
		if status.StageStatuses == nil {
			status.StageStatuses = []stageStatusModel{}
		}
		return types.ObjectValueFrom(ctx, statusAttrTypes(ctx, true), status)
	}
	return types.ObjectValueFrom(ctx, statusAttrTypes(ctx, false), status.withoutStages())
}

// fromStatusObject reads a known status attribute; ok is false when it is null or unknown.
func fromStatusObject(ctx context.Context, obj types.Object, withStages bool) (status statusModel, ok bool, diags diag.Diagnostics) {
	if obj.IsNull() || obj.IsUnknown() {
		return status, false, nil
	}
	if withStages {
		diags = obj.As(ctx, &status, basetypes.ObjectAsOptions{})
		return status, !diags.HasError(), diags
	}
	var cmd cmdStatusModel
	diags = obj.As(ctx, &cmd, basetypes.ObjectAsOptions{})
	status = statusModel{Building: cmd.Building, Completed: cmd.Completed, Ref: cmd.Ref, Waiting: cmd.Waiting}
	return status, !diags.HasError(), diags
}

// keepPreviousRefOf sets the ref in *status back to the one in previous, for
// a rebuild that failed while the previous image still exists.
func keepPreviousRefOf(ctx context.Context, status *types.Object, previous types.Object, withStages bool) diag.Diagnostics {
	prev, ok, diags := fromStatusObject(ctx, previous, withStages)
	if !ok {
		return diags
	}
	cur, ok, d := fromStatusObject(ctx, *status, withStages)
	diags.Append(d...)
	if !ok {
		return diags
	}
	cur.Ref = prev.Ref
	*status, d = toStatusObject(ctx, cur, withStages)
	diags.Append(d...)
	return diags
}

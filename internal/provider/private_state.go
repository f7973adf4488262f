package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Private state keeps what the next plan and apply need to explain a
// rebuild: the per-input digests of the last build, and the reason planned.
const (
	// privateInputsKey names the inputs of the canonical digest scheme;
	// those recorded under the earlier "inputs" key are not comparable.
	privateInputsKey = "inputs/v1"
	privateReasonKey = "reason"
)

type privateGetter interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

type privateGetSetter interface {
	privateGetter
	privateSetter
}

// previousInputs are the inputs the last successful build recorded; nil if none.
func previousInputs(ctx context.Context, private privateGetter) buildInputs {
	var prev buildInputs
	if raw, diags := private.GetKey(ctx, privateInputsKey); !diags.HasError() && len(raw) > 0 {
		_ = json.Unmarshal(raw, &prev)
	}
	return prev
}

// privateBasesKey marks inputs recorded by a version that records base
// images (pull = true): only for those does a plan look the bases up, so
// that an upgrade rebuilds nothing (the previous build's bases are not
// known; the next build records them).
const privateBasesKey = "base images/v1"

// recordInputs keeps in to tell the next build which inputs changed.
func recordInputs(ctx context.Context, private privateSetter, in buildInputs) diag.Diagnostics {
	raw, _ := json.Marshal(in)
	diags := private.SetKey(ctx, privateInputsKey, raw)
	diags.Append(private.SetKey(ctx, privateBasesKey, []byte("true"))...)
	return diags
}

// basesRecorded says whether the last build's inputs hold its base images.
func basesRecorded(ctx context.Context, private privateGetter) bool {
	raw, diags := private.GetKey(ctx, privateBasesKey)
	return !diags.HasError() && string(raw) == "true"
}

// plannedReason is the reason ModifyPlan recorded for this apply; "" if none.
func plannedReason(ctx context.Context, private privateGetter) string {
	raw, diags := private.GetKey(ctx, privateReasonKey)
	var reason string
	if diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &reason) != nil {
		return ""
	}
	return reason
}

// imageMissingStatus marks status as waiting for a rebuild because the image
// is gone; the next plan then rebuilds in place with that reason.
func imageMissingStatus(ctx context.Context, status types.Object, withStages bool) (types.Object, diag.Diagnostics) {
	s, ok, diags := fromStatusObject(ctx, status, withStages)
	if !ok {
		return status, diags
	}
	s.Waiting = &waitingModel{Reason: types.StringValue(reasonImageMissing)}
	return toStatusObject(ctx, s, withStages)
}

// privateDigestKey held, before secret_env_version, the key of a keyed hash
// of secret_env values in the recorded inputs. Next to that hash it let
// anyone with the state try guesses at the values; Read drops it.
const privateDigestKey = "digest key"

// dropDigestKey removes the digest key of an earlier version, if any.
func dropDigestKey(ctx context.Context, private privateGetSetter) diag.Diagnostics {
	if raw, diags := private.GetKey(ctx, privateDigestKey); diags.HasError() || len(raw) == 0 {
		return nil
	}
	return private.SetKey(ctx, privateDigestKey, nil)
}

package provider

import (
	"context"
	"crypto/rand"
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

// privateDigestKey holds the resource's key for digesting secret values
// (secret_env): a keyed hash, never the value, goes into input_digest.
const privateDigestKey = "digest key"

// digestKey is the resource's key for secret values; nil if it has none yet.
func digestKey(ctx context.Context, private privateGetter) []byte {
	raw, diags := private.GetKey(ctx, privateDigestKey)
	var key []byte
	if diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &key) != nil {
		return nil
	}
	return key
}

// newDigestKey is a fresh random key.
func newDigestKey() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}

func writeDigestKey(ctx context.Context, private privateSetter, key []byte) diag.Diagnostics {
	raw, _ := json.Marshal(key)
	return private.SetKey(ctx, privateDigestKey, raw)
}

package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// buildInputs maps each input of a build (an argument, the context files,
// the Dockerfile) to a digest of its value. input_digest digests the whole
// map; the map itself is kept in private state so that the next build can
// say which inputs changed.
type buildInputs map[string]string

const (
	privateInputsKey = "inputs"
	privateReasonKey = "reason"

	reasonCreated      = "created"
	reasonImageMissing = "image missing"
	reasonFailed       = "previous build failed"
)

func digestOf(v any) string {
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// digest is the input_digest of all inputs.
func (in buildInputs) digest() string {
	names := make([]string, 0, len(in))
	for name := range in {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s=%s\n", name, in[name])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// changedSince names the inputs that differ from prev, sorted.
func (in buildInputs) changedSince(prev buildInputs) []string {
	var changed []string
	for name, d := range in {
		if prev[name] != d {
			changed = append(changed, name)
		}
	}
	for name := range prev {
		if _, ok := in[name]; !ok {
			changed = append(changed, name)
		}
	}
	sort.Strings(changed)
	return changed
}

// addValues records each attribute value under its name.
func (in buildInputs) addValues(values map[string]attr.Value) {
	for name, v := range values {
		in[name] = digestOf(v.String())
	}
}

// allKnown says whether every value, list elements and map values included,
// is known, i.e. whether the inputs can be digested at plan time.
func allKnown(values ...attr.Value) bool {
	for _, v := range values {
		if v.IsUnknown() {
			return false
		}
		switch c := v.(type) {
		case basetypes.ListValue:
			if !allKnown(c.Elements()...) {
				return false
			}
		case basetypes.MapValue:
			for _, e := range c.Elements() {
				if e.IsUnknown() {
					return false
				}
			}
		}
	}
	return true
}

// rebuildPlan is what ModifyPlan decided about one resource.
type rebuildPlan struct {
	// current is nil when some input is unknown until apply.
	current    buildInputs
	withStages bool
}

// apply plans a rebuild, or no change, by comparing the current inputs with
// the state's, and records the reason and the inputs in private state.
func (p rebuildPlan) apply(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	// resp.Private may share storage with req.Private: read the previous
	// inputs before recording the current ones.
	prev := previousInputs(ctx, req.Private)
	digest := types.StringUnknown()
	if p.current != nil {
		digest = types.StringValue(p.current.digest())
		raw, _ := json.Marshal(p.current)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateInputsKey, raw)...)
	}
	if req.State.Raw.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("input_digest"), digest)...)
		p.setReason(ctx, resp, reasonCreated)
		return
	}

	var stateDigest types.String
	var status types.Object
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("input_digest"), &stateDigest)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("status"), &status)...)
	if resp.Diagnostics.HasError() {
		return
	}
	reason := p.rebuildReason(ctx, prev, status, stateDigest, digest)
	if reason == "" {
		// Nothing that determines the image changed: keep the build's
		// results, so that a change of timeouts alone does not rebuild.
		for _, name := range []string{"id", "status", "image_id", "repo_digest", "cluster_ref", "input_digest"} {
			var v attr.Value
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root(name), &v)...)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), v)...)
		}
		return
	}
	markRebuild(ctx, resp, p.withStages)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("input_digest"), digest)...)
	p.setReason(ctx, resp, reason)
}

// rebuildReason says why the image must be built again; "" if it need not.
func (p rebuildPlan) rebuildReason(ctx context.Context, prev buildInputs, status types.Object, stateDigest, digest types.String) string {
	s, ok, _ := fromStatusObject(ctx, status, p.withStages)
	switch {
	case ok && s.Completed != nil && !s.Completed.Error.IsNull():
		return reasonFailed
	case ok && s.Waiting != nil && s.Waiting.Reason.ValueString() == reasonImageMissing:
		return reasonImageMissing
	case digest.IsUnknown():
		return "inputs changed"
	case digest.Equal(stateDigest):
		return ""
	}
	if prev == nil {
		return "inputs changed"
	}
	return "inputs changed: " + strings.Join(p.current.changedSince(prev), ", ")
}

func (p rebuildPlan) setReason(ctx context.Context, resp *resource.ModifyPlanResponse, reason string) {
	raw, _ := json.Marshal(reason)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateReasonKey, raw)...)
}

func previousInputs(ctx context.Context, private privateGetter) buildInputs {
	var prev buildInputs
	if raw, diags := private.GetKey(ctx, privateInputsKey); !diags.HasError() && len(raw) > 0 {
		_ = json.Unmarshal(raw, &prev)
	}
	return prev
}

type privateGetter interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

// plannedReason is the reason ModifyPlan recorded for this apply.
func plannedReason(ctx context.Context, private privateGetter, fallback string) string {
	raw, diags := private.GetKey(ctx, privateReasonKey)
	var reason string
	if diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &reason) != nil || reason == "" {
		return fallback
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

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

// recordInputs keeps in to tell the next build which inputs changed. Create
// must call it itself: the framework does not hand a create the private data
// that ModifyPlan planned.
func recordInputs(ctx context.Context, private privateSetter, in buildInputs) diag.Diagnostics {
	if in == nil {
		return nil
	}
	raw, _ := json.Marshal(in)
	return private.SetKey(ctx, privateInputsKey, raw)
}

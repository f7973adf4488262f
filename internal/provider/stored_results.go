package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// attributeGetter is a tfsdk.State, Plan or Config.
type attributeGetter interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

// storedResults are the computed attributes that a refresh and a no-change
// plan look at. They are read one by one: a Get of the whole model reflects
// some 40 attributes and the stage list into structs, which with the
// framework's own work on each request made most of a resource's share of
// a plan of many images.
type storedResults struct {
	ID, ImageID, RepoDigest, ClusterRef, InputDigest, BuildReason types.String
	Status                                                        types.Object
}

func readStoredResults(ctx context.Context, from attributeGetter) (storedResults, diag.Diagnostics) {
	var r storedResults
	var diags diag.Diagnostics
	for name, target := range map[string]any{
		"id": &r.ID, "image_id": &r.ImageID, "repo_digest": &r.RepoDigest, "cluster_ref": &r.ClusterRef,
		"input_digest": &r.InputDigest, "build_reason": &r.BuildReason, "status": &r.Status,
	} {
		diags.Append(from.GetAttribute(ctx, path.Root(name), target)...)
	}
	return r, diags
}

// resultsOf is the same attributes of a model.
func resultsOf(m *imageModel) storedResults {
	return storedResults{
		ID: m.ID, ImageID: m.ImageID, RepoDigest: m.RepoDigest, ClusterRef: m.ClusterRef,
		InputDigest: m.InputDigest, BuildReason: m.BuildReason, Status: m.Status,
	}
}

func (r storedResults) equal(o storedResults) bool {
	return r.ID.Equal(o.ID) && r.ImageID.Equal(o.ImageID) && r.RepoDigest.Equal(o.RepoDigest) &&
		r.ClusterRef.Equal(o.ClusterRef) && r.InputDigest.Equal(o.InputDigest) && r.BuildReason.Equal(o.BuildReason) &&
		r.Status.Equal(o.Status)
}

// objectString is the string at names inside obj (status, "completed",
// "error"), without reflecting the objects into structs; null when obj or
// any object on the way is null or unknown.
func objectString(obj types.Object, names ...string) types.String {
	for i, name := range names {
		if obj.IsNull() || obj.IsUnknown() {
			break
		}
		value := obj.Attributes()[name]
		if i == len(names)-1 {
			if s, ok := value.(types.String); ok && !s.IsUnknown() {
				return s
			}
			break
		}
		next, ok := value.(types.Object)
		if !ok {
			break
		}
		obj = next
	}
	return types.StringNull()
}

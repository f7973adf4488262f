package main

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	imagebuild "github.com/imagebuild/terraform-provider-imagebuild/internal/provider"
)

// A floor_image apply must leave no unknown value, nested ones included,
// and keep the planned values as they are.
func TestStoreKnownFillsTheDockerImageSchema(t *testing.T) {
	ctx := context.Background()
	s := imagebuild.DockerImageSchema(ctx)
	if diags := s.ValidateImplementation(ctx); diags.HasError() {
		t.Fatalf("the schema is invalid: %v", diags)
	}
	objectType := s.Type().TerraformType(ctx).(tftypes.Object)
	attrs := map[string]tftypes.Value{}
	for name, attrType := range objectType.AttributeTypes {
		attrs[name] = tftypes.NewValue(attrType, tftypes.UnknownValue)
	}
	attrs["ref"] = tftypes.NewValue(tftypes.String, "imagebuild-bench/floor-0")

	state := tfsdk.State{Schema: s}
	if diags := storeKnown(tfsdk.Plan{Schema: s, Raw: tftypes.NewValue(objectType, attrs)}, &state); diags.HasError() {
		t.Fatalf("storeKnown: %v", diags)
	}
	err := tftypes.Walk(state.Raw, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if !v.IsKnown() {
			t.Errorf("%s is unknown in the state", p)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for attr, want := range map[string]string{"ref": "imagebuild-bench/floor-0", "image_id": "floor"} {
		var got string
		if diags := state.GetAttribute(ctx, path.Root(attr), &got); diags.HasError() || got != want {
			t.Errorf("%s = %q (%v), want %q", attr, got, diags, want)
		}
	}
	var statusRef string
	if diags := state.GetAttribute(ctx, path.Root("status").AtName("ref"), &statusRef); diags.HasError() || statusRef != "floor" {
		t.Errorf("status.ref = %q (%v), want the placeholder", statusRef, diags)
	}
}

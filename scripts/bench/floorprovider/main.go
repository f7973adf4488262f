// Command floorprovider is the least a terraform-plugin-framework provider
// can be: resources that do no work. `make bench` plans it beside the
// imagebuild provider, so that what Terraform, go-plugin and the framework
// cost for a resource, whatever the resource does, is measured on the same
// machine in the same run. floor_thing has two attributes; floor_image has
// imagebuild_docker_image's schema, whose size the framework's work on each
// request grows with.
package main

import (
	"context"
	"fmt"
	"log"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	imagebuild "github.com/imagebuild/terraform-provider-imagebuild/internal/provider"
)

// Address is where the bench's dev_overrides find this provider.
const Address = "registry.terraform.io/imagebuild-bench/floor"

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return floorProvider{} },
		providerserver.ServeOpts{Address: Address})
	if err != nil {
		log.Fatal(err)
	}
}

type floorProvider struct{}

func (floorProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floor"
}

func (floorProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{}
}

func (floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (floorProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return thing{} },
		func() resource.Resource { return image{} },
	}
}

func (floorProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// thing stores its name as its id and does nothing else.
type thing struct{}

type thingModel struct {
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
}

func (thing) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "floor_thing"
}

func (thing) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":   schema.StringAttribute{Computed: true},
		"name": schema.StringAttribute{Required: true},
	}}
}

func (thing) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics = store(ctx, req.Plan, &resp.State)
}

func (thing) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (thing) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics = store(ctx, req.Plan, &resp.State)
}

// store saves the planned name as the id.
func store(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State) diag.Diagnostics {
	var m thingModel
	diags := plan.Get(ctx, &m)
	m.ID = m.Name
	return append(diags, state.Set(ctx, &m)...)
}

func (thing) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// image has imagebuild_docker_image's schema, with its validators and
// defaults, and does nothing: no ModifyPlan, no build. Its apply stores the
// plan with every unknown value made known, so that its state holds non-null
// computed values as a built image's does.
type image struct{}

func (image) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "floor_image"
}

func (image) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = imagebuild.DockerImageSchema(ctx)
}

func (image) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics = storeKnown(req.Plan, &resp.State)
}

func (image) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (image) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics = storeKnown(req.Plan, &resp.State)
}

func (image) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// storeKnown saves the plan as the state, each unknown value replaced by
// its type's placeholder.
func storeKnown(plan tfsdk.Plan, state *tfsdk.State) diag.Diagnostics {
	var diags diag.Diagnostics
	known, err := tftypes.Transform(plan.Raw, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		return placeholder(v.Type())
	})
	if err != nil {
		diags.AddError("Cannot make the plan known", err.Error())
		return diags
	}
	state.Raw = known
	return diags
}

// placeholder is a known value of t: "floor", 0, false, an empty
// collection, or an object of placeholders.
func placeholder(t tftypes.Type) (tftypes.Value, error) {
	switch t := t.(type) {
	case tftypes.List, tftypes.Set:
		return tftypes.NewValue(t, []tftypes.Value{}), nil
	case tftypes.Map:
		return tftypes.NewValue(t, map[string]tftypes.Value{}), nil
	case tftypes.Object:
		attrs := make(map[string]tftypes.Value, len(t.AttributeTypes))
		for name, attrType := range t.AttributeTypes {
			v, err := placeholder(attrType)
			if err != nil {
				return tftypes.Value{}, err
			}
			attrs[name] = v
		}
		return tftypes.NewValue(t, attrs), nil
	}
	switch {
	case t.Equal(tftypes.String):
		return tftypes.NewValue(t, "floor"), nil
	case t.Equal(tftypes.Number):
		return tftypes.NewValue(t, new(big.Float)), nil
	case t.Equal(tftypes.Bool):
		return tftypes.NewValue(t, false), nil
	}
	return tftypes.Value{}, fmt.Errorf("no placeholder for a value of type %s", t)
}

package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// BenchmarkResourcePlanRequests is the provider's share of one resource in a
// no-change plan, in process: the four requests Terraform sends for it
// (upgrade of the stored state, read, validate, plan). It needs a state
// written by an apply: IMAGEBUILD_BENCH_STATE names its terraform.tfstate
// (`make bench` leaves one in <workdir>/tf-many with -keep), and the
// engine that built it; the context walk is shared (the plan walk's memo),
// as it is among the resources of one plan.
func BenchmarkResourcePlanRequests(b *testing.B) {
	stateFile := os.Getenv("IMAGEBUILD_BENCH_STATE")
	if stateFile == "" {
		b.Skip("IMAGEBUILD_BENCH_STATE is not set")
	}
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("bench")())()
	if err != nil {
		b.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		b.Fatal(err)
	}
	providerConfig := emptyObject(b, schemas.Provider.ValueType())
	if resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: providerConfig}); err != nil || len(resp.Diagnostics) > 0 {
		b.Fatalf("configure: %v %v", err, resp.Diagnostics)
	}
	const typeName = "imagebuild_docker_image"
	typ := schemas.ResourceSchemas[typeName].ValueType()
	attrs, private := firstInstance(b, stateFile)
	upgrade := &tfprotov6.UpgradeResourceStateRequest{TypeName: typeName, Version: 1, RawState: &tfprotov6.RawState{JSON: attrs}}
	upgraded, err := srv.UpgradeResourceState(ctx, upgrade)
	if err != nil || len(upgraded.Diagnostics) > 0 {
		b.Fatalf("upgrade: %v %v", err, upgraded.Diagnostics)
	}
	config := configOf(b, typ, upgraded.UpgradedState)
	for b.Loop() {
		if _, err := srv.UpgradeResourceState(ctx, upgrade); err != nil {
			b.Fatal(err)
		}
		read, err := srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: typeName, CurrentState: upgraded.UpgradedState, Private: private})
		if err != nil || len(read.Diagnostics) > 0 {
			b.Fatalf("read: %v %v", err, read.Diagnostics)
		}
		if _, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: typeName, Config: config}); err != nil {
			b.Fatal(err)
		}
		plan, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: typeName, PriorState: read.NewState, ProposedNewState: read.NewState, Config: config, PriorPrivate: read.Private,
		})
		if err != nil || len(plan.Diagnostics) > 0 {
			b.Fatalf("plan: %v %v", err, plan.Diagnostics)
		}
	}
}

// firstInstance returns the attributes (JSON) and private state of the first
// resource instance of a state file.
func firstInstance(b *testing.B, file string) (json.RawMessage, []byte) {
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Instances []struct {
				Attributes json.RawMessage `json:"attributes"`
				Private    string          `json:"private"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &state); err != nil || len(state.Resources) == 0 || len(state.Resources[0].Instances) == 0 {
		b.Fatalf("%s: no resource instance (%v)", file, err)
	}
	instance := state.Resources[0].Instances[0]
	private, err := base64.StdEncoding.DecodeString(instance.Private)
	if err != nil {
		b.Fatal(err)
	}
	return instance.Attributes, private
}

// emptyObject is a configuration that sets nothing: null attributes, no blocks.
func emptyObject(b *testing.B, typ tftypes.Type) *tfprotov6.DynamicValue {
	object := typ.(tftypes.Object)
	values := map[string]tftypes.Value{}
	for name, t := range object.AttributeTypes {
		switch t.(type) {
		case tftypes.List, tftypes.Set:
			values[name] = tftypes.NewValue(t, []tftypes.Value{})
		default:
			values[name] = tftypes.NewValue(t, nil)
		}
	}
	v, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, values))
	if err != nil {
		b.Fatal(err)
	}
	return &v
}

// configOf is the configuration the state was applied with: the arguments
// the bench sets, everything else null.
func configOf(b *testing.B, typ tftypes.Type, state *tfprotov6.DynamicValue) *tfprotov6.DynamicValue {
	value, err := state.Unmarshal(typ)
	if err != nil {
		b.Fatal(err)
	}
	var stateValues map[string]tftypes.Value
	if err := value.As(&stateValues); err != nil {
		b.Fatal(err)
	}
	values := map[string]tftypes.Value{}
	for name, v := range stateValues {
		values[name] = tftypes.NewValue(v.Type(), nil)
	}
	for _, name := range []string{"ref", "context", "args", "network"} {
		values[name] = stateValues[name]
	}
	config, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, values))
	if err != nil {
		b.Fatal(err)
	}
	return &config
}

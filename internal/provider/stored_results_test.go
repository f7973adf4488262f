package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestObjectString(t *testing.T) {
	completedType := map[string]attr.Type{"error": types.StringType}
	statusType := map[string]attr.Type{"ref": types.StringType, "completed": types.ObjectType{AttrTypes: completedType}}
	failed := types.ObjectValueMust(completedType, map[string]attr.Value{"error": types.StringValue("boom")})
	status := func(ref types.String, completed types.Object) types.Object {
		return types.ObjectValueMust(statusType, map[string]attr.Value{"ref": ref, "completed": completed})
	}
	for _, c := range []struct {
		name  string
		obj   types.Object
		names []string
		want  types.String
	}{
		{"set", status(types.StringValue("r:1"), types.ObjectNull(completedType)), []string{"ref"}, types.StringValue("r:1")},
		{"nested", status(types.StringNull(), failed), []string{"completed", "error"}, types.StringValue("boom")},
		{"null on the way", status(types.StringNull(), types.ObjectNull(completedType)), []string{"completed", "error"}, types.StringNull()},
		{"unknown leaf", status(types.StringUnknown(), failed), []string{"ref"}, types.StringNull()},
		{"null object", types.ObjectNull(statusType), []string{"ref"}, types.StringNull()},
		{"unknown object", types.ObjectUnknown(statusType), []string{"completed", "error"}, types.StringNull()},
		{"no such attribute", status(types.StringValue("r"), failed), []string{"waiting", "reason"}, types.StringNull()},
		{"not an object", status(types.StringValue("r"), failed), []string{"ref", "x"}, types.StringNull()},
	} {
		if got := objectString(c.obj, c.names...); !got.Equal(c.want) {
			t.Errorf("%s: objectString(%v) = %v, want %v", c.name, c.names, got, c.want)
		}
	}
}

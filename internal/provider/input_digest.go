package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// buildInputs maps each input of a build (an argument, the context files,
// the Dockerfile) to a digest of its value. input_digest digests the whole
// map; the map itself is kept in private state so that the next build can
// say which inputs changed.
//
// The map is canonical: an argument that is null, empty or at its default
// has no entry, so a provider version that adds arguments leaves every
// existing digest as it was. Values are digested from their Go form (JSON of
// strings, lists and sorted maps), never from the framework's debug strings.
type buildInputs map[string]string

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

// add records value under name unless it is the zero value of its kind.
func (in buildInputs) add(name string, value any) {
	switch v := value.(type) {
	case string:
		if v == "" {
			return
		}
	case []string:
		if len(v) == 0 {
			return
		}
	case map[string]string:
		if len(v) == 0 {
			return
		}
	}
	in[name] = digestOf(value)
}

// addString records a string argument unless it is null or def.
func (in buildInputs) addString(name string, v types.String, def string) {
	if s := v.ValueString(); s != def {
		in.add(name, s)
	}
}

// addBool records a bool argument unless it is null or def.
func (in buildInputs) addBool(name string, v types.Bool, def bool) {
	if !v.IsNull() && v.ValueBool() != def {
		in.add(name, v.ValueBool())
	}
}

// addList records a list of strings unless it is null or empty.
func (in buildInputs) addList(ctx context.Context, name string, v types.List) {
	in.add(name, listStrings(ctx, v))
}

// addMap records a map of strings unless it is null or empty.
func (in buildInputs) addMap(ctx context.Context, name string, v types.Map) {
	in.add(name, mapStrings(ctx, v))
}

// addCluster records what of the cluster changes the image: where it is
// pushed and the architecture. host_from_cluster only changes cluster_ref.
func (in buildInputs) addCluster(c Cluster) {
	in.add("cluster registry", c.RegistryHost)
	in.add("cluster single name", c.SingleName)
	in.add("cluster arch", c.Arch)
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

// listStrings reads a known list of strings; null or unknown reads as empty.
func listStrings(ctx context.Context, l types.List) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	l.ElementsAs(ctx, &out, false)
	return out
}

// mapStrings reads a known map of strings; null or unknown reads as empty.
func mapStrings(ctx context.Context, m types.Map) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	m.ElementsAs(ctx, &out, false)
	return out
}

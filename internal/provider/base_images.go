package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/dockerfile"
)

// With pull = true, as `docker build --pull`, the build takes the newest
// image of each base's tag: so that digest is an input, looked up in the
// registry at plan, and a moved tag rebuilds. pull = false adds nothing
// and asks no registry.

// baseImageInput starts the name of a base image's input:
// "base image 127.0.0.1:5055/base:1", its value the digest the tag names.
const baseImageInput = "base image "

// baseLookupTimeout bounds one registry look-up, so that a registry that
// never answers delays a plan by this much, not indefinitely.
const baseLookupTimeout = 20 * time.Second

// addBaseImages records the digest of each image the Dockerfile builds on
// that a pull looks up (see dockerfile.PullRefs). One that cannot be looked
// up is a warning naming it; the digest the last build recorded stands
// (none when it has none), so an unreachable registry alone never plans a
// build. A Dockerfile that does not parse adds nothing: the build says
// where it fails.
//
// A plan looks bases up only when the last build recorded them: a state of
// a version that did not (an upgrade) or a build that is planned anyway
// (pull turned on, a new Dockerfile) has nothing to compare them with, and
// the prior digest had none, so an upgrade rebuilds nothing. Every build
// records them.
func addBaseImages(ctx context.Context, data *providerData, in buildInputs, m *dockerImageModel, text string, args map[string]*string, cluster Cluster, diags *diag.Diagnostics) {
	if isPlanning(ctx) && !m.basesRecorded {
		return
	}
	parsed, err := dockerfile.Parse(text)
	if err != nil {
		return
	}
	var contexts []string
	for name := range mapStrings(ctx, m.BuildContexts) {
		contexts = append(contexts, name)
	}
	sort.Strings(contexts)
	for _, base := range parsed.PullRefs(buildArgValues(args), contexts, listStrings(ctx, m.ImageMaps), clusterRename(cluster)) {
		name := baseImageInput + base.Familiar()
		lookup, cancel := context.WithTimeout(ctx, baseLookupTimeout)
		digest, err := data.resolveBase(lookup, base.Ref.String())
		cancel()
		if err == nil {
			in[name] = digest
			continue
		}
		stands := "This base has no recorded digest yet, so it is left out of input_digest until it can be looked up."
		if recorded, ok := m.prior[name]; ok {
			in[name] = recorded
			stands = fmt.Sprintf("The digest recorded at the last build (%s) stands.", recorded)
		}
		diags.AddAttributeWarning(path.Root("pull"), "Base image not looked up",
			fmt.Sprintf("pull = true looks up %s (%s) in its registry to see whether it moved: %v\n\n%s A build with pull = true "+
				"still pulls it itself.", base.Familiar(), base.Refs[0], err, stands))
	}
}

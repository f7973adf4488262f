package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

// build_reason is known in a plan only when the apply's re-plan, which
// Terraform requires to agree with the plan on every known value, comes to
// the same text. That re-plan sees the state, the private state of the
// plan's refresh and the configuration, but reads files and registries
// again, which another resource of the apply (or a person) may have
// changed. So a reason is made only of those three: the inputs that the
// configuration alone determines, and, for the inputs read from files and
// registries, what the refresh observed (Read keeps it in private state).

// Inputs that are trees of files.
const (
	contextFilesInput  = "context files"
	buildContextsInput = "build_contexts"
	depsInput          = "deps"
	dockerfileInput    = "dockerfile"
)

// listedPathsShown is how many changed paths a reason names before "+N more".
const listedPathsShown = 5

// Private state: the summaries of the last build's trees, by input, and
// what the last refresh saw change since that build.
const (
	privateSummariesKey = "summaries/v1"
	privateObservedKey  = "observed/v1"
	// summariesBudget bounds the summaries of one resource; stored as base64
	// in JSON, they stay under 32 KiB of private state.
	summariesBudget = 23 << 10
)

// readFromOutside says whether input name of m is read from files or
// registries, rather than set by the configuration: the trees, a Dockerfile
// read from a file, and base images.
func readFromOutside(m *imageModel, name string) bool {
	if _, ok := m.listings[name]; ok {
		return true
	}
	return strings.HasPrefix(name, baseImageInput) || (name == dockerfileInput && m.dockerfileRead)
}

// recordSummaries keeps a summary of each tree the build read, within
// summariesBudget altogether.
func recordSummaries(ctx context.Context, private privateSetter, listings map[string]buildcontext.Listing) diag.Diagnostics {
	if len(listings) == 0 {
		return private.SetKey(ctx, privateSummariesKey, nil)
	}
	summaries := map[string][]byte{}
	for name, l := range listings {
		summaries[name] = l.Summary(summariesBudget / len(listings))
	}
	raw, _ := json.Marshal(summaries)
	return private.SetKey(ctx, privateSummariesKey, raw)
}

func readSummaries(ctx context.Context, private privateGetter) map[string][]byte {
	var summaries map[string][]byte
	if raw, diags := private.GetKey(ctx, privateSummariesKey); !diags.HasError() && len(raw) > 0 {
		_ = json.Unmarshal(raw, &summaries)
	}
	return summaries
}

// recordObserved keeps what a refresh saw change; nothing removes the key.
func recordObserved(ctx context.Context, private privateSetter, observed map[string]string) diag.Diagnostics {
	if len(observed) == 0 {
		return private.SetKey(ctx, privateObservedKey, nil)
	}
	raw, _ := json.Marshal(observed)
	return private.SetKey(ctx, privateObservedKey, raw)
}

func readObserved(ctx context.Context, private privateGetter) map[string]string {
	var observed map[string]string
	if raw, diags := private.GetKey(ctx, privateObservedKey); !diags.HasError() && len(raw) > 0 {
		_ = json.Unmarshal(raw, &observed)
	}
	return observed
}

// describeReadChanges says, for each input of m read from outside that
// differs from prior, how a reason names it: a tree with its changed paths
// when its summary can tell them ("context files src/a.go (+2 more)"), a
// base image "moved" when its tag names another digest, else its name.
func describeReadChanges(m *imageModel, inputs, prior buildInputs, summaries map[string][]byte) map[string]string {
	described := map[string]string{}
	for _, name := range inputs.changedSince(prior) {
		if !readFromOutside(m, name) {
			continue
		}
		described[name] = describeChange(m, name, inputs, prior, summaries)
	}
	return described
}

func describeChange(m *imageModel, name string, inputs, prior buildInputs, summaries map[string][]byte) string {
	_, was := prior[name]
	_, is := inputs[name]
	if ref, ok := strings.CutPrefix(name, baseImageInput); ok && was && is {
		return "base image " + ref + " moved"
	}
	summary, ok := summaries[name]
	listing, listed := m.listings[name]
	if !ok || !listed || !was {
		return name
	}
	paths, more, err := listing.ChangedSince(summary, listedPathsShown)
	if err != nil || len(paths) == 0 {
		return name
	}
	text := name + " " + strings.Join(paths, ", ")
	if more > 0 {
		text += fmt.Sprintf(" (+%d more)", more)
	}
	return text
}

// composeReason joins input changes into one reason: "inputs changed: a,
// b; base image x moved", each group in the order of the input names.
func composeReason(parts map[string]string) string {
	names := make([]string, 0, len(parts))
	for name := range parts {
		names = append(names, name)
	}
	slices.Sort(names)
	var inputs, moved []string
	for _, name := range names {
		if text := parts[name]; strings.HasPrefix(text, baseImageInput) && strings.HasSuffix(text, " moved") {
			moved = append(moved, text)
		} else {
			inputs = append(inputs, text)
		}
	}
	var out []string
	if len(inputs) > 0 {
		out = append(out, reasonInputsChanged+": "+strings.Join(inputs, ", "))
	}
	return strings.Join(append(out, moved...), "; ")
}

// explainPlan is the reason a plan shows for a build, made only of what
// the apply's re-plan sees the same (see the top of this file); "" when
// that says nothing, and the reason is then unknown until the apply.
// observed is what the refresh saw of the inputs read from outside.
func explainPlan(m *imageModel, f planFacts, d planDecision, observed map[string]string) string {
	switch d.reason {
	case reasonCreated, reasonFailed, reasonImageMissing, reasonNotPushed:
		return d.reason
	}
	if f.inputs == nil || f.priorInputs == nil {
		return ""
	}
	parts := map[string]string{}
	for _, name := range f.inputs.changedSince(f.priorInputs) {
		if !readFromOutside(m, name) && !slices.Contains(retiredInputs, name) && !isObservedName(name) {
			parts[name] = name
		}
	}
	for name, text := range observed {
		parts[name] = text
	}
	return composeReason(parts)
}

// isObservedName: inputs whose change only the refresh may report, even
// when the configuration no longer has them (a removed base image).
func isObservedName(name string) bool {
	return strings.HasPrefix(name, baseImageInput)
}

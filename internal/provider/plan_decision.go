package provider

import (
	"maps"
	"slices"
	"strings"
)

const (
	reasonCreated       = "created"
	reasonInputsChanged = "inputs changed"
	reasonImageMissing  = "image missing"
	reasonFailed        = "previous build failed"
	reasonNotPushed     = "not pushed"
)

// planFacts is what a plan knows about one image resource.
type planFacts struct {
	// exists is false when the resource is about to be created.
	exists bool
	// failed: the last build failed; imageMissing: Read found the image gone.
	failed, imageMissing bool
	// notPushed: the image needs a push that it never had (state written
	// before refs that name a registry were pushed without a cluster registry).
	notPushed bool
	// inputs are the build's inputs now; nil when some are unknown until
	// apply (an argument, a provider value, a file another resource writes).
	inputs buildInputs
	// priorDigest and priorInputs are what the last build recorded.
	priorDigest string
	priorInputs buildInputs
}

// planDecision says whether the plan builds, and why.
type planDecision struct {
	build  bool
	reason string
}

// decidePlan is the whole plan-time decision: build when the resource is
// new, its last build failed, its image is gone or was never pushed where
// it must be, or its inputs differ from
// (or cannot yet be compared with) those of the last build.
func decidePlan(f planFacts) planDecision {
	switch {
	case !f.exists:
		return planDecision{true, reasonCreated}
	case f.failed:
		return planDecision{true, reasonFailed}
	case f.imageMissing:
		return planDecision{true, reasonImageMissing}
	case f.notPushed:
		return planDecision{true, reasonNotPushed}
	case f.inputs == nil:
		return planDecision{true, reasonInputsChanged}
	case f.inputs.digest() == f.priorDigest, onlyRetiredChanged(f.inputs, f.priorInputs, f.priorDigest):
		return planDecision{}
	}
	return planDecision{true, changedReason(f.inputs, f.priorInputs)}
}

// retiredInputs are inputs that earlier versions digested and this one does
// not: "secret_env" was a keyed hash of the values, which secret_env_version
// now stands for.
var retiredInputs = []string{"secret_env"}

// onlyRetiredChanged says whether inputs are those of the last build but for
// retired inputs, so that a state written before their retirement stays
// valid: the upgrade itself rebuilds nothing. prior must be what priorDigest
// was computed from.
func onlyRetiredChanged(inputs, prior buildInputs, priorDigest string) bool {
	if prior == nil || prior.digest() != priorDigest {
		return false
	}
	kept := maps.Clone(prior)
	for _, name := range retiredInputs {
		delete(kept, name)
	}
	return len(kept) < len(prior) && maps.Equal(inputs, kept)
}

// changedReason names the inputs that changed since prior, when prior is
// recorded and of the current scheme. A base image whose tag now names
// another digest is "base image <ref> moved"; one that is new or gone
// (the Dockerfile, args or pull changed) is named with the other inputs.
func changedReason(inputs, prior buildInputs) string {
	if prior == nil {
		return reasonInputsChanged
	}
	// A retired input did not change what is built; it is just not read.
	changed := slices.DeleteFunc(inputs.changedSince(prior), func(name string) bool { return slices.Contains(retiredInputs, name) })
	if len(changed) == 0 {
		return reasonInputsChanged
	}
	var names, parts []string
	for _, name := range changed {
		_, was := prior[name]
		_, is := inputs[name]
		if ref, ok := strings.CutPrefix(name, baseImageInput); ok && was && is {
			parts = append(parts, "base image "+ref+" moved")
			continue
		}
		names = append(names, name)
	}
	if len(names) > 0 {
		parts = append([]string{reasonInputsChanged + ": " + strings.Join(names, ", ")}, parts...)
	}
	return strings.Join(parts, "; ")
}

// applyReason is the reason recorded by the build an apply runs: the planned
// one, made exact with the inputs the apply actually read.
func applyReason(planned string, inputs, prior buildInputs) string {
	if planned == "" || strings.HasPrefix(planned, reasonInputsChanged) || strings.HasPrefix(planned, baseImageInput) {
		return changedReason(inputs, prior)
	}
	return planned
}

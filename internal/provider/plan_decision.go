package provider

import "strings"

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
	case f.inputs.digest() == f.priorDigest:
		return planDecision{}
	}
	return planDecision{true, changedReason(f.inputs, f.priorInputs)}
}

// changedReason names the inputs that changed since prior, when prior is
// recorded and of the current scheme. A base image whose tag now names
// another digest is "base image <ref> moved"; one that is new or gone
// (the Dockerfile, args or pull changed) is named with the other inputs.
func changedReason(inputs, prior buildInputs) string {
	if prior == nil {
		return reasonInputsChanged
	}
	changed := inputs.changedSince(prior)
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

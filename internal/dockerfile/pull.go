package dockerfile

import (
	"strings"

	"github.com/distribution/reference"
)

// PullRef is an image that a build with --pull looks up in its registry:
// the tag it names there, and the Dockerfile's references to it.
type PullRef struct {
	// Ref is the normalized reference, ":latest" when no tag is written,
	// e.g. docker.io/library/alpine:3.20.
	Ref reference.NamedTagged
	// Refs are the Dockerfile's references to Ref, in order.
	Refs []BaseRef
}

// Familiar is Ref as `docker` writes it: alpine:3.20,
// 127.0.0.1:5000/base:1.
func (p PullRef) Familiar() string { return reference.FamiliarString(p.Ref) }

// PullRefs are the images a build with --pull resolves in their
// registries: the references of BaseRefs (FROM, and the COPY --from and
// RUN --mount from= that BuildKit turns into stages of their own), once
// each, in order of first use. Left out are what --pull never looks up or
// what the build does not take from a registry: stages and scratch (not in
// BaseRefs), a reference pinned by digest (it cannot move), one that uses
// an ARG without a value (its image is known only to the build), one that a
// named context replaces (contexts are the names of --build-context, matched
// as BuildKit matches them), and one that an image map replaces (see
// MatchImageMaps; rename may be nil).
func (f *File) PullRefs(args map[string]string, contexts, maps []string, rename Rename) []PullRef {
	replaced := map[int]map[string]bool{} // node -> Written of the refs a map replaces
	for _, m := range f.MatchImageMaps(maps, args, rename) {
		for _, r := range m.Refs {
			if replaced[r.node] == nil {
				replaced[r.node] = map[string]bool{}
			}
			replaced[r.node][r.Written] = true
		}
	}
	named := namedContexts(contexts)
	var out []PullRef
	index := map[string]int{}
	for _, r := range f.BaseRefs(args) {
		if r.Unresolved || r.Name == nil || replaced[r.node][r.Written] {
			continue
		}
		ref, ok := pullable(r.Ref)
		if !ok || named[contextName(ref)] {
			continue
		}
		key := ref.String()
		if i, seen := index[key]; seen {
			out[i].Refs = append(out[i].Refs, r)
			continue
		}
		index[key] = len(out)
		out = append(out, PullRef{Ref: ref, Refs: []BaseRef{r}})
	}
	return out
}

// pullable is ref with its tag (latest when none is written); false when
// ref is pinned by a digest (with or without a tag) or is no reference.
func pullable(ref string) (reference.NamedTagged, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, false
	}
	if _, pinned := named.(reference.Canonical); pinned {
		return nil, false
	}
	tagged, ok := reference.TagNameOnly(named).(reference.NamedTagged)
	return tagged, ok
}

// contextName is the name under which BuildKit's Dockerfile frontend looks
// for a named context that replaces ref: its familiar form without
// ":latest" (dockerui.Client.NamedContext).
func contextName(ref reference.Named) string {
	return strings.TrimSuffix(reference.FamiliarString(ref), ":latest")
}

// namedContexts are the names that --build-context names replace, each as
// contextName has it. A name may carry a platform ("alpine::linux/amd64"),
// which BuildKit tries first; either form replaces the image.
func namedContexts(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		n, _, _ = strings.Cut(n, "::")
		if named, err := reference.ParseNormalizedNamed(n); err == nil {
			out[contextName(named)] = true
		} else {
			out[n] = true
		}
	}
	return out
}

package dockerfile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Image maps: an image built elsewhere (another resource's ref) that
// replaces the Dockerfile's references to its repository, as Tilt injects
// image maps. "FROM acme/base" with the map "acme/base:tf-0123" builds on
// acme/base:tf-0123, whatever the tag or digest the Dockerfile wrote.

// Rename gives the repository that an image the Dockerfile names is known
// by once built elsewhere, and what starts its tags there: a cluster's
// registry moves "acme/base" to "localhost:5000/acme_base" (see
// imageref.Registry), so a map of the moved repository stands for the
// Dockerfile's "acme/base" too; a registry that holds every image in one
// repository tells them apart by a tag prefix ("base-").
type Rename func(reference.Named) (repo reference.Named, tagPrefix string, err error)

// Match is what one image map stands for in the Dockerfile.
type Match struct {
	// Map is the map as given.
	Map string
	// Name is the map's repository; nil when Map is not an image
	// reference (an image ID names no repository, so it matches nothing).
	Name reference.Named
	// Refs are the Dockerfile's references that the map replaces; none
	// when it matches nothing.
	Refs []BaseRef
}

// MatchImageMaps pairs each map with the Dockerfile's references (after
// ARG substitution with args, see BaseRefs) of the same repository, or of
// the repository that rename gives them (rename may be nil). A reference
// goes to the first map that matches it. A reference that uses an ARG
// without a value matches nothing.
func (f *File) MatchImageMaps(maps []string, args map[string]string, rename Rename) []Match {
	refs := f.BaseRefs(args)
	taken := make([]bool, len(refs))
	out := make([]Match, len(maps))
	for i, m := range maps {
		out[i] = Match{Map: m, Name: mapName(m)}
		if out[i].Name == nil {
			continue
		}
		for j, r := range refs {
			if !taken[j] && r.Name != nil && sameRepository(m, out[i].Name, r.Name, rename) {
				taken[j] = true
				out[i].Refs = append(out[i].Refs, r)
			}
		}
	}
	return out
}

// InjectImageMaps is the Dockerfile with each reference that a map matches
// (see MatchImageMaps) replaced by the map. Only the words that name those
// images change (the image of FROM, the --from flag of COPY, the from
// field of RUN --mount); every other byte stays as written, including the
// instruction's other flags, its stage name, line continuations and
// heredocs. With no match the text is returned as it is.
func (f *File) InjectImageMaps(maps []string, args map[string]string, rename Rename) (string, []Match, error) {
	matches := f.MatchImageMaps(maps, args, rename)
	var edits []edit
	for _, m := range matches {
		for _, r := range m.Refs {
			e, err := f.edits(r, m.Map)
			if err != nil {
				return "", matches, err
			}
			edits = append(edits, e...)
		}
	}
	if len(edits) == 0 {
		return f.text, matches, nil
	}
	text, err := applyEdits(f.text, edits)
	if err != nil {
		return "", matches, err
	}
	// A rewrite that BuildKit could not read would fail the build with an
	// error about a file the user never wrote.
	if _, err := Parse(text); err != nil {
		return "", matches, fmt.Errorf("the Dockerfile with its image maps injected does not parse: %w", err)
	}
	return text, matches, nil
}

// mapName is the repository of an image map; nil for an image ID or a
// value that is no reference.
func mapName(m string) reference.Named {
	if strings.HasPrefix(m, "sha256:") {
		return nil
	}
	named, err := reference.ParseNormalizedNamed(m)
	if err != nil {
		return nil
	}
	return reference.TrimNamed(named)
}

func sameRepository(mapRef string, mapName, written reference.Named, rename Rename) bool {
	if mapName.Name() == written.Name() {
		return true
	}
	if rename == nil {
		return false
	}
	moved, prefix, err := rename(written)
	if err != nil || moved == nil || moved.Name() != mapName.Name() {
		return false
	}
	if prefix == "" {
		return true
	}
	tagged, ok := parsedTagged(mapRef)
	return ok && strings.HasPrefix(tagged.Tag(), prefix)
}

func parsedTagged(ref string) (reference.NamedTagged, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, false
	}
	tagged, ok := named.(reference.NamedTagged)
	return tagged, ok
}

// edit replaces a span of the text.
type edit struct {
	span
	text string
}

// edits replace r's text in the Dockerfile with the image with.
func (f *File) edits(r BaseRef, with string) ([]edit, error) {
	node := f.result.AST.Children[r.node]
	l := f.logicalLine(node)
	if l.text != node.Original {
		return nil, errLocate(r)
	}
	words := l.words()
	switch r.Kind {
	case From:
		// FROM's arguments (image [AS name]) end the line, each a word.
		n := 0
		for a := node.Next; a != nil; a = a.Next {
			n++
		}
		i := len(words) - n
		if n == 0 || i < 1 || l.text[words[i][0]:words[i][1]] != r.Written {
			return nil, errLocate(r)
		}
		return replace(l, words[i][0], words[i][1], with), nil
	case CopyFrom:
		for _, w := range flagWords(l, words) {
			if flagValue(l.text[w[0]:w[1]]) == "--from="+r.Written {
				return replace(l, w[0], w[1], "--from="+with), nil
			}
		}
	case MountFrom:
		var out []edit
		for _, w := range flagWords(l, words) {
			if from, to, ok := mountFrom(l.text[w[0]:w[1]], r.Written); ok {
				out = append(out, replace(l, w[0]+from, w[0]+to, with)...)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, errLocate(r)
}

// flagWords are the words of the instruction's flags: those after the
// instruction's name that start with "--", up to the first that does not
// (or a bare "--"), where the parser stops taking flags.
func flagWords(l logicalLine, words [][2]int) [][2]int {
	var out [][2]int
	for _, w := range words[min(1, len(words)):] {
		word := l.text[w[0]:w[1]]
		if !strings.HasPrefix(word, "--") || word == "--" {
			break
		}
		out = append(out, w)
	}
	return out
}

// flagValue is a flag word as the parser reads it (quotes and escapes
// resolved), or "" when it reads it otherwise.
func flagValue(word string) string {
	result, err := parser.Parse(strings.NewReader("COPY " + word + " a b\n"))
	if err != nil || len(result.AST.Children) != 1 || len(result.AST.Children[0].Flags) != 1 {
		return ""
	}
	// The parser splits words where this file's words do not (at a
	// non-breaking space byte): the word is then more than the flag.
	args := 0
	for n := result.AST.Children[0].Next; n != nil; n = n.Next {
		args++
	}
	if args != 2 {
		return ""
	}
	return result.AST.Children[0].Flags[0]
}

// mountFrom is where, in a --mount flag word, the value of its field
// from=image is; false when the word is not such a flag or is quoted.
func mountFrom(word, image string) (int, int, bool) {
	value, ok := strings.CutPrefix(word, "--mount=")
	if !ok || strings.ContainsAny(value, "\"'`\\") {
		return 0, 0, false
	}
	at := len("--mount=")
	for _, field := range strings.Split(value, ",") {
		key, v, _ := strings.Cut(field, "=")
		if strings.ToLower(strings.TrimSpace(key)) == "from" && v == image {
			start := at + len(key) + 1
			return start, start + len(v), true
		}
		at += len(field) + 1
	}
	return 0, 0, false
}

// replace puts with in place of the logical line's bytes [from, to). A word
// that continues onto further lines goes whole to its last line, the
// parts on the lines before it are removed, so every line continuation
// stays where it was.
func replace(l logicalLine, from, to int, with string) []edit {
	spans := l.spans(from, to)
	out := make([]edit, len(spans))
	for i, s := range spans {
		out[i] = edit{span: s}
	}
	if len(out) > 0 {
		out[len(out)-1].text = with
	}
	return out
}

func applyEdits(text string, edits []edit) (string, error) {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	at := 0
	for i, e := range edits {
		if i > 0 && e == edits[i-1] {
			continue // the same word, found for two references
		}
		if e.start < at {
			return "", fmt.Errorf("two image maps rewrite the same text at offset %d", e.start)
		}
		b.WriteString(text[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.WriteString(text[at:])
	return b.String(), nil
}

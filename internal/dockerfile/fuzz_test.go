package dockerfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzInjectImageMaps maps every image a Dockerfile names and checks the
// rewrite: it parses, it has the same instructions and heredocs, each
// matched reference now names its map and every other one is unchanged,
// and no line outside the rewritten instructions changed.
func FuzzInjectImageMaps(f *testing.F) {
	for _, seed := range []string{
		"FROM acme/base\nRUN true\n",
		"ARG BASE=acme/base\nFROM --platform=$BUILDPLATFORM ${BASE} AS build\nCOPY --from=acme/tools:1 /a /b\n",
		"FROM busybox\nRUN --mount=type=bind,from=acme/base,target=/base ls /base\n",
		"FROM \\\n# c\n\n    acme/base \\\n  AS app\n",
		"FROM acme/\\\nbase AS app\n",
		"FROM busybox\nCOPY --from=acme/base <<EOF /x\nFROM acme/base\nEOF\n",
		"# escape=`\r\nFROM `\r\n  acme/base\r\n",
		"\ufeff  FROM acme/base",
		"FROM busybox\nCOPY --from=\"acme/base\" /a /b\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Parse(text)
		if err != nil {
			return
		}
		refs := file.BaseRefs(nil)
		var maps []string
		seen := map[string]bool{}
		for _, r := range refs {
			if r.Name != nil && !seen[r.Name.Name()] {
				seen[r.Name.Name()] = true
				maps = append(maps, r.Name.Name()+":tf-fuzz")
			}
		}
		// A pull looks up no image that a map replaces, and only tags.
		if pulled := file.PullRefs(nil, nil, maps, nil); len(pulled) > 0 {
			t.Errorf("with every repository mapped, a pull still looks up %s", pulled[0].Familiar())
		}
		for _, p := range file.PullRefs(nil, nil, nil, nil) {
			if p.Ref.Tag() == "" || strings.Contains(p.Ref.String(), "@") {
				t.Errorf("a pull looks up %s", p.Ref)
			}
		}
		out, matches, err := file.InjectImageMaps(maps, nil, nil)
		if errors.Is(err, errCannotLocate) {
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		after, err := Parse(out)
		if err != nil {
			t.Fatalf("%q rewritten to %q does not parse: %v", text, out, err)
		}
		before, now := file.result.AST.Children, after.result.AST.Children
		if len(before) != len(now) {
			t.Fatalf("%q rewritten to %q: %d instructions, want %d", text, out, len(now), len(before))
		}
		changed := map[int]bool{} // instructions rewritten
		type key struct {
			node    int
			kind    Kind
			written string
		}
		replaced := map[key]string{}
		for _, m := range matches {
			for _, r := range m.Refs {
				changed[r.node] = true
				replaced[key{r.node, r.Kind, r.Written}] = m.Map
			}
		}
		for i := range before {
			if !reflect.DeepEqual(before[i].Heredocs, now[i].Heredocs) {
				t.Fatalf("%q rewritten to %q: heredocs of instruction %d changed", text, out, i)
			}
			if !changed[i] && before[i].Original != now[i].Original {
				t.Fatalf("%q rewritten to %q: instruction %d changed", text, out, i)
			}
		}
		oldLines, newLines := strings.Split(text, "\n"), strings.Split(out, "\n")
		if len(oldLines) != len(newLines) {
			t.Fatalf("%q rewritten to %q: line count changed", text, out)
		}
		for n := range oldLines {
			if oldLines[n] == newLines[n] {
				continue
			}
			inChanged := false
			for i := range changed {
				inChanged = inChanged || (before[i].StartLine <= n+1 && n+1 <= before[i].EndLine)
			}
			if !inChanged {
				t.Fatalf("%q rewritten to %q: line %d changed outside the rewritten instructions", text, out, n+1)
			}
		}
		newRefs := after.BaseRefs(nil)
		if len(newRefs) != len(refs) {
			t.Fatalf("%q rewritten to %q: %d references, want %d", text, out, len(newRefs), len(refs))
		}
		for j, r := range refs {
			want := r.Written
			if m, ok := replaced[key{r.node, r.Kind, r.Written}]; ok && r.Name != nil {
				want = m
			}
			if newRefs[j].Written != want {
				t.Fatalf("%q rewritten to %q: reference %d is %q, want %q", text, out, j, newRefs[j].Written, want)
			}
		}
	})
}

package dockerfile

import (
	"path"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// clusterRename moves a repository into localhost:5000 as a cluster's
// registry does ("acme/base" -> "localhost:5000/acme_base").
func clusterRename(r reference.Named) (reference.Named, string, error) {
	escaped := strings.NewReplacer("/", "_", ":", "_").Replace(reference.FamiliarName(r))
	moved, err := reference.ParseNormalizedNamed("localhost:5000/" + escaped)
	return moved, "", err
}

// singleNameRename puts every repository into localhost:5000/all, its last
// name part starting the tag, as a registry with single_name does.
func singleNameRename(r reference.Named) (reference.Named, string, error) {
	moved, err := reference.ParseNormalizedNamed("localhost:5000/all")
	return moved, path.Base(reference.FamiliarName(r)) + "-", err
}

func TestInjectImageMaps(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		maps   []string
		args   map[string]string
		rename Rename
		want   string
	}{
		{
			name: "FROM",
			text: "FROM acme/base\nRUN true\n",
			maps: []string{"acme/base:tf-0123456789abcdef"},
			want: "FROM acme/base:tf-0123456789abcdef\nRUN true\n",
		},
		{
			name: "tag and digest of the Dockerfile give way; normalized names match",
			text: "FROM docker.io/acme/base:1.2\nFROM acme/base@sha256:" + strings.Repeat("a", 64) + "\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM acme/base:tf-1\nFROM acme/base:tf-1\n",
		},
		{
			name: "ARG default, flags, stage name and case of the instruction kept",
			text: "ARG BASE=acme/base\n\nfrom  --platform=$BUILDPLATFORM ${BASE}   as build\nRUN echo ${BASE}\n",
			maps: []string{"acme/base:tf-1"},
			want: "ARG BASE=acme/base\n\nfrom  --platform=$BUILDPLATFORM acme/base:tf-1   as build\nRUN echo ${BASE}\n",
		},
		{
			name: "build arg overrides the default",
			text: "ARG BASE=other/base\nFROM $BASE\n",
			maps: []string{"acme/base:tf-1"},
			args: map[string]string{"BASE": "acme/base"},
			want: "ARG BASE=other/base\nFROM acme/base:tf-1\n",
		},
		{
			name: "ARG default built from an earlier ARG",
			text: "ARG ORG=acme\nARG BASE=${ORG}/base:1\nFROM ${BASE}\n",
			maps: []string{"acme/base:tf-1"},
			want: "ARG ORG=acme\nARG BASE=${ORG}/base:1\nFROM acme/base:tf-1\n",
		},
		{
			name: "an ARG after the first FROM does not reach a FROM",
			text: "FROM busybox\nARG BASE=acme/base\nFROM ${BASE}\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM busybox\nARG BASE=acme/base\nFROM ${BASE}\n",
		},
		{
			name: "a stage name is not an image",
			text: "FROM acme/base AS base\nFROM base\nCOPY --from=base /a /b\n",
			maps: []string{"base:tf-1", "acme/base:tf-2"},
			want: "FROM acme/base:tf-2 AS base\nFROM base\nCOPY --from=base /a /b\n",
		},
		{
			name: "COPY --from an image, not a stage or its index",
			text: "FROM busybox AS b\nCOPY --chown=1:1 --from=acme/base:1 /a /b\nCOPY --from=0 /a /b\nCOPY --from=b /a /b\n",
			maps: []string{"acme/base:tf-1", "b:tf-2"},
			want: "FROM busybox AS b\nCOPY --chown=1:1 --from=acme/base:tf-1 /a /b\nCOPY --from=0 /a /b\nCOPY --from=b /a /b\n",
		},
		{
			name: "quoted --from",
			text: "FROM busybox\nCOPY --from=\"acme/base\" /a /b\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM busybox\nCOPY --from=acme/base:tf-1 /a /b\n",
		},
		{
			name: "RUN --mount from",
			text: "FROM busybox\nRUN --mount=type=bind,from=acme/base,target=/base --network=none ls /base\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM busybox\nRUN --mount=type=bind,from=acme/base:tf-1,target=/base --network=none ls /base\n",
		},
		{
			name: "line continuations and comments inside the instruction",
			text: "FROM \\\n# a comment\n\n    acme/base \\\n  AS app\nRUN a \\\n  b\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM \\\n# a comment\n\n    acme/base:tf-1 \\\n  AS app\nRUN a \\\n  b\n",
		},
		{
			name: "a word split by a continuation goes to its last line",
			text: "FROM acme/\\\nbase AS app\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM \\\nacme/base:tf-1 AS app\n",
		},
		{
			name: "heredoc bodies are not instructions",
			text: "FROM busybox\nCOPY --from=acme/base <<EOF /x\nFROM acme/base\nCOPY --from=acme/base a b\nEOF\nRUN <<EOT\nFROM acme/base\nEOT\n",
			maps: []string{"acme/base:tf-1"},
			want: "FROM busybox\nCOPY --from=acme/base:tf-1 <<EOF /x\nFROM acme/base\nCOPY --from=acme/base a b\nEOF\nRUN <<EOT\nFROM acme/base\nEOT\n",
		},
		{
			name: "escape directive and CRLF",
			text: "# escape=`\r\nFROM `\r\n  acme/base\r\nRUN dir c:\\\r\n",
			maps: []string{"acme/base:tf-1"},
			want: "# escape=`\r\nFROM `\r\n  acme/base:tf-1\r\nRUN dir c:\\\r\n",
		},
		{
			name: "byte order mark and leading space",
			text: "\ufeff  FROM acme/base",
			maps: []string{"acme/base:tf-1"},
			want: "\ufeff  FROM acme/base:tf-1",
		},
		{
			name:   "a map moved into the cluster's registry",
			text:   "FROM acme/base\nCOPY --from=team/tools:2 /t /t\n",
			maps:   []string{"localhost:5000/acme_base:tf-1", "localhost:5000/team_tools@sha256:" + strings.Repeat("b", 64)},
			rename: clusterRename,
			want:   "FROM localhost:5000/acme_base:tf-1\nCOPY --from=localhost:5000/team_tools@sha256:" + strings.Repeat("b", 64) + " /t /t\n",
		},
		{
			name:   "one repository for every image: the tag prefix tells them apart",
			text:   "FROM acme/base\nCOPY --from=team/tools /t /t\n",
			maps:   []string{"localhost:5000/all:tools-tf-2", "localhost:5000/all:base-tf-1"},
			rename: singleNameRename,
			want:   "FROM localhost:5000/all:base-tf-1\nCOPY --from=localhost:5000/all:tools-tf-2 /t /t\n",
		},
		{
			name: "without the rename, the moved map matches nothing",
			text: "FROM acme/base\n",
			maps: []string{"localhost:5000/acme_base:tf-1"},
			want: "FROM acme/base\n",
		},
		{
			name: "an image ID, an unresolved ARG and scratch match nothing",
			text: "ARG BASE\nFROM ${BASE}\nFROM scratch\n",
			maps: []string{"sha256:" + strings.Repeat("c", 64), "scratch:tf-1"},
			want: "ARG BASE\nFROM ${BASE}\nFROM scratch\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := f.InjectImageMaps(tt.maps, tt.args, tt.rename)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestMatchImageMaps(t *testing.T) {
	f, err := Parse("ARG V=1\nFROM acme/base:$V AS a\nFROM acme/base\nCOPY --from=acme/tools /t /t\n")
	if err != nil {
		t.Fatal(err)
	}
	matches := f.MatchImageMaps([]string{"acme/base:tf-1", "acme/base:tf-2", "acme/other:tf-3", "not a ref"}, nil, nil)
	var got []string
	for _, m := range matches {
		var refs []string
		for _, r := range m.Refs {
			refs = append(refs, r.String())
		}
		got = append(got, m.Map+" -> "+strings.Join(refs, "; "))
	}
	want := []string{
		"acme/base:tf-1 -> FROM acme/base:$V (acme/base:1) on line 2; FROM acme/base on line 3",
		"acme/base:tf-2 -> ", // the first map took them
		"acme/other:tf-3 -> ",
		"not a ref -> ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if matches[3].Name != nil {
		t.Errorf("a value that is no reference has a name: %v", matches[3].Name)
	}
}

func TestBaseRefs(t *testing.T) {
	f, err := Parse("ARG TAG=1\nARG NOVALUE\nFROM acme/base:${TAG} AS build\nFROM ${NOVALUE}\nFROM build\n" +
		"COPY --from=acme/tools /a /b\nRUN --mount=from=acme/cache,target=/c true\nFROM Bad/Name\n")
	if err != nil {
		t.Fatal(err)
	}
	refs := f.BaseRefs(map[string]string{"TAG": "2"})
	var got []string
	for _, r := range refs {
		name := "<nil>"
		if r.Name != nil {
			name = r.Name.Name()
		}
		got = append(got, strings.Join([]string{r.Kind.String(), r.Written, r.Ref, name}, "|"))
		if r.Unresolved != (r.Written == "${NOVALUE}") {
			t.Errorf("%s: Unresolved = %v", r, r.Unresolved)
		}
	}
	want := []string{
		"FROM|acme/base:${TAG}|acme/base:2|docker.io/acme/base",
		"FROM|${NOVALUE}||<nil>",
		"COPY --from|acme/tools|acme/tools|docker.io/acme/tools",
		"RUN --mount from|acme/cache|acme/cache|docker.io/acme/cache",
		"FROM|Bad/Name|Bad/Name|<nil>",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestInjectImageMapsCannotLocate(t *testing.T) {
	// A flag quoted with a space in it hides the flags after it from a
	// split at whitespace: an error, never a silent build on the old base.
	f, err := Parse("FROM busybox\nCOPY --chown=\"1 1\" --from=acme/base /a /b\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.InjectImageMaps([]string{"acme/base:tf-1"}, nil, nil); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("want an error naming line 2, got %v", err)
	}
}

func TestParseError(t *testing.T) {
	if _, err := Parse("# only a comment\n"); err == nil {
		t.Error("a Dockerfile without instructions parsed")
	}
}

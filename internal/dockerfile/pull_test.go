package dockerfile

import (
	"strconv"
	"strings"
	"testing"
)

func TestPullRefs(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name     string
		text     string
		args     map[string]string
		contexts []string
		maps     []string
		rename   Rename
		want     []string // familiar ref: the lines that name it
	}{{
		name: "tags, default tag, one entry per image",
		text: "FROM alpine:3.20 AS a\nFROM 127.0.0.1:5055/base\nFROM docker.io/library/alpine:3.20\nCOPY --from=alpine:3.20 /a /a\n",
		want: []string{"alpine:3.20: 1 3 4", "127.0.0.1:5055/base:latest: 2"},
	}, {
		name: "ARG defaults and args",
		text: "ARG REG=127.0.0.1:5055\nARG TAG=1\nFROM ${REG}/base:${TAG}\n",
		args: map[string]string{"TAG": "2"},
		want: []string{"127.0.0.1:5055/base:2: 3"},
	}, {
		name: "an ARG without a value: known only to the build",
		text: "ARG BASE\nFROM $BASE\nFROM ${TARGETARCH}/busybox\n",
	}, {
		name: "stages and scratch",
		text: "FROM scratch AS s\nFROM busybox AS build\nFROM build\nCOPY --from=s /a /a\nCOPY --from=0 /a /b\nRUN --mount=from=build,target=/b true\n",
		want: []string{"busybox:latest: 2"},
	}, {
		name: "pinned by digest, with or without a tag",
		text: "FROM busybox@" + digest + "\nFROM alpine:3.20@" + digest + "\nFROM debian:12\n",
		want: []string{"debian:12: 3"},
	}, {
		name:     "replaced by named contexts, as BuildKit names them",
		text:     "FROM docker.io/library/alpine:latest\nFROM acme/base:1\nFROM acme/other:2\nCOPY --from=acme/tools /t /t\nFROM debian:12\n",
		contexts: []string{"alpine", "acme/base:1", "acme/other:2::linux/amd64", "docker.io/acme/tools"},
		want:     []string{"debian:12: 5"},
	}, {
		name:     "a named context of another tag replaces nothing",
		text:     "FROM acme/base:1\n",
		contexts: []string{"acme/base:2"},
		want:     []string{"acme/base:1: 1"},
	}, {
		name:   "replaced by image maps",
		text:   "FROM acme/base:1\nFROM acme/other\nRUN --mount=from=acme/cache,target=/c true\n",
		maps:   []string{"acme/base:tf-1", "localhost:5000/acme_cache:tf-2"},
		rename: clusterRename,
		want:   []string{"acme/other:latest: 2"},
	}, {
		name: "no reference",
		text: "FROM Bad/Name\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range f.PullRefs(tt.args, tt.contexts, tt.maps, tt.rename) {
				var lines []string
				for _, r := range p.Refs {
					lines = append(lines, strconv.Itoa(r.Line))
				}
				got = append(got, p.Familiar()+": "+strings.Join(lines, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

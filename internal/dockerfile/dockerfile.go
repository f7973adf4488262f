// Package dockerfile reads Dockerfiles with BuildKit's own parser: the
// images a Dockerfile builds on (FROM, COPY --from, RUN --mount from=) after
// ARG substitution, and the rewrite of those references to images built
// elsewhere (image maps), as Tilt injects them. It knows nothing of
// Terraform.
package dockerfile

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// File is a parsed Dockerfile and its text.
type File struct {
	text   string
	result *parser.Result
	// lineStarts are the byte offsets where each line begins (line n at
	// lineStarts[n-1]), lines ending at "\n" as the parser splits them.
	lineStarts []int
}

// Parse parses text as BuildKit's Dockerfile frontend does.
func Parse(text string) (*File, error) {
	result, err := parser.Parse(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	f := &File{text: text, result: result, lineStarts: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' && i+1 < len(text) {
			f.lineStarts = append(f.lineStarts, i+1)
		}
	}
	return f, nil
}

// Text is the Dockerfile as parsed.
func (f *File) Text() string { return f.text }

// Kind is the instruction that names a base image.
type Kind int

const (
	// From is `FROM image`.
	From Kind = iota
	// CopyFrom is `COPY --from=image`.
	CopyFrom
	// MountFrom is `RUN --mount=...,from=image`.
	MountFrom
)

func (k Kind) String() string {
	switch k {
	case From:
		return "FROM"
	case CopyFrom:
		return "COPY --from"
	case MountFrom:
		return "RUN --mount from"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// BaseRef is an image that the Dockerfile names (not a stage of its own).
type BaseRef struct {
	Kind Kind
	// Line is the line where the instruction begins (1-based).
	Line int
	// Written is the reference as the Dockerfile writes it, e.g. ${BASE}.
	Written string
	// Ref is Written after ARG substitution, e.g. acme/base:1.2.
	Ref string
	// Name is Ref's normalized repository, e.g. docker.io/acme/base; nil
	// when Ref is not an image reference or is not known (Unresolved).
	Name reference.Named
	// Unresolved: Written uses an ARG that has no value here (no default,
	// no build arg, or one of BuildKit's platform args), so the image it
	// names is known only to the build.
	Unresolved bool

	// node is the instruction's index in the AST.
	node int
}

// String is how messages name r: `FROM acme/base (line 3)`.
func (r BaseRef) String() string {
	s := r.Kind.String() + " " + r.Written
	if r.Ref != r.Written {
		s += " (" + r.Ref + ")"
	}
	return s + " on line " + strconv.Itoa(r.Line)
}

// BaseRefs are the images the Dockerfile names, in order: the base of each
// stage that is not another stage or scratch, and each COPY --from and
// RUN --mount from= that names neither a stage nor a stage's index. FROM
// is expanded as BuildKit does: with the global ARGs (those before the
// first FROM), their defaults overridden by args (the build args). An
// instruction that BuildKit cannot parse is left out; the build reports it.
func (f *File) BaseRefs(args map[string]string) []BaseRef {
	env := f.globalArgs(args)
	lex := shell.NewLex(f.result.EscapeToken)
	stages := f.stageNames()
	var refs []BaseRef
	for i, node := range f.result.AST.Children {
		add := func(kind Kind, written string) {
			if r, ok := f.baseRef(kind, written, node, i, env, lex, stages); ok {
				refs = append(refs, r)
			}
		}
		switch strings.ToLower(node.Value) {
		case command.From:
			if stage, err := instructions.ParseInstruction(node); err == nil {
				if s, ok := stage.(*instructions.Stage); ok {
					add(From, s.BaseName)
				}
			}
		case command.Copy:
			if c, err := instructions.ParseInstruction(node); err == nil {
				if c, ok := c.(*instructions.CopyCommand); ok && c.From != "" {
					add(CopyFrom, c.From)
				}
			}
		case command.Run:
			if c, err := instructions.ParseInstruction(node); err == nil {
				if run, ok := c.(*instructions.RunCommand); ok {
					for _, m := range instructions.GetMounts(run) {
						if m.From != "" {
							add(MountFrom, m.From)
						}
					}
				}
			}
		}
	}
	return refs
}

// baseRef is written as an image reference; false for a stage, a stage's
// index or scratch.
func (f *File) baseRef(kind Kind, written string, node *parser.Node, index int, env envMap, lex *shell.Lex, stages map[string]bool) (BaseRef, bool) {
	r := BaseRef{Kind: kind, Line: node.StartLine, Written: written, Ref: written, node: index}
	if kind == From {
		// Only FROM expands ARGs; BuildKit refuses variables in --from.
		res, err := lex.ProcessWordWithMatches(written, env)
		r.Ref = res.Result
		r.Unresolved = err != nil || len(res.Unmatched) > 0
		if !r.Unresolved && stages[r.Ref] {
			return r, false
		}
	} else {
		if _, err := strconv.Atoi(written); err == nil || stages[strings.ToLower(written)] {
			return r, false
		}
		r.Unresolved = strings.Contains(written, "$")
	}
	if r.Ref == "scratch" {
		return r, false
	}
	if !r.Unresolved {
		if named, err := reference.ParseNormalizedNamed(r.Ref); err == nil {
			r.Name = reference.TrimNamed(named)
		}
	}
	return r, true
}

// stageNames are the names given with FROM ... AS name (lower case, as
// BuildKit keeps them).
func (f *File) stageNames() map[string]bool {
	names := map[string]bool{}
	for _, node := range f.result.AST.Children {
		if strings.ToLower(node.Value) != command.From {
			continue
		}
		if stage, err := instructions.ParseInstruction(node); err == nil {
			if s, ok := stage.(*instructions.Stage); ok && s.Name != "" {
				names[s.Name] = true
			}
		}
	}
	return names
}

// globalArgs are the ARGs before the first FROM with their values: a build
// arg's value, else the default expanded with the ARGs before it, as
// BuildKit computes them. An ARG without either has no value.
func (f *File) globalArgs(args map[string]string) envMap {
	env := envMap{}
	lex := shell.NewLex(f.result.EscapeToken)
	for _, node := range f.result.AST.Children {
		name := strings.ToLower(node.Value)
		if name == command.From {
			break
		}
		if name != command.Arg {
			continue
		}
		c, err := instructions.ParseInstruction(node)
		if err != nil {
			continue
		}
		arg, ok := c.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range arg.Args {
			if v, ok := args[kv.Key]; ok {
				env[kv.Key] = v
			} else if kv.Value != nil {
				if res, err := lex.ProcessWordWithMatches(*kv.Value, env); err == nil {
					env[kv.Key] = res.Result
				}
			}
		}
	}
	return env
}

// envMap is a shell.EnvGetter.
type envMap map[string]string

func (e envMap) Get(key string) (string, bool) {
	v, ok := e[key]
	return v, ok
}

func (e envMap) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// line is line n (1-based) without its line ending, and where it begins.
func (f *File) line(n int) (string, int) {
	start := f.lineStarts[n-1]
	end := len(f.text)
	if n < len(f.lineStarts) {
		end = f.lineStarts[n]
	}
	return strings.TrimRight(f.text[start:end], "\r\n"), start
}

func (f *File) lineCount() int { return len(f.lineStarts) }

// errLocate is a reference that BuildKit parsed but whose text this
// package cannot find in the instruction, so it cannot rewrite it.
func errLocate(r BaseRef) error {
	return fmt.Errorf("line %d: %w %s %q in the instruction's text to replace it; write it as a plain word, e.g. %s",
		r.Line, errCannotLocate, r.Kind, r.Written, example(r.Kind))
}

var errCannotLocate = errors.New("cannot find")

func example(k Kind) string {
	switch k {
	case CopyFrom:
		return "COPY --from=acme/base /src /dst"
	case MountFrom:
		return "RUN --mount=type=bind,from=acme/base,target=/base ..."
	}
	return "FROM acme/base AS build"
}

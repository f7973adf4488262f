package dockerfile

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Where an instruction's words are in the text. BuildKit's parser joins an
// instruction's lines (dropping line continuations, comment lines and
// empty continuation lines) and keeps no offsets; the joined line is made
// of slices of the text, so each of its bytes has a place in the text.
// Heredoc bodies follow the joined line and are never part of it.

// logicalLine is an instruction's joined line.
type logicalLine struct {
	text string
	// pieces are the slices of the file's text that make it, in order.
	pieces []piece
}

type piece struct {
	at    int // offset in the logical line
	start int // offset in the file's text
	len   int
}

// span is a range of the file's text.
type span struct{ start, end int }

// logicalLine joins node's lines as the parser does.
func (f *File) logicalLine(node *parser.Node) logicalLine {
	var l logicalLine
	cont := continuation(f.result.EscapeToken)
	for n := node.StartLine; n <= node.EndLine && n <= f.lineCount(); n++ {
		text, start := f.line(n)
		off := 0
		if n == node.StartLine {
			if n == 1 {
				off = len(text) - len(strings.TrimPrefix(text, "\ufeff"))
			}
			off = len(text) - len(strings.TrimLeftFunc(text[off:], unicode.IsSpace))
		} else if isComment(text) {
			continue
		} else if strings.TrimLeftFunc(text, unicode.IsSpace) == "" {
			continue
		}
		end, more := len(text), false
		if m := cont.FindStringSubmatchIndex(text[off:]); m != nil {
			// The continuation and what follows it go; the character
			// before it, when the first alternative matched, stays.
			end, more = off+m[0], true
			if m[3] > 0 {
				end = off + m[3]
			}
		}
		if end > off {
			l.pieces = append(l.pieces, piece{at: len(l.text), start: start + off, len: end - off})
			l.text += text[off:end]
		}
		if !more {
			break
		}
	}
	return l
}

// continuation is the parser's line-continuation pattern for the escape
// token: the token at the end of a line, not escaped.
func continuation(escape rune) *regexp.Regexp {
	e := regexp.QuoteMeta(string(escape))
	return regexp.MustCompile(`([^` + e + `])` + e + `[ \t]*$|^` + e + `[ \t]*$`)
}

func isComment(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "#")
}

// spans are where the logical line's bytes [from, to) are in the text: one
// span per piece they touch.
func (l logicalLine) spans(from, to int) []span {
	var out []span
	for _, p := range l.pieces {
		lo, hi := max(from, p.at), min(to, p.at+p.len)
		if lo < hi {
			out = append(out, span{p.start + lo - p.at, p.start + hi - p.at})
		}
	}
	return out
}

// words are the logical line's words, split at the whitespace that the
// parser splits at.
func (l logicalLine) words() [][2]int {
	var out [][2]int
	for _, m := range notWhitespace.FindAllStringIndex(l.text, -1) {
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}

// notWhitespace is a word between the parser's whitespace ([\t\v\f\r ]+).
var notWhitespace = regexp.MustCompile(`[^\t\v\f\r ]+`)

// Package redact masks secret values in text a build prints, so that a step
// that echoes a secret carries it into no log, error or state.
package redact

import (
	"sort"
	"strings"
)

// MinLen keeps very short values (a "1", a "yes") from masking unrelated
// output.
const MinLen = 4

// Mark replaces each secret value.
const Mark = "****"

// Masker masks a set of secret values. It is the one place that decides
// what of a text is secret: every occurrence of every value is masked, and
// where occurrences overlap (`robot$ci` inside `robot$ci:Tr0ub4dor&3`) their
// union is, so no order of the values can print a part of one.
type Masker struct {
	// values are unique, longest first.
	values []string
}

// Values returns a masker of each value, and each line of a multi-line
// value, of MinLen bytes or more; nil when there is nothing to mask.
func Values(values []string) *Masker {
	seen := map[string]bool{}
	var unique []string
	for _, value := range values {
		for _, v := range append([]string{value}, strings.Split(value, "\n")...) {
			if v = strings.TrimSpace(v); len(v) >= MinLen && !seen[v] {
				seen[v] = true
				unique = append(unique, v)
			}
		}
	}
	if len(unique) == 0 {
		return nil
	}
	sort.Slice(unique, func(i, j int) bool {
		if len(unique[i]) != len(unique[j]) {
			return len(unique[i]) > len(unique[j])
		}
		return unique[i] < unique[j]
	})
	return &Masker{values: unique}
}

// Longest is the length of the longest value; 0 for a nil masker.
func (m *Masker) Longest() int {
	if m == nil {
		return 0
	}
	return len(m.values[0])
}

// Replace masks every occurrence of every value in s; a nil masker returns
// s as it is.
func (m *Masker) Replace(s string) string {
	spans := m.spans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(Mark)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// SafeCut is where s, a piece of a text that goes on after it, can be cut
// so that the head masks alone as it would within the whole text: at least
// Longest()-1 bytes stay behind to be read with what follows (a value that
// starts there may go on past s), and no occurrence is cut in two. Callers
// carry s[SafeCut(s):] over to the next piece.
func (m *Masker) SafeCut(s string) int {
	if m == nil {
		return len(s)
	}
	cut := len(s) - (m.Longest() - 1)
	if cut <= 0 {
		return 0
	}
	for _, sp := range m.spans(s) {
		if sp.start < cut && cut < sp.end {
			return sp.end
		}
	}
	return cut
}

// span is the bytes [start, end) of a text.
type span struct{ start, end int }

// spans are the occurrences of the values in s, overlapping ones merged,
// in order.
func (m *Masker) spans(s string) []span {
	if m == nil {
		return nil
	}
	var found []span
	for _, v := range m.values {
		for from := 0; from <= len(s)-len(v); {
			i := strings.Index(s[from:], v)
			if i < 0 {
				break
			}
			found = append(found, span{from + i, from + i + len(v)})
			from += i + 1
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].start < found[j].start })
	merged := found[:1]
	for _, sp := range found[1:] {
		if last := &merged[len(merged)-1]; sp.start <= last.end {
			last.end = max(last.end, sp.end)
		} else {
			merged = append(merged, sp)
		}
	}
	return merged
}

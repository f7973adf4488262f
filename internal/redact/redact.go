// Package redact masks secret values in text a build prints, so that a step
// that echoes a secret carries it into no log, error or state.
package redact

import "strings"

// MinLen keeps very short values (a "1", a "yes") from masking unrelated
// output.
const MinLen = 4

// Mark replaces each secret value.
const Mark = "****"

// Values returns a replacer that masks each value, and each line of a
// multi-line value, of MinLen bytes or more; nil when there is nothing to
// mask.
func Values(values []string) *strings.Replacer {
	var pairs []string
	for _, value := range values {
		for _, v := range append([]string{strings.TrimSpace(value)}, strings.Split(value, "\n")...) {
			if v = strings.TrimSpace(v); len(v) >= MinLen {
				pairs = append(pairs, v, Mark)
			}
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

// Func is r.Replace, or the identity when r is nil.
func Func(r *strings.Replacer) func(string) string {
	if r == nil {
		return func(s string) string { return s }
	}
	return r.Replace
}

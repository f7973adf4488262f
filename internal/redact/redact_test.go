package redact

import (
	"strings"
	"testing"
)

func TestValuesMasksEachValueAndLine(t *testing.T) {
	r := Values([]string{"file-secret-1234\nsecond-line-5678\n", "env-secret-9876", "ab"})
	got := r.Replace("a file-secret-1234 b second-line-5678 c env-secret-9876 ab")
	if want := "a **** b **** c **** ab"; got != want {
		t.Errorf("masked = %q, want %q", got, want)
	}
	if Values([]string{"", "abc"}) != nil {
		t.Error("values shorter than MinLen gave a masker")
	}
	var none *Masker
	if none.Replace("x") != "x" || none.Longest() != 0 || none.SafeCut("abc") != 3 {
		t.Error("a nil masker is not the identity")
	}
}

// A value that starts another must not leave that one's tail in the text,
// whatever order the values come in; a value given twice masks once.
func TestValuesMasksLongestFirst(t *testing.T) {
	short, long := "robot$ci", "robot$ci:Tr0ub4dor&3"
	for _, values := range [][]string{{short, long}, {long, short}, {short, long, short, long}} {
		m := Values(values)
		if got, want := m.Replace("login "+long+" as "+short+"."), "login **** as ****."; got != want {
			t.Errorf("Values(%q).Replace = %q, want %q", values, got, want)
		}
		if len(m.values) != 2 || m.values[0] != long {
			t.Errorf("Values(%q) holds %q; want the two values, longest first", values, m.values)
		}
	}
}

// Overlapping occurrences of two values are masked as one.
func TestReplaceMasksOverlaps(t *testing.T) {
	m := Values([]string{"abc-secret", "secret-xyz"})
	if got, want := m.Replace("[abc-secret-xyz]"), "[****]"; got != want {
		t.Errorf("Replace = %q, want %q", got, want)
	}
}

// Cutting a long text at SafeCut and masking each piece alone leaves no
// part of a value that spans the cut.
func TestSafeCutKeepsValuesWhole(t *testing.T) {
	secret := "0123456789-secret-abcdefghij"
	m := Values([]string{secret})
	for at := 0; at <= len(secret); at++ {
		text := strings.Repeat(".", 100-at) + secret + strings.Repeat(".", 50)
		piece := text[:100] // the reader's buffer ends inside or after the secret
		cut := m.SafeCut(piece)
		if cut < 100-len(secret) || cut > len(piece) {
			t.Fatalf("at %d: SafeCut = %d of %d bytes", at, cut, len(piece))
		}
		masked := m.Replace(piece[:cut]) + "|" + m.Replace(text[cut:])
		if leak := longestCommon(masked, secret); leak >= 2 {
			t.Errorf("at %d (cut %d): %q holds %d bytes of the secret", at, cut, masked, leak)
		}
	}
}

// longestCommon is the length of the longest substring of secret in s.
func longestCommon(s, secret string) int {
	best := 0
	for i := range secret {
		for j := i + best + 1; j <= len(secret); j++ {
			if !strings.Contains(s, secret[i:j]) {
				break
			}
			best = j - i
		}
	}
	return best
}

// FuzzReplace checks that a masked text holds no value, and that SafeCut
// stays within the text and leaves a value that starts near the end whole.
func FuzzReplace(f *testing.F) {
	f.Add("login robot$ci:Tr0ub4dor&3 as robot$ci", "robot$ci", "robot$ci:Tr0ub4dor&3")
	f.Add("aaaaaaaaaa", "aaaa", "aaaaa")
	f.Fuzz(func(t *testing.T, text, a, b string) {
		if strings.Contains(a+b, "*") {
			return // the mark itself could then spell a value
		}
		m := Values([]string{a, b})
		masked := m.Replace(text)
		for _, v := range m.valuesOrNone() {
			if strings.Contains(masked, v) {
				t.Fatalf("Replace(%q) = %q holds %q", text, masked, v)
			}
		}
		if cut := m.SafeCut(text); cut < 0 || cut > len(text) || m != nil && cut > max(0, len(text)-(m.Longest()-1)) && !strings.HasSuffix(m.Replace(text[:cut]), Mark) {
			t.Fatalf("SafeCut(%q) = %d", text, cut)
		}
	})
}

func (m *Masker) valuesOrNone() []string {
	if m == nil {
		return nil
	}
	return m.values
}

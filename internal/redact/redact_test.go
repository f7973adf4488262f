package redact

import "testing"

func TestValuesMasksEachValueAndLine(t *testing.T) {
	r := Values([]string{"file-secret-1234\nsecond-line-5678\n", "env-secret-9876", "ab"})
	got := r.Replace("a file-secret-1234 b second-line-5678 c env-secret-9876 ab")
	if want := "a **** b **** c **** ab"; got != want {
		t.Errorf("masked = %q, want %q", got, want)
	}
	if Values([]string{"", "abc"}) != nil {
		t.Error("values shorter than MinLen gave a replacer")
	}
	if Func(nil)("x") != "x" {
		t.Error("Func(nil) is not the identity")
	}
}

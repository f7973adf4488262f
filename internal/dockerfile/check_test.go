package dockerfile

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{
		"FROM busybox\nRUN echo hi\n",
		"# syntax=docker/dockerfile:1\nFROM busybox\nRUNN echo left to the frontend\n",
		"ARG BASE=busybox\nFROM ${BASE} AS app\nCOPY --from=app /a /b\n",
		"FROM busybox\nRUN <<EOF\necho heredoc\nEOF\n",
	} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q) = %v, want ok", ok, err)
		}
	}
	for text, want := range map[string]string{
		"FROM busybox\nRUNN echo hi\n":      "line 2: unknown instruction: RUNN",
		"FROM busybox\n\nCOPY onlyone\n":    "line 3:",
		"FROM busybox\nHEALTHCHECK --x=1\n": "line 2:",
	} {
		err := Check(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%q) = %v, want an error with %q", text, err, want)
		}
	}
}

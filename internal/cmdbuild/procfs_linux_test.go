package cmdbuild

import "testing"

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		stat  string
		state byte
		pgrp  int
		ok    bool
	}{
		{stat: "123 (sleep) S 1 120 120 0 -1", state: 'S', pgrp: 120, ok: true},
		{stat: "7 (a) b (c)) Z 1 99 99 0", state: 'Z', pgrp: 99, ok: true},
		{stat: "7 no parens", ok: false},
		{stat: "7 (x) S 1", ok: false},
	} {
		state, pgrp, ok := parseProcStat([]byte(tc.stat))
		if ok != tc.ok || (ok && (state != tc.state || pgrp != tc.pgrp)) {
			t.Errorf("parseProcStat(%q) = %c, %d, %v", tc.stat, state, pgrp, ok)
		}
	}
}

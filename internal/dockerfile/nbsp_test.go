package dockerfile

import (
	"errors"
	"testing"
)

// A byte the parser takes for a space (0xa0) inside a --from word: the
// rewrite must not swallow what follows it; it refuses instead.
func TestInjectNonBreakingSpaceInFlag(t *testing.T) {
	file, err := Parse("FROM busybox\nCOPY --from=a\xa00 0\n")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = file.InjectImageMaps([]string{"docker.io/library/a:tf-fuzz"}, nil, nil)
	if !errors.Is(err, errCannotLocate) {
		t.Errorf("InjectImageMaps = %v, want the cannot-locate error", err)
	}
}

package provider

import (
	"context"
	"fmt"
	"time"
)

// defaultBuildTimeout applies when the timeouts block leaves one out.
const defaultBuildTimeout = 20 * time.Minute

// withBuildTimeout bounds a create or update by its timeout; the cause says
// which one ran out, so the build error can tell the user what to raise.
func withBuildTimeout(ctx context.Context, operation string, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("the %s timeout of %s ran out (raise timeouts.%s to allow longer builds)", operation, timeout, operation))
}

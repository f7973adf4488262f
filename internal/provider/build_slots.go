package provider

import (
	"context"
	"fmt"
	"runtime"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// buildSlots bounds the builds the provider runs at once. Terraform starts
// up to -parallelism (10) resources at a time; ten builds of one large
// context each walk it and serve it through a session at the same time, on
// cores they share, and the provider's memory grows with each (168 MiB for
// ten builds of a 400 MiB context, BENCHMARKS.md).
type buildSlots struct {
	slots chan struct{}
}

// newBuildSlots allows n builds at once; n < 1 means one per CPU.
func newBuildSlots(n int) *buildSlots {
	if n < 1 {
		n = runtime.NumCPU()
	}
	return &buildSlots{slots: make(chan struct{}, n)}
}

// acquire waits for a slot for the build of ref, or for ctx to end (an
// interrupt, the resource's timeout); release gives the slot back.
func (b *buildSlots) acquire(ctx context.Context, ref string) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	select {
	case b.slots <- struct{}{}:
		return b.release, nil
	default:
	}
	tflog.Info(ctx, "waiting for another build to finish", map[string]any{"ref": ref, "max_parallel_builds": cap(b.slots)})
	select {
	case b.slots <- struct{}{}:
		return b.release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("the build of %s did not start: %w while it waited for one of the %d builds running at once "+
			"(provider argument max_parallel_builds) to finish", ref, context.Cause(ctx), cap(b.slots))
	}
}

func (b *buildSlots) release() { <-b.slots }

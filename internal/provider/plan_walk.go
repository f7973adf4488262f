package provider

import (
	"context"
	"sync/atomic"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
)

// A plan of many images that share one context walks it once. That is
// sound only while nothing can change the tree between two resources'
// plans: in Terraform's plan walk, which runs no provisioner and applies
// nothing. Its provider process refreshes (Read) before it plans; the apply
// walk's process re-plans each resource just before applying it, with no
// Read, while a generator may write into a context between two re-plans. So
// a plan shares walks only after this process has served a Read and before
// it applies anything; every apply digests afresh. Each walk configures the
// provider anew, which starts a new walkMemo.
type walkMemo struct {
	memo    *buildcontext.Memo
	read    atomic.Bool // a Read was served: this is a plan or refresh walk
	applied atomic.Bool // a Create, Update or Delete started
}

func newWalkMemo() *walkMemo {
	return &walkMemo{memo: buildcontext.NewMemo()}
}

type planContextKey struct{}

// planning marks ctx as a plan's (ModifyPlan), for digesterFor.
func planning(ctx context.Context) context.Context {
	return context.WithValue(ctx, planContextKey{}, true)
}

// digesterFor is the digester for work under ctx: in a plan of the plan
// walk, one that shares walks; otherwise one that walks every time.
func (d *providerData) digesterFor(ctx context.Context) buildcontext.Digester {
	w := d.walks
	if w == nil || ctx.Value(planContextKey{}) == nil || !w.read.Load() || w.applied.Load() {
		return d.digester
	}
	shared := d.digester
	shared.Memo = w.memo
	return shared
}

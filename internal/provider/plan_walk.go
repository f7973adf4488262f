package provider

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/imagebuild/terraform-provider-imagebuild/internal/buildcontext"
	"github.com/imagebuild/terraform-provider-imagebuild/internal/registry"
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
//
// Base images (pull = true) are shared the same way: one registry look-up
// per distinct base serves every resource of the plan, and all of them see
// the same digest even if the tag moves during the plan.
type walkMemo struct {
	memo    *buildcontext.Memo
	bases   baseMemo
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

// isPlanning says whether ctx is a plan's (ModifyPlan), of either walk.
func isPlanning(ctx context.Context) bool { return ctx.Value(planContextKey{}) != nil }

// shares says whether work under ctx may share with the plan's other
// resources: a plan of the plan walk (see walkMemo).
func (d *providerData) shares(ctx context.Context) bool {
	w := d.walks
	return w != nil && isPlanning(ctx) && w.read.Load() && !w.applied.Load()
}

// digesterFor is the digester for work under ctx: in a plan of the plan
// walk, one that shares walks; otherwise one that walks every time.
func (d *providerData) digesterFor(ctx context.Context) buildcontext.Digester {
	w := d.walks
	if !d.shares(ctx) {
		return d.digester
	}
	shared := d.digester
	shared.Memo = w.memo
	return shared
}

// baseMemo holds the plan's look-ups of base images, errors included (an
// unreachable registry is asked once, not once per resource).
type baseMemo struct {
	mu      sync.Mutex
	entries map[string]*baseEntry
}

type baseEntry struct {
	once   sync.Once
	digest string
	err    error
}

// resolveBase is the digest that ref's tag names in its registry (see
// registry.Resolve): in a plan of the plan walk, looked up once for every
// resource that builds on ref; otherwise (an apply) asked afresh.
func (d *providerData) resolveBase(ctx context.Context, ref string) (string, error) {
	resolve := d.resolve
	if resolve == nil {
		resolve = registry.Resolve
	}
	if !d.shares(ctx) {
		return resolve(ctx, d.credentials, ref)
	}
	m := &d.walks.bases
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]*baseEntry{}
	}
	e := m.entries[ref]
	if e == nil {
		e = &baseEntry{}
		m.entries[ref] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.digest, e.err = resolve(ctx, d.credentials, ref) })
	return e.digest, e.err
}

// resolveFunc looks a tag up in its registry; nil is registry.Resolve.
type resolveFunc func(ctx context.Context, creds *registry.Credentials, ref string) (string, error)

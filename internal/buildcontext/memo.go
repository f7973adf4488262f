package buildcontext

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
)

// Memo remembers digests while nothing can change the trees they cover,
// such as the span of one Terraform plan, in which many images often share
// one context. Concurrent requests for the same tree share one walk. The
// caller decides when a Memo is valid; a new one starts empty.
type Memo struct {
	mu      sync.Mutex
	digests map[string]*memoDigest
}

type memoDigest struct {
	done chan struct{}
	tree Tree
	err  error
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo {
	return &Memo{digests: map[string]*memoDigest{}}
}

// do returns the digest remembered under key, computing it with digest
// (once, however many callers ask at the same time) when there is none.
// Errors are not remembered.
func (m *Memo) do(ctx context.Context, key string, digest func() (Tree, error)) (Tree, error) {
	m.mu.Lock()
	d, ok := m.digests[key]
	if !ok {
		d = &memoDigest{done: make(chan struct{})}
		m.digests[key] = d
	}
	m.mu.Unlock()
	if ok {
		select {
		case <-d.done:
		case <-ctx.Done():
			return Tree{}, context.Cause(ctx)
		}
		if d.err == nil {
			return d.tree, nil
		}
		return digest()
	}
	d.tree, d.err = digest()
	if d.err != nil {
		m.mu.Lock()
		delete(m.digests, key)
		m.mu.Unlock()
	}
	close(d.done)
	return d.tree, d.err
}

// memoized is digest through d's Memo, if it has one, under a key made of
// what the digest reads: its kind and absolute paths.
func (d Digester) memoized(ctx context.Context, kind string, paths []string, digest func() (Tree, error)) (Tree, error) {
	if d.Memo == nil {
		return digest()
	}
	key := []string{kind}
	for _, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		key = append(key, p)
	}
	return d.Memo.do(ctx, strings.Join(key, "\x00"), digest)
}

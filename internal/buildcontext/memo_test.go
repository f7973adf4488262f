package buildcontext

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func TestMemoSharesOneDigestAndForgetsErrors(t *testing.T) {
	m := NewMemo()
	var calls atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := m.do(context.Background(), "k", func() (Tree, error) { calls.Add(1); return Tree{Digest: "d"}, nil })
			if err != nil || got.Digest != "d" {
				t.Errorf("do = %q, %v", got.Digest, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("20 requests for one key digested %d times, want once", calls.Load())
	}
	if _, err := m.do(context.Background(), "bad", func() (Tree, error) { return Tree{}, os.ErrNotExist }); err == nil {
		t.Fatal("the error was lost")
	}
	if got, err := m.do(context.Background(), "bad", func() (Tree, error) { return Tree{Digest: "ok"}, nil }); err != nil || got.Digest != "ok" {
		t.Errorf("an error was remembered: %q, %v", got.Digest, err)
	}
}

// A Digester with a Memo gives the digest of the tree as it was when first
// asked (the caller's promise is that it cannot change); without one, the
// tree as it is.
func TestDigesterMemo(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) {
		if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	ctx := context.Background()
	plain := Digester{}
	memo := Digester{Memo: NewMemo()}
	first, err := memo.Digest(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := plain.Digest(ctx, dir); want != first {
		t.Fatalf("the memo changed the digest: %s != %s", first, want)
	}
	write("two")
	if again, _ := memo.Digest(ctx, dir); again != first {
		t.Error("the memo walked the tree again")
	}
	if fresh, _ := plain.Digest(ctx, dir); fresh == first {
		t.Error("without a memo the change was missed")
	}
	if other, _ := memo.DigestWithIgnoreFile(ctx, dir, filepath.Join(dir, "none.dockerignore")); other == first {
		t.Error("a digest with another ignore file shared the memo entry")
	}
}

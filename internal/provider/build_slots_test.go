package provider

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBuildSlotsBoundConcurrentBuilds(t *testing.T) {
	slots := newBuildSlots(2)
	var running, most atomic.Int32
	done := make(chan struct{})
	for range 6 {
		go func() {
			defer func() { done <- struct{}{} }()
			release, err := slots.acquire(context.Background(), "r")
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			now := running.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			time.Sleep(10 * time.Millisecond)
			running.Add(-1)
		}()
	}
	for range 6 {
		<-done
	}
	if most.Load() != 2 {
		t.Errorf("at most %d builds ran at once; want 2", most.Load())
	}
}

func TestBuildSlotsWaitEndsWithTheContext(t *testing.T) {
	slots := newBuildSlots(1)
	release, err := slots.acquire(context.Background(), "first")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = slots.acquire(ctx, "repo/app")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "repo/app") || !strings.Contains(err.Error(), "max_parallel_builds") {
		t.Errorf("acquire = %v; want the deadline, naming the image and max_parallel_builds", err)
	}
}

func TestBuildSlotsDefaultToOnePerCPU(t *testing.T) {
	if got := cap(newBuildSlots(0).slots); got < 1 {
		t.Errorf("default slots = %d", got)
	}
}

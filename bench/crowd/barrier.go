// The barrier of a run: no trainee speaks until every call of the run is live and its agent
// listening, so that the benchmark measures N calls talking at once. A failed call breaks the
// barrier, and the calls waiting at it end instead of waiting for a call that will never come.
package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

type barrier struct {
	mu      sync.Mutex
	missing int
	open    chan struct{} // closed when the last call arrives
	broken  chan struct{} // closed by the first abort
	reason  error
}

func newBarrier(n int) *barrier {
	return &barrier{missing: n, open: make(chan struct{}), broken: make(chan struct{})}
}

// wait arrives at the barrier and waits for every other call, at most timeout.
func (b *barrier) wait(ctx context.Context, timeout time.Duration) error {
	b.mu.Lock()
	b.missing--
	if b.missing == 0 {
		close(b.open)
	}
	b.mu.Unlock()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-b.open:
		return nil
	case <-b.broken:
		select {
		case <-b.open: // every call had arrived before the abort: this one goes ahead
			return nil
		default:
		}
		return fmt.Errorf("run aborted while waiting for the other calls: %w", b.reason)
	case <-timer.C:
		b.mu.Lock()
		missing := b.missing
		b.mu.Unlock()
		return fmt.Errorf("the other calls never all reached listening within %s (%d missing)",
			timeout, missing)
	case <-ctx.Done():
		return fmt.Errorf("interrupted while waiting for the other calls: %w", ctx.Err())
	}
}

// abort breaks the barrier for the calls still waiting at it or yet to arrive; the first reason
// is kept.
func (b *barrier) abort(reason error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.broken:
	default:
		b.reason = reason
		close(b.broken)
	}
}

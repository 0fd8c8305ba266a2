package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBarrierOpensWhenAllArrive(t *testing.T) {
	b := newBarrier(3)
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- b.wait(context.Background(), time.Second) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestBarrierAbortReleasesWaiters(t *testing.T) {
	b := newBarrier(3)
	errs := make(chan error, 1)
	go func() { errs <- b.wait(context.Background(), 5*time.Second) }()
	time.Sleep(10 * time.Millisecond)
	b.abort(errors.New("call 2 failed: boom"))
	select {
	case err := <-errs:
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("err = %v, want the abort's reason", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the waiter was not released")
	}
	// a call arriving after the abort does not wait either
	if err := b.wait(context.Background(), 5*time.Second); err == nil {
		t.Fatal("a late call passed a broken barrier")
	}
}

func TestBarrierTimesOut(t *testing.T) {
	err := newBarrier(2).wait(context.Background(), 20*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "1 missing") {
		t.Fatalf("err = %v", err)
	}
}

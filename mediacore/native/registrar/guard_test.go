package registrar

import (
	"fmt"
	"testing"
	"time"
)

func TestGuard(t *testing.T) {
	tests := []struct {
		name string
		// gaps between successive failures
		gap         time.Duration
		failures    int
		wantBlocked bool
	}{
		{name: "16 fast failures do not block", gap: 10 * time.Millisecond, failures: 16, wantBlocked: false},
		{name: "17 fast failures block", gap: 10 * time.Millisecond, failures: 17, wantBlocked: true},
		{name: "17 failures spread over more than 2 s do not block", gap: 126 * time.Millisecond, failures: 17, wantBlocked: false},
		{name: "17 failures within exactly 2 s block", gap: 125 * time.Millisecond, failures: 17, wantBlocked: true},
		{name: "slow failures never block", gap: time.Second, failures: 200, wantBlocked: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(16, 2*time.Second, 300*time.Second, 100)
			now := t0
			var blocked bool
			for i := 0; i < tt.failures; i++ {
				if blocked = g.fail("192.0.2.1", now); blocked && i < tt.failures-1 {
					t.Fatalf("blocked after %d failures", i+1)
				}
				now = now.Add(tt.gap)
			}
			now = now.Add(-tt.gap)
			if blocked != tt.wantBlocked || g.blocked("192.0.2.1", now) != tt.wantBlocked {
				t.Fatalf("blocked = %v, want %v", blocked, tt.wantBlocked)
			}
			if g.blocked("192.0.2.2", now) {
				t.Error("another source is blocked")
			}
			if tt.wantBlocked {
				if !g.blocked("192.0.2.1", now.Add(300*time.Second-time.Nanosecond)) {
					t.Error("block lifted early")
				}
				if g.blocked("192.0.2.1", now.Add(300*time.Second)) {
					t.Error("block not lifted after 300 s")
				}
				// After the block, the count starts again from zero.
				if g.fail("192.0.2.1", now.Add(300*time.Second)) {
					t.Error("first failure after the block blocks again")
				}
			}
		})
	}
}

func TestGuardBoundedMemory(t *testing.T) {
	g := newGuard(2, time.Second, time.Minute, 10)
	// Block one source, then flood with others: the least recently active
	// are forgotten first, and the table never exceeds its cap.
	for i := 0; i < 3; i++ {
		g.fail("198.51.100.1", t0)
	}
	if !g.blocked("198.51.100.1", t0) {
		t.Fatal("source not blocked")
	}
	for i := 0; i < 9; i++ {
		g.fail(fmt.Sprintf("203.0.113.%d", i), t0)
	}
	// Touching the blocked source keeps it the most recent.
	if !g.blocked("198.51.100.1", t0) {
		t.Fatal("blocked source forgotten too early")
	}
	for i := 9; i < 1000; i++ {
		g.fail(fmt.Sprintf("203.0.113.%d", i), t0)
		if n := g.tracked(); n > 10 {
			t.Fatalf("%d sources tracked, cap 10", n)
		}
	}
	if g.blocked("198.51.100.1", t0) {
		t.Error("flood did not evict the oldest source")
	}
}

func TestGuardSweep(t *testing.T) {
	g := newGuard(2, time.Second, time.Minute, 10)
	for i := 0; i < 3; i++ {
		g.fail("198.51.100.1", t0)
	}
	g.fail("198.51.100.2", t0)
	g.sweep(t0.Add(2 * time.Second))
	if n := g.tracked(); n != 1 {
		t.Fatalf("after sweep %d sources tracked, want only the blocked one", n)
	}
	g.sweep(t0.Add(time.Minute))
	if n := g.tracked(); n != 0 {
		t.Fatalf("after the block ended %d sources tracked", n)
	}
}

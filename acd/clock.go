package acd

import "time"

// Clock is the engine's only source of time.
type Clock interface {
	// Now returns the current time. It must never go backwards by more than
	// the engine tolerates: a time earlier than the last one seen is treated
	// as equal to it.
	Now() time.Time
}

// SystemClock is a [Clock] backed by time.Now.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// VirtualClock is a manually driven [Clock] for tests and simulations.
// It is not safe for concurrent use, like the engine it drives.
type VirtualClock struct {
	now time.Time
}

// NewVirtualClock returns a clock that reads start until moved.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now returns the clock's current time.
func (c *VirtualClock) Now() time.Time { return c.now }

// Set moves the clock to t.
func (c *VirtualClock) Set(t time.Time) { c.now = t }

// Advance moves the clock forward by d.
func (c *VirtualClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

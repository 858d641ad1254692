package clock

import (
	"slices"
	"testing"
	"time"
)

func TestFakeRunsDueFunctionsInOrder(t *testing.T) {
	c := NewFake(time.Time{})
	start := c.Now()
	var got []string
	var at []time.Duration
	note := func(s string) func() {
		return func() { got = append(got, s); at = append(at, c.Now().Sub(start)) }
	}
	c.AfterFunc(3*time.Second, note("c"))
	c.AfterFunc(time.Second, note("a"))
	c.AfterFunc(time.Second, note("b")) // same instant: scheduling order
	stopped := c.AfterFunc(2*time.Second, note("never"))
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	c.Advance(2 * time.Second)
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("after 2s ran %v, want %v", got, want)
	}
	// A function scheduled from a callback runs in the same Advance when due.
	c.AfterFunc(500*time.Millisecond, func() { c.AfterFunc(100*time.Millisecond, note("d")) })
	c.Advance(2 * time.Second)
	if want := []string{"a", "b", "d", "c"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if want := []time.Duration{time.Second, time.Second, 2600 * time.Millisecond, 3 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("ran at %v, want %v", at, want)
	}
	if c.Now().Sub(start) != 4*time.Second || c.Pending() != 0 {
		t.Fatalf("now %v pending %d", c.Now().Sub(start), c.Pending())
	}
}

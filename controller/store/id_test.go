package store

import "testing"

func TestNewIDIsOrderedAndUnique(t *testing.T) {
	seen := make(map[string]bool)
	prev := ""
	for range 10000 {
		id := NewID()
		if len(id) != 24 {
			t.Fatalf("len(%q) = %d, want 24", id, len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("id %q not after %q", id, prev)
		}
		prev = id
	}
}

package mediacore

import (
	"testing"
)

// FuzzAdoptID: whatever id a backend reports, and whatever ids are taken
// already, the Core id passes ValidateID and is free.
func FuzzAdoptID(f *testing.F) {
	f.Add("n1", "fake-1", "fake-1")
	f.Add("asterisk-2", "1712345678.12", "")
	f.Add("fs", "6a7e0c1e-9f3b-4c39-8a1b-1f6e2f0a9c11", "fs.6a7e0c1e-9f3b-4c39-8a1b-1f6e2f0a9c11")
	f.Add("n", "a b\r\n", "")
	f.Add("n", "", "")
	f.Add("node-with-a-32-byte-name-0000000", "raw-id-of-31-bytes-000000000000", "")
	f.Add("node-with-a-32-byte-name-0000000", "x123456789012345678901234567890123456789012345678901234567890", "")
	f.Fuzz(func(t *testing.T, name, raw, taken string) {
		if ValidateNodeName(name) != nil {
			return
		}
		n := &node{name: name}
		used := map[string]bool{taken: true, raw: true}
		// A second adoption of the same raw id must not collide either.
		for range 3 {
			id := adoptID(n, raw, func(s string) bool { return used[s] })
			if err := ValidateID(id); err != nil {
				t.Fatalf("adoptID(%q, %q) = %q: %v", name, raw, id, err)
			}
			if used[id] {
				t.Fatalf("adoptID(%q, %q) = %q, which is taken", name, raw, id)
			}
			used[id] = true
		}
	})
}

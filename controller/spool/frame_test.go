package spool

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzFrameReader feeds arbitrary bytes to the frame reader: it must not
// panic, and the frames it accepts must re-encode to exactly the prefix it
// says is valid.
func FuzzFrameReader(f *testing.F) {
	var good []byte
	for i, p := range [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("xyz"), 100)} {
		good = appendFrame(good, uint64(i+1), p)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good[:10])
	f.Add(append(bytes.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	flipped := bytes.Clone(good)
	flipped[20] ^= 1
	f.Add(flipped)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data))
		var re []byte
		for {
			pos, p, err := fr.next()
			if err == io.EOF {
				if fr.off != int64(len(data)) {
					t.Fatalf("clean EOF at %d of %d", fr.off, len(data))
				}
				break
			}
			if err != nil {
				if !errors.Is(err, errTorn) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(p) > MaxRecordSize {
				t.Fatalf("payload of %d bytes", len(p))
			}
			re = appendFrame(re, pos, p)
		}
		if !bytes.Equal(re, data[:fr.off]) {
			t.Fatalf("re-encoded frames differ from the valid prefix (%d bytes)", fr.off)
		}
	})
}

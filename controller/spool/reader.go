package spool

import (
	"fmt"
	"io"
	"os"
)

// Reader reads durable records in position order, following the spool as it
// grows. It is not safe for concurrent use; several Readers may share a
// Spool.
type Reader struct {
	s     *Spool
	after uint64 // position of the last record returned
	first uint64 // first position of the segment being read; 0 before positioning
	off   int64  // bytes of that segment consumed
	f     *os.File
}

// NewReader returns a Reader of the records after position after that are
// still on disk (acknowledged records may already be deleted).
func (s *Spool) NewReader(after uint64) *Reader { return &Reader{s: s, after: after} }

// Next returns up to max durable records after the last one returned, in
// order; none when it has caught up with the durable records. The data of
// each Entry is its own copy.
func (r *Reader) Next(max int) ([]Entry, error) {
	var out []Entry
	for len(out) < max {
		r.s.mu.Lock()
		if r.s.closed {
			r.s.mu.Unlock()
			return out, ErrClosed
		}
		seg, nextFirst := r.locateLocked()
		if seg == nil {
			r.s.mu.Unlock()
			return out, nil
		}
		limit, sealed, path := seg.synced, seg.sealed, seg.path
		r.s.mu.Unlock()

		if r.off < limit {
			if r.f == nil {
				f, err := os.Open(path)
				if err != nil {
					return out, fmt.Errorf("spool: %w", err)
				}
				r.f = f
			}
			fr := newFrameReader(io.NewSectionReader(r.f, r.off, limit-r.off))
			for len(out) < max {
				pos, data, err := fr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return out, fmt.Errorf("%w: %s at offset %d", ErrCorrupt, path, r.off+fr.off)
				}
				if pos > r.after {
					out = append(out, Entry{Pos: pos, Data: append([]byte(nil), data...)})
					r.after = pos
				}
			}
			r.off += fr.off
			continue
		}
		if !sealed || nextFirst == 0 {
			return out, nil
		}
		r.moveTo(nextFirst)
	}
	return out, nil
}

// locateLocked returns the segment to read and the first position of the
// one after it (0 when none), repositioning when the current segment was
// deleted or on first use.
func (r *Reader) locateLocked() (*segment, uint64) {
	segs := r.s.segs
	for i, seg := range segs {
		if seg.first == r.first && r.first != 0 {
			if i+1 < len(segs) {
				return seg, segs[i+1].first
			}
			return seg, 0
		}
	}
	// Not positioned, or the segment was deleted: take the last segment
	// starting at or before the wanted position, else the first after it.
	want := r.after + 1
	idx := -1
	for i, seg := range segs {
		if seg.first <= want {
			idx = i
		}
	}
	if idx < 0 {
		if len(segs) == 0 {
			return nil, 0
		}
		idx = 0
	}
	r.moveTo(segs[idx].first)
	if idx+1 < len(segs) {
		return segs[idx], segs[idx+1].first
	}
	return segs[idx], 0
}

func (r *Reader) moveTo(first uint64) {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.first, r.off = first, 0
}

// Close releases the Reader's open file.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

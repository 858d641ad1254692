package testenv

import (
	"bytes"
	"io"
	"sync"
)

// SyncBuffer collects output written from several goroutines (a daemon's
// log, a child process's stdout) for a test to read; it is safe for
// concurrent use.
type SyncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset forgets everything written so far.
func (b *SyncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// MemFile is an in-memory io.WriteSeeker that behaves like an *os.File
// for writers that rewrite headers (WAV): a write past the end grows it, a
// seek moves the offset. It is not safe for concurrent use.
type MemFile struct {
	buf []byte
	off int64
}

// Write writes p at the current offset.
func (m *MemFile) Write(p []byte) (int, error) {
	if end := m.off + int64(len(p)); end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	copy(m.buf[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

// Seek sets the offset for the next Write, as io.Seeker says.
func (m *MemFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.buf))
	}
	m.off = off
	return m.off, nil
}

// Bytes returns a copy of the contents, as a crash at this moment would
// leave them on disk.
func (m *MemFile) Bytes() []byte { return bytes.Clone(m.buf) }

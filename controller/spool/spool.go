package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultSegmentSize is the size after which the active segment is sealed
// and a new one started, when Options.SegmentSize is zero.
const DefaultSegmentSize = 8 << 20

const (
	segSuffix = ".seg"
	ackName   = "ack"
	lockName  = "LOCK"
)

// Options configure a Spool. The zero value is usable.
type Options struct {
	// SegmentSize is the size in bytes after which a segment is sealed
	// (DefaultSegmentSize when zero). A segment holds at least one record,
	// so one may exceed it by a record.
	SegmentSize int64
	// Logger receives recovery and failure reports (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer receives the Spool's metrics (none when nil).
	Registerer prometheus.Registerer
}

// Recovery says what Open found and repaired.
type Recovery struct {
	// Records is how many unacknowledged records the spool holds after Open.
	Records uint64
	// TruncatedSegments counts segments cut at an invalid frame.
	TruncatedSegments int
	// TruncatedBytes is how many bytes were cut from those segments: a torn
	// tail left by a crash mid-write, or corruption.
	TruncatedBytes int64
	// BadAckFile is true when the ack file was unreadable; every record
	// still on disk is then replayed (duplicates, never loss).
	BadAckFile bool
}

// Entry is one record read back from the spool.
type Entry struct {
	Pos  uint64
	Data []byte
}

// segment is one file. Fields are guarded by Spool.mu.
type segment struct {
	first  uint64 // position of its first record (its file name)
	last   uint64 // position of its last record; first-1 when empty
	path   string
	f      *os.File // the active segment's file; nil once sealed
	size   int64    // bytes written
	synced int64    // bytes known durable
	sealed bool
}

// Spool is a durable, ordered, append-only log of records in a directory.
// Safe for concurrent use.
type Spool struct {
	dir   string
	opts  Options
	log   *slog.Logger
	lock  *os.File
	m     *spoolMetrics
	ackMu sync.Mutex // serializes Ack (file write, then segment removal)

	// mu guards every field below.
	mu        sync.Mutex
	segs      []*segment // ascending by first; the last one is active
	next      uint64     // position of the next record
	syncedPos uint64     // every record at or below is durable
	acked     uint64     // every record at or below is acknowledged
	syncing   bool       // a group-commit leader is in fsync
	syncDone  chan struct{}
	err       error // sticky ErrBroken
	closed    bool
	recovery  Recovery
}

// Open opens (creating if needed) the spool in dir, recovers it and takes an
// exclusive lock on it. A torn or corrupt tail is truncated and reported in
// Recovery. Records are numbered from 1 and positions never repeat across
// restarts.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m, err := newSpoolMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrLocked, dir, err)
	}
	s := &Spool{dir: dir, opts: opts, log: opts.Logger, lock: lock, m: m, syncDone: make(chan struct{})}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

func (s *Spool) recover() error {
	acked, err := readAck(filepath.Join(s.dir, ackName))
	if err != nil {
		s.recovery.BadAckFile = true
		s.log.Warn("spool: unreadable ack file, replaying every record on disk", "dir", s.dir, "err", err)
	}
	s.acked = acked
	names, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	for _, de := range names {
		name := de.Name()
		if !strings.HasSuffix(name, segSuffix) || de.IsDir() {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 16, 64)
		if err != nil || first == 0 {
			continue
		}
		s.segs = append(s.segs, &segment{first: first, last: first - 1, path: filepath.Join(s.dir, name), sealed: true})
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].first < s.segs[j].first })
	kept := s.segs[:0]
	for i, seg := range s.segs {
		if err := s.scan(seg); err != nil {
			return err
		}
		if len(kept) > 0 && seg.first <= kept[len(kept)-1].last {
			return fmt.Errorf("%w: segment %s overlaps its predecessor", ErrCorrupt, seg.path)
		}
		if i < len(s.segs)-1 && seg.last <= s.acked {
			if err := os.Remove(seg.path); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			continue
		}
		kept = append(kept, seg)
	}
	s.segs = kept
	s.next = s.acked + 1
	if n := len(s.segs); n > 0 && s.segs[n-1].last+1 > s.next {
		s.next = s.segs[n-1].last + 1
	}
	// Reopen the last segment for appending when it continues at next;
	// otherwise (none, or an empty leftover) start a new one.
	if n := len(s.segs); n > 0 {
		last := s.segs[n-1]
		switch {
		case last.last+1 == s.next:
			f, err := os.OpenFile(last.path, os.O_RDWR, 0)
			if err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			if _, err := f.Seek(last.size, io.SeekStart); err != nil {
				f.Close()
				return fmt.Errorf("spool: %w", err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("spool: %w", err)
			}
			last.f, last.sealed, last.synced = f, false, last.size
		case last.size == 0:
			if err := os.Remove(last.path); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			s.segs = s.segs[:n-1]
		}
	}
	if n := len(s.segs); n == 0 || s.segs[n-1].sealed {
		if err := s.newSegmentLocked(); err != nil {
			return err
		}
	}
	s.syncedPos = s.next - 1
	if s.acked > s.syncedPos {
		s.acked = s.syncedPos
	}
	s.recovery.Records = s.countUnackedLocked()
	if s.recovery.TruncatedBytes > 0 || s.recovery.Records > 0 {
		s.log.Info("spool: recovered", "dir", s.dir, "records", s.recovery.Records,
			"truncated_segments", s.recovery.TruncatedSegments, "truncated_bytes", s.recovery.TruncatedBytes)
	}
	s.m.truncated.Add(float64(s.recovery.TruncatedBytes))
	s.m.pending.Set(float64(s.recovery.Records))
	return nil
}

// countUnackedLocked counts the records above acked that are on disk
// (positions may have holes after a corrupt segment was cut).
func (s *Spool) countUnackedLocked() uint64 {
	var n uint64
	for _, seg := range s.segs {
		if seg.last < seg.first {
			continue
		}
		lo := max(seg.first, s.acked+1)
		if seg.last >= lo {
			n += seg.last - lo + 1
		}
	}
	return n
}

// scan validates seg's frames, truncating the file at the first invalid one.
func (s *Spool) scan(seg *segment) error {
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	fr := newFrameReader(f)
	want := seg.first
	valid := int64(0) // end of the last frame in sequence
	for {
		pos, _, err := fr.next()
		if err != nil || pos != want {
			break
		}
		want++
		valid = fr.off
	}
	seg.last = want - 1
	seg.size = valid
	seg.synced = valid
	if cut := st.Size() - valid; cut > 0 {
		if err := os.Truncate(seg.path, valid); err != nil {
			return fmt.Errorf("spool: truncating %s: %w", seg.path, err)
		}
		s.recovery.TruncatedSegments++
		s.recovery.TruncatedBytes += cut
		s.log.Warn("spool: truncated an invalid tail", "segment", seg.path, "offset", valid, "bytes", cut)
	}
	return nil
}

// newSegmentLocked creates the segment starting at s.next and makes it active.
func (s *Spool) newSegmentLocked() error {
	path := filepath.Join(s.dir, fmt.Sprintf("%016x%s", s.next, segSuffix))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.segs = append(s.segs, &segment{first: s.next, last: s.next - 1, path: path, f: f})
	return nil
}

// Recovery reports what Open found.
func (s *Spool) Recovery() Recovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovery
}

// Next returns the position the next appended record will get.
func (s *Spool) Next() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Acked returns the highest acknowledged position (0 when none).
func (s *Spool) Acked() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// Durable returns the highest position known to be on stable storage.
func (s *Spool) Durable() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncedPos
}

// Append appends one record and returns its position once it is on stable
// storage. See AppendBatch.
func (s *Spool) Append(ctx context.Context, rec []byte) (uint64, error) {
	return s.AppendBatch(ctx, [][]byte{rec})
}

// AppendBatch appends recs with consecutive positions, returning the first,
// once all are on stable storage (fsync). Concurrent appends share one fsync
// (group commit): the first waiter syncs everything written so far while
// the others wait for it.
//
// ctx is checked before writing only: once written, the records will be
// replayed after a crash, so AppendBatch waits for the fsync rather than
// report a failure for records that exist. On a write error the file is cut
// back and nothing is appended; after an fsync error the Spool is broken
// (ErrBroken) until reopened.
func (s *Spool) AppendBatch(ctx context.Context, recs [][]byte) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	size := 0
	for _, r := range recs {
		if len(r) > MaxRecordSize {
			return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(r))
		}
		size += frameHeaderSize + len(r)
	}
	if len(recs) == 0 {
		return s.Next(), nil
	}
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	seg := s.segs[len(s.segs)-1]
	if seg.size > 0 && seg.size+int64(size) > s.opts.SegmentSize {
		// Rotation closes the active file: wait out a running fsync.
		for s.syncing {
			ch := s.syncDone
			s.mu.Unlock()
			<-ch
			s.mu.Lock()
		}
		if err := s.usableLocked(); err != nil {
			s.mu.Unlock()
			return 0, err
		}
		seg = s.segs[len(s.segs)-1]
		if seg.size > 0 && seg.size+int64(size) > s.opts.SegmentSize {
			if err := s.rotateLocked(); err != nil {
				s.mu.Unlock()
				return 0, err
			}
			seg = s.segs[len(s.segs)-1]
		}
	}
	first := s.next
	buf := make([]byte, 0, size)
	for i, r := range recs {
		buf = appendFrame(buf, first+uint64(i), r)
	}
	if _, err := seg.f.Write(buf); err != nil {
		// Cut back to the last whole frame so the file stays valid.
		if terr := seg.f.Truncate(seg.size); terr != nil {
			s.err = fmt.Errorf("%w: write %v, then truncate %v", ErrBroken, err, terr)
		} else if _, serr := seg.f.Seek(seg.size, io.SeekStart); serr != nil {
			s.err = fmt.Errorf("%w: write %v, then seek %v", ErrBroken, err, serr)
		}
		s.mu.Unlock()
		s.m.writeErrors.Inc()
		return 0, fmt.Errorf("spool: write: %w", err)
	}
	seg.size += int64(len(buf))
	s.next += uint64(len(recs))
	seg.last = s.next - 1
	target := s.next - 1
	s.m.appended.Add(float64(len(recs)))
	s.m.bytes.Add(float64(len(buf)))
	s.m.pending.Add(float64(len(recs)))
	s.mu.Unlock()
	return first, s.waitSync(target)
}

func (s *Spool) usableLocked() error {
	if s.closed {
		return ErrClosed
	}
	return s.err
}

// waitSync returns once target is durable, leading an fsync when none runs.
func (s *Spool) waitSync(target uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.syncedPos >= target {
			return nil
		}
		if s.err != nil {
			return s.err
		}
		if s.closed {
			return ErrClosed
		}
		if s.syncing {
			ch := s.syncDone
			s.mu.Unlock()
			<-ch
			s.mu.Lock()
			continue
		}
		// Lead: sync everything written so far. Rotation waits for
		// syncing to end, so seg stays the active, open segment.
		s.syncing = true
		seg := s.segs[len(s.segs)-1]
		upto, size := s.next-1, seg.size
		s.mu.Unlock()
		err := seg.f.Sync()
		s.mu.Lock()
		s.syncing = false
		close(s.syncDone)
		s.syncDone = make(chan struct{})
		s.m.fsyncs.Inc()
		if err != nil {
			s.err = fmt.Errorf("%w: %v", ErrBroken, err)
			s.log.Error("spool: fsync failed, refusing appends until reopened", "dir", s.dir, "err", err)
			continue
		}
		s.syncedPos = max(s.syncedPos, upto)
		seg.synced = max(seg.synced, size)
	}
}

// rotateLocked seals the active segment (fsync, close) and starts a new one.
func (s *Spool) rotateLocked() error {
	seg := s.segs[len(s.segs)-1]
	if err := seg.f.Sync(); err != nil {
		s.err = fmt.Errorf("%w: %v", ErrBroken, err)
		return s.err
	}
	if err := seg.f.Close(); err != nil {
		s.err = fmt.Errorf("%w: %v", ErrBroken, err)
		return s.err
	}
	seg.f, seg.sealed, seg.synced = nil, true, seg.size
	s.syncedPos = s.next - 1
	s.m.fsyncs.Inc()
	return s.newSegmentLocked()
}

// Ack acknowledges every record at or below pos: they will not be replayed
// after a restart, and segments holding only acknowledged records are
// deleted. Acknowledging below the current mark is a no-op; above the
// durable records is ErrAckRange. The mark is stored with fsync and an
// atomic rename before any segment is removed.
func (s *Spool) Ack(pos uint64) error {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if pos > s.syncedPos {
		s.mu.Unlock()
		return fmt.Errorf("%w: %d > %d", ErrAckRange, pos, s.syncedPos)
	}
	if pos <= s.acked {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if err := writeAck(s.dir, pos); err != nil {
		return err
	}
	s.mu.Lock()
	var remove []string
	kept := s.segs[:0]
	for _, seg := range s.segs {
		if seg.sealed && seg.last <= pos {
			remove = append(remove, seg.path)
			continue
		}
		kept = append(kept, seg)
	}
	s.segs = kept
	s.acked = pos
	s.m.pending.Set(float64(s.countUnackedLocked()))
	s.mu.Unlock()
	for _, p := range remove {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: %w", err)
		}
	}
	return nil
}

// Replay calls fn for every unacknowledged durable record, in position
// order, stopping at the first error fn returns.
func (s *Spool) Replay(fn func(Entry) error) error {
	r := s.NewReader(s.Acked())
	defer r.Close()
	for {
		es, err := r.Next(256)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		for _, e := range es {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}

// Close syncs and closes the files and releases the directory lock.
func (s *Spool) Close() error {
	s.mu.Lock()
	for s.syncing {
		ch := s.syncDone
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if seg := s.segs[len(s.segs)-1]; seg.f != nil && s.err == nil {
		err = seg.f.Sync()
	}
	s.mu.Unlock()
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

// closeFiles closes the files without syncing; with Close it ends a Spool,
// alone it is what a crash leaves behind (tests use it so).
func (s *Spool) closeFiles() error {
	s.mu.Lock()
	s.closed = true
	var err error
	for _, seg := range s.segs {
		if seg.f != nil {
			if cerr := seg.f.Close(); err == nil {
				err = cerr
			}
			seg.f = nil
		}
	}
	s.mu.Unlock()
	if cerr := s.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// ackFile: pos uint64 LE, crc32c uint32 LE of those 8 bytes.
func readAck(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, fmt.Errorf("%w: ack file", ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(b[:8]), nil
}

func writeAck(dir string, pos uint64) error {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], pos)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	tmp := filepath.Join(dir, ackName+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err = f.Write(b[:])
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, ackName))
	}
	if err != nil {
		return fmt.Errorf("spool: writing ack: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: syncing directory: %w", err)
	}
	return nil
}

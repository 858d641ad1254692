package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"
)

// Record is one item of the stream: a CDR, a queue or agent event, ...
type Record struct {
	// Seq is assigned by Writer.Submit: strictly increasing across the
	// whole stream and across restarts (it is the record's spool position;
	// there may be holes after a corrupt segment was cut). It is the
	// idempotency key: see Sink.
	Seq uint64
	// Kind tells the sink what Data holds ("cdr", "queue_event", ...).
	Kind string
	// Data is the encoded record; the Writer does not interpret it.
	Data []byte
}

// EncodeRecord returns the spool payload of r (Seq is the spool position,
// not stored in the payload).
func EncodeRecord(r Record) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(r.Kind)+len(r.Data))
	b = binary.AppendUvarint(b, uint64(len(r.Kind)))
	b = append(b, r.Kind...)
	return append(b, r.Data...)
}

// DecodeRecord parses a payload made by EncodeRecord; the result aliases p.
func DecodeRecord(seq uint64, p []byte) (Record, error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return Record{}, fmt.Errorf("%w: record header at %d", ErrCorrupt, seq)
	}
	return Record{Seq: seq, Kind: string(p[k : k+int(n)]), Data: p[k+int(n):]}, nil
}

// Sink is where records end up; the store implements it.
//
// Write persists batch, whose records are in Seq order and follow, in Seq
// order, every batch written before. It must return when ctx is done. A nil
// error means every record of the batch is stored.
//
// Idempotency: a batch may be written again after a crash or a timeout
// between Write and its acknowledgement, so Write must upsert by Seq (or by
// an id inside Data that is unique per record): writing a record twice must
// leave one copy. Records are never written out of order: a redelivered
// batch starts at or after the first record not yet acknowledged.
type Sink interface {
	Write(ctx context.Context, batch []Record) error
}

// WriterOptions configure a Writer. Dir and Sink are required.
type WriterOptions struct {
	Dir  string // the spool directory
	Sink Sink
	// Clock drives retry backoff and write timeouts (clock.Real when nil).
	Clock clock.Clock
	// Logger gets failures (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer gets the metrics of the Writer and its Spool (nil: none).
	Registerer prometheus.Registerer
	// MaxPending bounds the records accepted by Submit and not yet on
	// disk (default 65536); beyond it Submit returns ErrOverloaded.
	MaxPending int
	// BatchSize is the most records per Sink.Write (default 512).
	BatchSize int
	// WriteTimeout bounds one Sink.Write (default 10 s).
	WriteTimeout time.Duration
	// MinBackoff and MaxBackoff bound the delay before retrying a failed
	// write; it doubles per consecutive failure (defaults 100 ms, 30 s).
	MinBackoff, MaxBackoff time.Duration
	// SegmentSize is passed to the Spool.
	SegmentSize int64
}

// Writer hands records from many producers to a Sink, asynchronously, in
// batches and in one total order, through the Spool as a write-ahead log:
//
//	Submit -> pending (memory, bounded) -> appender: Spool (group commit)
//	       -> writer: Reader -> Sink.Write -> Spool.Ack
//
// Submit never waits for the disk nor for the Sink. Every record goes
// through the spool, not only while the sink fails, because a record must
// survive a daemon killed right after a call ended: Sync waits until what
// was submitted is on disk. The Sink only ever sees durable records, so a
// Seq it stored is never given to another record after a crash.
type Writer struct {
	opts WriterOptions
	sp   *Spool
	clk  clock.Clock
	log  *slog.Logger
	m    *writerMetrics

	ctx    context.Context // cancelled to abort writes and backoffs
	cancel context.CancelFunc

	appendWake chan struct{}
	sinkWake   chan struct{}
	closing    chan struct{}
	appendDone chan struct{}
	sinkDone   chan struct{}

	// mu guards the fields below.
	mu       sync.Mutex
	pending  []Record // submitted, not yet in the spool, in Seq order
	nextSeq  uint64
	closed   bool
	err      error         // the appender's fatal error (a broken spool)
	durable  uint64        // highest Seq on disk
	written  uint64        // highest Seq acknowledged by the sink
	progress chan struct{} // closed and replaced when durable or written moves
}

// OpenWriter opens the spool in opts.Dir and starts the Writer. Records left
// unacknowledged by a previous run are written first, in order, before any
// newly submitted one.
func OpenWriter(opts WriterOptions) (*Writer, error) {
	if opts.Sink == nil || opts.Dir == "" {
		return nil, errors.New("spool: WriterOptions needs Dir and Sink")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 65536
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 512
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	m, err := newWriterMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	sp, err := Open(opts.Dir, Options{SegmentSize: opts.SegmentSize, Logger: opts.Logger, Registerer: opts.Registerer})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{
		opts: opts, sp: sp, clk: opts.Clock, log: opts.Logger, m: m,
		ctx: ctx, cancel: cancel,
		appendWake: make(chan struct{}, 1), sinkWake: make(chan struct{}, 1),
		closing: make(chan struct{}), appendDone: make(chan struct{}), sinkDone: make(chan struct{}),
		nextSeq: sp.Next(), durable: sp.Durable(), written: sp.Acked(),
		progress: make(chan struct{}),
	}
	go w.appendLoop()
	go w.sinkLoop(sp.NewReader(sp.Acked()))
	return w, nil
}

// Recovery reports what opening the spool found.
func (w *Writer) Recovery() Recovery { return w.sp.Recovery() }

// Submit queues rec (its Seq is ignored) and returns the Seq it was given.
// It never blocks on the disk or the Sink. rec.Data must not be modified
// afterwards. It fails with ErrClosed after Close, ErrOverloaded when
// MaxPending records wait for the disk, and ErrBroken when the spool failed.
func (w *Writer) Submit(rec Record) (uint64, error) {
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return 0, ErrClosed
	case w.err != nil:
		err := w.err
		w.mu.Unlock()
		return 0, err
	case len(w.pending) >= w.opts.MaxPending:
		w.mu.Unlock()
		w.m.overloaded.Inc()
		return 0, ErrOverloaded
	}
	rec.Seq = w.nextSeq
	w.nextSeq++
	w.pending = append(w.pending, rec)
	w.mu.Unlock()
	w.m.submitted.Inc()
	wake(w.appendWake)
	return rec.Seq, nil
}

// Sync waits until every record submitted before the call is on disk: from
// then on it survives a crash.
func (w *Writer) Sync(ctx context.Context) error {
	w.mu.Lock()
	target := w.nextSeq - 1
	w.mu.Unlock()
	return w.wait(ctx, func() bool { return w.durable >= target })
}

// Flush waits until every record submitted before the call is acknowledged
// by the Sink.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.nextSeq - 1
	w.mu.Unlock()
	return w.wait(ctx, func() bool { return w.written >= target })
}

// wait blocks until done (evaluated with mu held) holds, ctx ends, or the
// Writer can make no more progress.
func (w *Writer) wait(ctx context.Context, done func() bool) error {
	for {
		w.mu.Lock()
		ok, err, ch := done(), w.err, w.progress
		w.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.sinkDone:
			w.mu.Lock()
			ok = done()
			w.mu.Unlock()
			if ok {
				return nil
			}
			return ErrClosed
		}
	}
}

// Backlog returns how many submitted records the Sink has not acknowledged.
func (w *Writer) Backlog() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nextSeq - 1 - w.written
}

// Close stops accepting records, puts the pending ones on disk and writes
// what the Sink takes until ctx ends; whatever is left stays in the spool
// for the next OpenWriter. When records are left behind (in the spool, or
// not even on disk, when ctx ended first) it says how many, wrapping the
// cause of ctx.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	close(w.closing)
	select {
	case <-w.appendDone:
	case <-ctx.Done():
	}
	select {
	case <-w.sinkDone:
	case <-ctx.Done():
	}
	w.cancel()
	<-w.appendDone
	<-w.sinkDone
	w.mu.Lock()
	lost, left := len(w.pending), w.durable-w.written
	w.mu.Unlock()
	err := w.sp.Close()
	cause := context.Cause(ctx)
	if cause == nil {
		cause = ErrClosed
	}
	switch {
	case lost > 0:
		return fmt.Errorf("spool: %d records not written to disk: %w", lost, cause)
	case left > 0:
		return fmt.Errorf("spool: %d records left in the spool for the next run: %w", left, cause)
	}
	return err
}

// abandon stops the Writer as a crash would: no further disk or sink
// writes, files closed without sync, pending records dropped.
func (w *Writer) abandon() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	<-w.appendDone
	<-w.sinkDone
	w.sp.closeFiles()
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// progressLocked wakes Sync and Flush waiters.
func (w *Writer) progressLocked() {
	close(w.progress)
	w.progress = make(chan struct{})
}

// sleep waits d on the Writer's clock; false when the Writer was cancelled.
func (w *Writer) sleep(d time.Duration) bool {
	ch := make(chan struct{})
	t := w.clk.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return true
	case <-w.ctx.Done():
		t.Stop()
		return false
	}
}

func (w *Writer) backoff(failures int) time.Duration {
	d := w.opts.MinBackoff
	for i := 1; i < failures && d < w.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.opts.MaxBackoff)
}

// appendLoop moves pending records to the spool, one group commit per round.
func (w *Writer) appendLoop() {
	defer close(w.appendDone)
	failures := 0
	for {
		w.mu.Lock()
		n := min(len(w.pending), 4096)
		batch := w.pending[:n]
		w.mu.Unlock()
		if n == 0 {
			select {
			case <-w.appendWake:
				continue
			case <-w.closing:
				w.mu.Lock()
				empty := len(w.pending) == 0
				w.mu.Unlock()
				if empty {
					return
				}
				continue
			case <-w.ctx.Done():
				return
			}
		}
		if w.ctx.Err() != nil {
			return
		}
		payloads := make([][]byte, n)
		for i, r := range batch {
			payloads[i] = EncodeRecord(r)
		}
		first, err := w.sp.AppendBatch(w.ctx, payloads)
		if err == nil && first != batch[0].Seq {
			err = fmt.Errorf("%w: spool position %d for record %d", ErrBroken, first, batch[0].Seq)
		}
		if err != nil {
			if errors.Is(err, ErrBroken) || errors.Is(err, ErrClosed) {
				w.mu.Lock()
				w.err = err
				w.progressLocked()
				w.mu.Unlock()
				w.log.Error("spool: writer stopped: the spool cannot take records", "err", err)
				return
			}
			failures++
			w.log.Warn("spool: append failed, retrying", "err", err, "failures", failures)
			if !w.sleep(w.backoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		w.mu.Lock()
		if n == len(w.pending) {
			w.pending = w.pending[:0]
		} else {
			w.pending = append(w.pending[:0:0], w.pending[n:]...)
		}
		w.durable = batch[n-1].Seq
		w.progressLocked()
		w.mu.Unlock()
		wake(w.sinkWake)
	}
}

// sinkLoop reads durable records in order and writes them to the Sink,
// retrying a failed batch with backoff until it succeeds. It returns when
// cancelled, or once closing, the appender done and every durable record
// written.
func (w *Writer) sinkLoop(r *Reader) {
	defer close(w.sinkDone)
	defer r.Close()
	var (
		batch      []Record
		failures   int
		closing    = w.closing
		appendDone <-chan struct{}
		finished   bool // the appender is done: no record will follow
	)
	fail := func(msg string, err error) bool {
		failures++
		w.log.Warn(msg, "err", err, "failures", failures)
		return w.sleep(w.backoff(failures))
	}
	for w.ctx.Err() == nil {
		if batch == nil {
			es, err := r.Next(w.opts.BatchSize)
			if err != nil && len(es) == 0 {
				if errors.Is(err, ErrClosed) || !fail("spool: reading the spool failed", err) {
					return
				}
				continue
			}
			if len(es) == 0 {
				if finished {
					return
				}
				select {
				case <-w.sinkWake:
				case <-closing:
					closing, appendDone = nil, w.appendDone
				case <-appendDone:
					finished = true
				case <-w.ctx.Done():
					return
				}
				continue
			}
			batch = make([]Record, 0, len(es))
			for _, e := range es {
				rec, err := DecodeRecord(e.Pos, e.Data)
				if err != nil {
					// A payload that passed its checksum but does not
					// decode was not written by EncodeRecord: skip it.
					w.log.Error("spool: skipping undecodable record", "seq", e.Pos, "err", err)
					continue
				}
				batch = append(batch, rec)
			}
			if len(batch) == 0 {
				batch = nil
				if err := w.ack(es[len(es)-1].Pos); err != nil && !fail("spool: ack failed", err) {
					return
				}
				continue
			}
		}
		ctx, cancel := context.WithCancel(w.ctx)
		t := w.clk.AfterFunc(w.opts.WriteTimeout, cancel)
		err := w.opts.Sink.Write(ctx, batch)
		t.Stop()
		cancel()
		if err == nil {
			w.m.written.Add(float64(len(batch)))
			err = w.ack(batch[len(batch)-1].Seq)
			if err == nil {
				batch, failures = nil, 0
				continue
			}
			// The batch is stored but not acknowledged: writing it again
			// is what the Sink's idempotency is for.
		} else {
			w.m.sinkErrors.Inc()
		}
		if w.ctx.Err() != nil {
			return
		}
		if !fail(fmt.Sprintf("spool: writing records %d..%d failed, keeping them in the spool",
			batch[0].Seq, batch[len(batch)-1].Seq), err) {
			return
		}
	}
}

func (w *Writer) ack(seq uint64) error {
	if err := w.sp.Ack(seq); err != nil {
		return err
	}
	w.mu.Lock()
	w.written = seq
	w.progressLocked()
	w.mu.Unlock()
	return nil
}

package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/controller/spool"
	"hotline/controller/store"
	"hotline/internal/clock"
)

// Journal record kinds in the spool (spool.Record.Kind).
const (
	JournalKindCDR        = "cdr"
	JournalKindQueueEvent = "queue_event"
	JournalKindRecording  = "recording"
)

// SpoolJournal is the Journal of a node: every record goes first to a
// local fsync'd spool (controller/spool, in a directory of the data dir),
// then, in order and in batches, to the store. The call path's calls
// (CallEnded, QueueEvents, RecordingFinished) only hand the record to the
// spool's bounded in-memory queue: they never wait for the disk or the
// database. While the database is unreachable the spool's writer retries
// with backoff, keeping every record on disk; after a crash, OpenJournal on
// the same directory writes what the store had not acknowledged first.
// The store's Put methods are upserts (by id, by seq), so a batch written
// again after a crash leaves one copy.
type SpoolJournal struct {
	w    *spool.Writer
	log  *slog.Logger
	lost prometheus.Counter
}

var _ Journal = (*SpoolJournal)(nil)

// JournalOption tunes OpenJournal.
type JournalOption func(*spool.WriterOptions)

// WithJournalClock drives the writer's retry backoff and write timeouts
// (tests).
func WithJournalClock(c clock.Clock) JournalOption {
	return func(o *spool.WriterOptions) { o.Clock = c }
}

// WithJournalSpool adjusts the spool writer's options directly (batch
// size, backoff bounds, write timeout, segment size).
func WithJournalSpool(fn func(*spool.WriterOptions)) JournalOption { return JournalOption(fn) }

// OpenJournal opens (or recovers) the spool in dir and starts writing it
// to st. logger nil discards; reg nil registers no metrics.
func OpenJournal(dir string, st store.Store, logger *slog.Logger, reg prometheus.Registerer, opts ...JournalOption) (*SpoolJournal, error) {
	if st == nil || dir == "" {
		return nil, fmt.Errorf("%w: OpenJournal needs a directory and a store", ErrInvalidOptions)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	j := &SpoolJournal{log: logger, lost: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hotline_journal_refused_total",
		Help: "Records the journal could not accept (spool overloaded, closed or broken): logged and lost.",
	})}
	if reg != nil {
		if err := reg.Register(j.lost); err != nil {
			return nil, fmt.Errorf("controller: journal metrics: %w", err)
		}
	}
	source, err := journalID(dir)
	if err != nil {
		return nil, fmt.Errorf("controller: open the journal: %w", err)
	}
	wo := spool.WriterOptions{Dir: dir, Sink: &StoreSink{Store: st, Source: source, Logger: logger}, Logger: logger, Registerer: reg}
	for _, o := range opts {
		o(&wo)
	}
	w, err := spool.OpenWriter(wo)
	if err != nil {
		return nil, fmt.Errorf("controller: open the journal: %w", err)
	}
	if r := w.Recovery(); r != (spool.Recovery{}) {
		logger.Warn("journal recovered its spool", "recovery", fmt.Sprintf("%+v", r))
	}
	j.w = w
	return j, nil
}

func (j *SpoolJournal) submit(kind string, v any, what string) {
	data, err := json.Marshal(v)
	if err == nil {
		_, err = j.w.Submit(spool.Record{Kind: kind, Data: data})
	}
	if err != nil {
		j.lost.Inc()
		j.log.Error("journal refused a record", "kind", kind, "what", what, "err", err)
	}
}

// CallEnded implements Journal.
func (j *SpoolJournal) CallEnded(cdr store.CDR) { j.submit(JournalKindCDR, cdr, cdr.ID) }

// QueueEvents implements Journal. The store gives each event its Seq when
// it is written (in journal order); the journal's id and the event's
// position in it (QueueEvent.Source, Pos) make a replay harmless.
func (j *SpoolJournal) QueueEvents(evs ...store.QueueEvent) {
	for _, e := range evs {
		j.submit(JournalKindQueueEvent, e, e.Kind)
	}
}

// RecordingFinished implements Journal.
func (j *SpoolJournal) RecordingFinished(rec store.Recording) {
	j.submit(JournalKindRecording, journalRecording{Recording: rec, Path: rec.Path}, rec.ID)
}

// journalRecording carries Path, which Recording leaves out of its JSON.
type journalRecording struct {
	store.Recording
	Path string `json:"path"`
}

// Sync waits until every record handed over before the call is on disk
// (it then survives a crash).
func (j *SpoolJournal) Sync(ctx context.Context) error { return j.w.Sync(ctx) }

// Flush waits until every record handed over before the call is in the
// store.
func (j *SpoolJournal) Flush(ctx context.Context) error { return j.w.Flush(ctx) }

// Backlog returns how many records are not in the store yet.
func (j *SpoolJournal) Backlog() uint64 { return j.w.Backlog() }

// Close stops accepting records and writes to the store what it takes
// before ctx ends; the rest stays in the spool for the next OpenJournal.
func (j *SpoolJournal) Close(ctx context.Context) error { return j.w.Close(ctx) }

// StoreSink is the spool.Sink of the journal: it decodes each record by
// its kind and writes runs of the same kind with one Put, in Seq order.
// A record that does not decode (or of an unknown kind) is logged and
// skipped: it would never decode on a retry either, and must not stall
// the records behind it.
type StoreSink struct {
	Store store.Store
	// Source names this journal in the queue events it writes (with the
	// record's Seq as QueueEvent.Pos): the idempotency key of a replay.
	// It must be set: without it a replayed event is stored twice.
	Source string
	Logger *slog.Logger
}

// Write implements spool.Sink.
func (s *StoreSink) Write(ctx context.Context, batch []spool.Record) error {
	for i := 0; i < len(batch); {
		k := i
		for k < len(batch) && batch[k].Kind == batch[i].Kind {
			k++
		}
		if err := s.writeRun(ctx, batch[i].Kind, batch[i:k]); err != nil {
			return err
		}
		i = k
	}
	return nil
}

func (s *StoreSink) skip(r spool.Record, err error) {
	if s.Logger != nil {
		s.Logger.Error("journal record skipped", "seq", r.Seq, "kind", r.Kind, "err", err)
	}
}

func (s *StoreSink) writeRun(ctx context.Context, kind string, run []spool.Record) error {
	switch kind {
	case JournalKindCDR:
		out := make([]store.CDR, 0, len(run))
		for _, r := range run {
			var v store.CDR
			if err := decodeWithID(r.Data, &v, &v.ID); err != nil {
				s.skip(r, err)
				continue
			}
			out = append(out, v)
		}
		return s.Store.CDRs().Put(ctx, out...)
	case JournalKindQueueEvent:
		out := make([]store.QueueEvent, 0, len(run))
		for _, r := range run {
			var v store.QueueEvent
			if err := json.Unmarshal(r.Data, &v); err != nil {
				s.skip(r, err)
				continue
			}
			v.Source, v.Pos = s.Source, int64(r.Seq)
			out = append(out, v)
		}
		return s.Store.QueueEvents().Put(ctx, out...)
	case JournalKindRecording:
		out := make([]store.Recording, 0, len(run))
		for _, r := range run {
			var v journalRecording
			if err := decodeWithID(r.Data, &v, &v.ID); err != nil {
				s.skip(r, err)
				continue
			}
			v.Recording.Path = v.Path
			out = append(out, v.Recording)
		}
		return s.Store.Recordings().Put(ctx, out...)
	}
	for _, r := range run {
		s.skip(r, fmt.Errorf("unknown kind %q", kind))
	}
	return nil
}

// journalIDFile holds a journal's id in its spool directory.
const journalIDFile = "journal.id"

// journalID returns the id of the journal in dir, creating it (random,
// written atomically) on first use. It lives as long as the directory:
// a fresh spool directory is a new journal, whose positions start again
// at 1 without colliding with the old ones in the store.
func journalID(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	path := filepath.Join(dir, journalIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" || len(id) > 64 {
			return "", fmt.Errorf("%s holds no usable id", path)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := store.NewID()
	tmp, err := os.CreateTemp(dir, ".journal-id-*")
	if err != nil {
		return "", err
	}
	_, err = tmp.WriteString(id + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return id, nil
}

// decodeWithID decodes data into v and checks that *id was set.
func decodeWithID(data []byte, v any, id *string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("record without an id")
	}
	return nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"hotline/controller/store"
)

// The call path's records (CDRs, queue events, recordings) keep their
// searchable fields as columns and the whole record as JSON in data. Put
// is an upsert by id (CDRs, recordings) or an insert that ignores a seq
// already stored (queue events), all of a batch in one transaction, so a
// batch replayed from the spool after a crash leaves one copy of each.

var contactTable = table[store.Contact]{
	name: "contacts", what: "contact", kind: store.KindContact,
	cols: []string{"name", "numbers", "company", "notes", "fields"},
	args: func(_ *Store, v *store.Contact) ([]any, error) {
		j, err := jsonArgs(v.Numbers, v.Fields)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, j[0], v.Company, v.Notes, j[1]}, nil
	},
	dest: func(v *store.Contact) []any {
		return []any{&v.Name, jsonCol{&v.Numbers}, &v.Company, &v.Notes, jsonCol{&v.Fields}}
	},
	side: func(ctx context.Context, s *Store, tx *sql.Tx, id string, v *store.Contact) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM contact_numbers WHERE contact_id = ?"), id); err != nil {
			return err
		}
		if v == nil {
			return nil
		}
		for _, n := range v.Numbers {
			if _, err := tx.ExecContext(ctx, s.d.rebind("INSERT INTO contact_numbers (number, contact_id) VALUES (?, ?)"), n, id); err != nil {
				return fmt.Errorf("number %q: %w", n, err)
			}
		}
		return nil
	},
}

var ivrFlowTable = table[store.IVRFlow]{
	name: "ivr_flows", what: "ivr flow", kind: store.KindIVRFlow,
	cols: []string{"name", "flow"},
	args: func(_ *Store, v *store.IVRFlow) ([]any, error) {
		flow := string(v.Flow)
		if flow == "" {
			flow = "null"
		}
		return []any{v.Name, flow}, nil
	},
	dest: func(v *store.IVRFlow) []any { return []any{&v.Name, rawCol{&v.Flow}} },
}

// rawCol scans a text column into a json.RawMessage, byte for byte.
type rawCol struct{ dst *json.RawMessage }

// Scan implements sql.Scanner.
func (c rawCol) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*c.dst = json.RawMessage(v)
	case []byte:
		*c.dst = json.RawMessage(append([]byte(nil), v...))
	default:
		return fmt.Errorf("sqlstore: text column holds %T", src)
	}
	return nil
}

type contactRepo struct {
	*repo[store.Contact, *store.Contact]
}

// GetByNumber implements store.ContactRepo.
func (r *contactRepo) GetByNumber(ctx context.Context, number string) (store.Contact, error) {
	var id string
	err := r.s.read.QueryRowContext(ctx, r.s.d.rebind("SELECT contact_id FROM contact_numbers WHERE number = ?"), number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Contact{}, errNotFoundf("contact with number", number)
	}
	if err != nil {
		return store.Contact{}, r.s.wrap("get contact by number", err)
	}
	return r.Get(ctx, id)
}

type ivrFlowRepo struct {
	*repo[store.IVRFlow, *store.IVRFlow]
}

// inTx runs fn in one write transaction.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return s.wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// where collects the conditions and arguments of a search.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.conds, w.args = append(w.conds, cond), append(w.args, arg)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// timePage adds the newest-first cursor condition of opt to w.
func (s *Store) timePage(w *where, opt store.ListOptions) error {
	if opt.After == "" {
		return nil
	}
	t, id, err := store.ParseTimeCursor(opt.After)
	if err != nil {
		return err
	}
	w.conds = append(w.conds, "(start_at < ? OR (start_at = ? AND id < ?))")
	w.args = append(w.args, s.timeArg(t), s.timeArg(t), id)
	return nil
}

// --- CDRs

type cdrRepo struct{ s *Store }

var _ store.CDRRepo = (*cdrRepo)(nil)

// prepared returns q prepared once per store on the write pool (by
// database/sql once per connection), for tx.StmtContext in a write
// transaction. It must be called before the transaction begins: the
// SQLite write pool has one connection, held by an open transaction. The
// journal's INSERTs run for every record of every call: without this,
// SQLite parsed and planned the statement for each row, about 9% of the
// daemon's CPU under call load (BENCHMARKS "Issue 9").
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	return s.prepareOn(ctx, s.write, "w", q)
}

// preparedRead is prepared for the read pool: the queries of every
// inbound call (list matching).
func (s *Store) preparedRead(ctx context.Context, q string) (*sql.Stmt, error) {
	return s.prepareOn(ctx, s.read, "r", q)
}

func (s *Store) prepareOn(ctx context.Context, db *sql.DB, pool, q string) (*sql.Stmt, error) {
	key := pool + ":" + q
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[key]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = make(map[string]*sql.Stmt)
	}
	s.stmts[key] = st
	return st, nil
}

// Put implements store.CDRRepo.
func (r *cdrRepo) Put(ctx context.Context, cdrs ...store.CDR) error {
	if len(cdrs) == 0 {
		return nil
	}
	q := r.s.d.rebind("INSERT INTO cdrs (id, start_at, caller, called, queue, agent_id, outcome, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" +
		" ON CONFLICT (id) DO UPDATE SET start_at = excluded.start_at, caller = excluded.caller, called = excluded.called," +
		" queue = excluded.queue, agent_id = excluded.agent_id, outcome = excluded.outcome, data = excluded.data")
	prep, err := r.s.prepared(ctx, q)
	if err != nil {
		return r.s.wrap("put cdrs", err)
	}
	return r.s.inTx(ctx, "put cdrs", func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, prep)
		defer stmt.Close()
		for i := range cdrs {
			c := normCDR(cdrs[i])
			data, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("encode cdr %s: %w", c.ID, err)
			}
			if _, err := stmt.ExecContext(ctx, c.ID, r.s.timeArg(c.Start), c.Caller, c.Called, c.Queue, c.AgentID,
				string(c.Outcome), string(data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// normCDR is how a CDR is kept: times in UTC at microsecond precision.
func normCDR(c store.CDR) store.CDR {
	c.Start, c.End = normTime(c.Start), normTime(c.End)
	c.Answer, c.EnqueuedAt = normPtr(c.Answer), normPtr(c.EnqueuedAt)
	return c
}

func normPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := normTime(*t)
	return &v
}

// Get implements store.CDRRepo.
func (r *cdrRepo) Get(ctx context.Context, id string) (store.CDR, error) {
	var c store.CDR
	err := r.s.read.QueryRowContext(ctx, r.s.d.rebind("SELECT data FROM cdrs WHERE id = ?"), id).Scan(jsonCol{&c})
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNotFoundf("cdr", id)
	}
	if err != nil {
		return c, r.s.wrap("get cdr", err)
	}
	return c, nil
}

// Search implements store.CDRRepo.
func (r *cdrRepo) Search(ctx context.Context, f store.CDRFilter, opt store.ListOptions) (store.Page[store.CDR], error) {
	opt = opt.Normalize()
	var w where
	if err := r.s.timePage(&w, opt); err != nil {
		return store.Page[store.CDR]{}, err
	}
	if !f.Since.IsZero() {
		w.add("start_at >= ?", r.s.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("start_at < ?", r.s.timeArg(f.Until))
	}
	for col, v := range map[string]string{"caller": f.Caller, "called": f.Called, "queue": f.Queue, "agent_id": f.AgentID, "outcome": string(f.Outcome)} {
		if v != "" {
			w.add(col+" = ?", v)
		}
	}
	q := "SELECT data FROM cdrs" + w.sql() + " ORDER BY start_at DESC, id DESC LIMIT ?"
	items, err := queryData[store.CDR](ctx, r.s, "search cdrs", q, append(w.args, opt.Limit+1))
	if err != nil {
		return store.Page[store.CDR]{}, err
	}
	return pageOf(items, opt.Limit, func(c *store.CDR) string { return store.TimeCursor(c.Start, c.ID) }), nil
}

// queryData runs q, whose rows hold one JSON data column, and decodes
// each row into a T.
func queryData[T any](ctx context.Context, s *Store, op, q string, args []any) ([]T, error) {
	rows, err := s.read.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(jsonCol{&v}); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// --- queue events

type queueEventRepo struct{ s *Store }

var _ store.QueueEventRepo = (*queueEventRepo)(nil)

// Put implements store.QueueEventRepo: each event gets the last seq + 1
// (under EventLock), in one transaction; an event whose (source, pos) is
// stored is skipped by the unique constraint.
func (r *queueEventRepo) Put(ctx context.Context, evs ...store.QueueEvent) error {
	if len(evs) == 0 {
		return nil
	}
	// SQLite needs a WHERE on an INSERT ... SELECT with an upsert clause
	// (a parsing ambiguity); PostgreSQL accepts it.
	q := r.s.d.rebind("INSERT INTO queue_events (seq, source, pos, at, kind, call_id, queue, agent_id, data)" +
		" SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? FROM queue_events WHERE true" +
		" ON CONFLICT (source, pos) DO NOTHING")
	prep, err := r.s.prepared(ctx, q)
	if err != nil {
		return r.s.wrap("put queue events", err)
	}
	return r.s.inTx(ctx, "put queue events", func(tx *sql.Tx) error {
		if r.s.d.EventLock != "" {
			if _, err := tx.ExecContext(ctx, r.s.d.EventLock); err != nil {
				return err
			}
		}
		stmt := tx.StmtContext(ctx, prep)
		defer stmt.Close()
		for _, e := range evs {
			e.At = normTime(e.At)
			var pos any
			if e.Source != "" {
				pos = e.Pos
			}
			e.Seq = 0 // assigned by the insert; not part of data
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode queue event: %w", err)
			}
			if _, err := stmt.ExecContext(ctx, e.Source, pos, r.s.timeArg(e.At), e.Kind, e.CallID, e.Queue, e.AgentID, string(data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Search implements store.QueueEventRepo.
func (r *queueEventRepo) Search(ctx context.Context, f store.QueueEventFilter, limit int) ([]store.QueueEvent, error) {
	limit = store.ListOptions{Limit: limit}.Normalize().Limit
	var w where
	w.add("seq > ?", f.AfterSeq)
	if !f.Since.IsZero() {
		w.add("at >= ?", r.s.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", r.s.timeArg(f.Until))
	}
	for col, v := range map[string]string{"queue": f.Queue, "agent_id": f.AgentID, "call_id": f.CallID} {
		if v != "" {
			w.add(col+" = ?", v)
		}
	}
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind("SELECT seq, data FROM queue_events"+w.sql()+" ORDER BY seq LIMIT ?"),
		append(w.args, limit)...)
	if err != nil {
		return nil, r.s.wrap("search queue events", err)
	}
	defer rows.Close()
	out := []store.QueueEvent{}
	for rows.Next() {
		var e store.QueueEvent
		var seq int64
		if err := rows.Scan(&seq, jsonCol{&e}); err != nil {
			return nil, r.s.wrap("search queue events", err)
		}
		e.Seq = seq
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, r.s.wrap("search queue events", err)
	}
	return out, nil
}

// --- recordings

type recordingRepo struct{ s *Store }

var _ store.RecordingRepo = (*recordingRepo)(nil)

// Put implements store.RecordingRepo.
func (r *recordingRepo) Put(ctx context.Context, recs ...store.Recording) error {
	if len(recs) == 0 {
		return nil
	}
	q := r.s.d.rebind("INSERT INTO recordings (id, call_id, start_at, duration, caller, called, agent_id, queue, path, data)" +
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET call_id = excluded.call_id," +
		" start_at = excluded.start_at, duration = excluded.duration, caller = excluded.caller, called = excluded.called," +
		" agent_id = excluded.agent_id, queue = excluded.queue, path = excluded.path, data = excluded.data")
	prep, err := r.s.prepared(ctx, q)
	if err != nil {
		return r.s.wrap("put recordings", err)
	}
	return r.s.inTx(ctx, "put recordings", func(tx *sql.Tx) error {
		stmt := tx.StmtContext(ctx, prep)
		defer stmt.Close()
		for _, v := range recs {
			v.Start, v.End = normTime(v.Start), normTime(v.End)
			for i := range v.Pauses {
				v.Pauses[i].From, v.Pauses[i].To = normTime(v.Pauses[i].From), normTime(v.Pauses[i].To)
			}
			data, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("encode recording %s: %w", v.ID, err)
			}
			if _, err := stmt.ExecContext(ctx, v.ID, v.CallID, r.s.timeArg(v.Start), v.Duration, v.Caller, v.Called,
				v.AgentID, v.Queue, v.Path, string(data)); err != nil {
				return err
			}
		}
		return nil
	})
}

const recordingSelect = "SELECT path, data FROM recordings"

func (r *recordingRepo) query(ctx context.Context, op, q string, args []any) ([]store.Recording, error) {
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind(q), args...)
	if err != nil {
		return nil, r.s.wrap(op, err)
	}
	defer rows.Close()
	var out []store.Recording
	for rows.Next() {
		var v store.Recording
		var path string
		if err := rows.Scan(&path, jsonCol{&v}); err != nil {
			return nil, r.s.wrap(op, err)
		}
		v.Path = path // not in data: Path is json:"-"
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, r.s.wrap(op, err)
	}
	return out, nil
}

// Get implements store.RecordingRepo.
func (r *recordingRepo) Get(ctx context.Context, id string) (store.Recording, error) {
	out, err := r.query(ctx, "get recording", recordingSelect+" WHERE id = ?", []any{id})
	if err != nil {
		return store.Recording{}, err
	}
	if len(out) == 0 {
		return store.Recording{}, errNotFoundf("recording", id)
	}
	return out[0], nil
}

// Search implements store.RecordingRepo.
func (r *recordingRepo) Search(ctx context.Context, f store.RecordingFilter, opt store.ListOptions) (store.Page[store.Recording], error) {
	opt = opt.Normalize()
	var w where
	if err := r.s.timePage(&w, opt); err != nil {
		return store.Page[store.Recording]{}, err
	}
	if !f.Since.IsZero() {
		w.add("start_at >= ?", r.s.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("start_at < ?", r.s.timeArg(f.Until))
	}
	if f.MinDuration > 0 {
		w.add("duration >= ?", f.MinDuration)
	}
	if f.MaxDuration > 0 {
		w.add("duration <= ?", f.MaxDuration)
	}
	for col, v := range map[string]string{"caller": f.Caller, "called": f.Called, "queue": f.Queue, "agent_id": f.AgentID} {
		if v != "" {
			w.add(col+" = ?", v)
		}
	}
	items, err := r.query(ctx, "search recordings", recordingSelect+w.sql()+" ORDER BY start_at DESC, id DESC LIMIT ?",
		append(w.args, opt.Limit+1))
	if err != nil {
		return store.Page[store.Recording]{}, err
	}
	return pageOf(items, opt.Limit, func(v *store.Recording) string { return store.TimeCursor(v.Start, v.ID) }), nil
}

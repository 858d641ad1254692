package sqlstore

import (
	"context"
	"database/sql"

	"hotline/controller/store"
)

// insertChangeSQL appends the next revision. Revisions are gapless and in
// commit order because every change transaction holds the change lock
// (Dialect.ChangeLock; SQLite's single writer) from before this statement
// until its commit.
const insertChangeSQL = "INSERT INTO changes (revision, kind, entity_id, op, changed_at) " +
	"SELECT COALESCE(MAX(revision), 0) + 1, ?, ?, ?, ? FROM changes RETURNING revision"

// execChangeHook runs one writing statement of a configuration aggregate and,
// when it touched a row, records the change in the same transaction. It
// returns the number of rows touched (0: nothing written, nothing recorded).
//
// hook, when not nil, runs in the same transaction after the statement
// touched a row (side tables such as contact_numbers).
func (s *Store) execChangeHook(ctx context.Context, op string, kind store.Kind, id string, what store.Op,
	hook func(context.Context, *sql.Tx) error, q string, args ...any) (int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if s.d.ChangeLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.ChangeLock); err != nil {
			return 0, s.wrap(op+": lock the change feed", err)
		}
	}
	res, err := tx.ExecContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	if n == 0 {
		return 0, nil
	}
	if hook != nil {
		if err := hook(ctx, tx); err != nil {
			return 0, s.wrap(op, err)
		}
	}
	var rev int64
	if err := tx.QueryRowContext(ctx, s.d.rebind(insertChangeSQL), string(kind), id, string(what), s.timeArg(s.now())).Scan(&rev); err != nil {
		return 0, s.wrap(op+": record the change", err)
	}
	if s.d.Notify != "" {
		if _, err := tx.ExecContext(ctx, s.d.Notify); err != nil {
			return 0, s.wrap(op+": notify", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(op, err)
	}
	s.Wake()
	return n, nil
}

// Changes implements store.ChangeFeed.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	limit = store.ListOptions{Limit: limit}.Normalize().Limit
	rows, err := s.read.QueryContext(ctx, s.d.rebind(
		"SELECT revision, kind, entity_id, op, changed_at FROM changes WHERE revision > ? ORDER BY revision LIMIT ?"), after, limit)
	if err != nil {
		return nil, s.wrap("list changes", err)
	}
	defer rows.Close()
	out := []store.Change{}
	for rows.Next() {
		var c store.Change
		if err := rows.Scan(&c.Revision, &c.Kind, &c.ID, &c.Op, timeCol{&c.At}); err != nil {
			return nil, s.wrap("list changes", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list changes", err)
	}
	return out, nil
}

// Revision implements store.ChangeFeed.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(revision), 0) FROM changes").Scan(&rev); err != nil {
		return 0, s.wrap("read the revision", err)
	}
	return rev, nil
}

// Watch implements store.ChangeFeed for this process's own commits; a
// dialect package with a cross-process notification (PostgreSQL) adds its
// own wake-ups through Wake.
func (s *Store) Watch(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.watchMu.Lock()
	if s.watchers == nil {
		s.watchers = make(map[chan struct{}]struct{})
	}
	s.watchers[ch] = struct{}{}
	s.watchMu.Unlock()
	context.AfterFunc(ctx, func() {
		s.watchMu.Lock()
		delete(s.watchers, ch)
		close(ch)
		s.watchMu.Unlock()
	})
	return ch
}

// Wake tells every watcher that changes may have been committed.
func (s *Store) Wake() {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

var _ store.ChangeFeed = (*Store)(nil)

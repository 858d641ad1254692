package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"hotline/controller/store"
)

// entity is a pointer to an aggregate that embeds store.Meta.
type entity[T any] interface {
	*T
	GetMeta() *store.Meta
}

// table maps one aggregate to its table. Every such table starts with the
// meta columns id, version, created_at, updated_at; cols are the rest.
type table[T any] struct {
	name string     // SQL table
	what string     // singular noun for error messages
	kind store.Kind // name in the change feed
	cols []string
	// args returns the values of cols for v, in order.
	args func(s *Store, v *T) ([]any, error)
	// dest returns scan destinations for cols into v, in order.
	dest func(v *T) []any
	// side, when set, keeps a side table in step with the record, inside
	// the write's transaction, after the row was written: v is nil on a
	// delete. Its error aborts the write (a unique side key taken gives
	// ErrConflict through the dialect's Classify).
	side func(ctx context.Context, s *Store, tx *sql.Tx, id string, v *T) error
}

// hook returns the side-table step of a write for execChange (nil when
// the table has none).
func (r *repo[T, P]) hook(id string, v *T) func(context.Context, *sql.Tx) error {
	if r.t.side == nil {
		return nil
	}
	return func(ctx context.Context, tx *sql.Tx) error { return r.t.side(ctx, r.s, tx, id, v) }
}

const metaCols = "id, version, created_at, updated_at"

// repo is the generic store.Repo over one table.
type repo[T any, P entity[T]] struct {
	s *Store
	t table[T]

	selectSQL string // SELECT <all columns> FROM <table>
	insertSQL string
	updateSQL string
}

func newRepo[T any, P entity[T]](s *Store, t table[T]) *repo[T, P] {
	cols := strings.Join(t.cols, ", ")
	sets := make([]string, len(t.cols))
	for i, c := range t.cols {
		sets[i] = c + " = ?"
	}
	return &repo[T, P]{
		s:         s,
		t:         t,
		selectSQL: "SELECT " + metaCols + ", " + cols + " FROM " + t.name,
		insertSQL: "INSERT INTO " + t.name + " (" + metaCols + ", " + cols + ") VALUES (?, ?, ?, ?" +
			strings.Repeat(", ?", len(t.cols)) + ")",
		updateSQL: "UPDATE " + t.name + " SET " + strings.Join(sets, ", ") +
			", version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
	}
}

// scan reads one row of selectSQL.
func (r *repo[T, P]) scan(row interface{ Scan(...any) error }) (T, error) {
	var v T
	m := P(&v).GetMeta()
	dest := append([]any{&m.ID, &m.Version, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt}}, r.t.dest(&v)...)
	err := row.Scan(dest...)
	return v, err
}

// Create implements store.Repo.
func (r *repo[T, P]) Create(ctx context.Context, v *T) error {
	args, err := r.t.args(r.s, v)
	if err != nil {
		return err
	}
	id, now := store.NewID(), normTime(r.s.now())
	args = append([]any{id, int64(1), r.s.timeArg(now), r.s.timeArg(now)}, args...)
	if _, err := r.s.execChangeHook(ctx, "create "+r.t.what, r.t.kind, id, store.OpCreate, r.hook(id, v), r.insertSQL, args...); err != nil {
		return err
	}
	m := P(v).GetMeta()
	m.ID, m.Version, m.CreatedAt, m.UpdatedAt = id, 1, now, now
	return nil
}

// Get implements store.Repo.
func (r *repo[T, P]) Get(ctx context.Context, id string) (T, error) {
	return r.getBy(ctx, "id", id)
}

// getBy returns the record whose column col (a unique key) equals val.
func (r *repo[T, P]) getBy(ctx context.Context, col, val string) (T, error) {
	q := r.s.d.rebind(r.selectSQL + " WHERE " + col + " = ?")
	v, err := r.scan(r.s.read.QueryRowContext(ctx, q, val))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%w: %s with %s %q", store.ErrNotFound, r.t.what, col, val)
	}
	if err != nil {
		return v, r.s.wrap("get "+r.t.what, err)
	}
	return v, nil
}

// Update implements store.Repo.
func (r *repo[T, P]) Update(ctx context.Context, v *T) error {
	m := P(v).GetMeta()
	args, err := r.t.args(r.s, v)
	if err != nil {
		return err
	}
	now := normTime(r.s.now())
	args = append(args, r.s.timeArg(now), m.ID, m.Version)
	n, err := r.s.execChangeHook(ctx, "update "+r.t.what, r.t.kind, m.ID, store.OpUpdate, r.hook(m.ID, v), r.updateSQL, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return r.missingOrStale(ctx, m.ID, m.Version)
	}
	m.Version++
	m.UpdatedAt = now
	return nil
}

// Delete implements store.Repo.
func (r *repo[T, P]) Delete(ctx context.Context, id string, version int64) error {
	q, args := "DELETE FROM "+r.t.name+" WHERE id = ?", []any{id}
	if version != 0 {
		q, args = q+" AND version = ?", append(args, version)
	}
	n, err := r.s.execChangeHook(ctx, "delete "+r.t.what, r.t.kind, id, store.OpDelete, r.hook(id, nil), q, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return r.missingOrStale(ctx, id, version)
	}
	return nil
}

// missingOrStale explains why a versioned write touched no row. A record
// deleted between the write and this read is reported as not found, which
// is what the caller would see on retry anyway.
func (r *repo[T, P]) missingOrStale(ctx context.Context, id string, version int64) error {
	var stored int64
	err := r.s.read.QueryRowContext(ctx, r.s.d.rebind("SELECT version FROM "+r.t.name+" WHERE id = ?"), id).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s %q", store.ErrNotFound, r.t.what, id)
	case err != nil:
		return r.s.wrap("check "+r.t.what+" version", err)
	}
	return fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, r.t.what, id, stored, version)
}

// List implements store.Repo: keyset pagination on the ID, ascending.
func (r *repo[T, P]) List(ctx context.Context, opt store.ListOptions) (store.Page[T], error) {
	return r.list(ctx, "", nil, opt)
}

// list pages through the rows matching where (with args), by ascending id.
func (r *repo[T, P]) list(ctx context.Context, where string, args []any, opt store.ListOptions) (store.Page[T], error) {
	opt = opt.Normalize()
	q := r.selectSQL + " WHERE id > ?"
	if where != "" {
		q += " AND (" + where + ")"
	}
	q += " ORDER BY id LIMIT ?"
	args = append([]any{opt.After}, args...)
	args = append(args, opt.Limit+1)
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind(q), args...)
	if err != nil {
		return store.Page[T]{}, r.s.wrap("list "+r.t.name, err)
	}
	defer rows.Close()
	items := make([]T, 0, min(opt.Limit+1, 64))
	for rows.Next() {
		v, err := r.scan(rows)
		if err != nil {
			return store.Page[T]{}, r.s.wrap("list "+r.t.name, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return store.Page[T]{}, r.s.wrap("list "+r.t.name, err)
	}
	return pageOf(items, opt.Limit, func(v *T) string { return P(v).GetMeta().ID }), nil
}

// pageOf cuts items (fetched with limit+1) into a page; the extra row only
// tells that a next page exists.
func pageOf[T any](items []T, limit int, id func(*T) string) store.Page[T] {
	if items == nil {
		items = []T{} // an empty page encodes as [], not null
	}
	p := store.Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = id(&p.Items[limit-1])
	}
	return p
}

package sqlstore

import (
	"context"
	"strings"

	"hotline/controller/store"
)

type auditRepo struct{ s *Store }

var _ store.AuditRepo = (*auditRepo)(nil)

// Append implements store.AuditRepo. A zero At is set to the store's clock.
func (r *auditRepo) Append(ctx context.Context, e *store.AuditEntry) error {
	id, at := store.NewID(), normTime(e.At)
	if e.At.IsZero() {
		at = normTime(r.s.now())
	}
	_, err := r.s.exec(ctx, "append audit",
		"INSERT INTO audit_log (id, occurred_at, user_id, username, action, resource, resource_id, remote, result, detail, request_id)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		id, r.s.timeArg(at), e.UserID, e.Username, e.Action, e.Resource, e.ResourceID, e.Remote, e.Result, e.Detail, e.RequestID)
	if err != nil {
		return err
	}
	e.ID, e.At = id, at
	return nil
}

// List implements store.AuditRepo: newest first by ID (append order), with
// Since inclusive and Until exclusive on At.
func (r *auditRepo) List(ctx context.Context, f store.AuditFilter, opt store.ListOptions) (store.Page[store.AuditEntry], error) {
	opt = opt.Normalize()
	var where []string
	var args []any
	if opt.After != "" {
		where, args = append(where, "id < ?"), append(args, opt.After)
	}
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.Resource != "" {
		where, args = append(where, "resource = ?"), append(args, f.Resource)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, r.s.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, r.s.timeArg(f.Until))
	}
	q := "SELECT id, occurred_at, user_id, username, action, resource, resource_id, remote, result, detail, request_id FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, opt.Limit+1)
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind(q), args...)
	if err != nil {
		return store.Page[store.AuditEntry]{}, r.s.wrap("list audit", err)
	}
	defer rows.Close()
	var items []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.ID, timeCol{&e.At}, &e.UserID, &e.Username, &e.Action, &e.Resource, &e.ResourceID,
			&e.Remote, &e.Result, &e.Detail, &e.RequestID); err != nil {
			return store.Page[store.AuditEntry]{}, r.s.wrap("list audit", err)
		}
		items = append(items, e)
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.AuditEntry]{}, r.s.wrap("list audit", err)
	}
	return pageOf(items, opt.Limit, func(e *store.AuditEntry) string { return e.ID }), nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hotline/controller/store"
)

type tokenRepo struct{ s *Store }

var _ store.TokenRepo = (*tokenRepo)(nil)

const tokenSelect = "SELECT id, user_id, name, kind, hash, created_at, expires_at, last_used_at FROM tokens"

func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Kind, &t.Hash, timeCol{&t.CreatedAt},
		nullTimeCol{&t.ExpiresAt}, nullTimeCol{&t.LastUsedAt})
	return t, err
}

// Create implements store.TokenRepo.
func (r *tokenRepo) Create(ctx context.Context, t *store.Token) error {
	id, now := store.NewID(), normTime(r.s.now())
	_, err := r.s.exec(ctx, "create token",
		"INSERT INTO tokens (id, user_id, name, kind, hash, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		id, t.UserID, t.Name, string(t.Kind), t.Hash, r.s.timeArg(now), r.s.nullTimeArg(t.ExpiresAt), r.s.nullTimeArg(t.LastUsedAt))
	if err != nil {
		return err
	}
	t.ID, t.CreatedAt = id, now
	return nil
}

// GetByHash implements store.TokenRepo. A token is valid while now is
// before its ExpiresAt.
func (r *tokenRepo) GetByHash(ctx context.Context, hash string, now time.Time) (store.Token, error) {
	q := tokenSelect + " WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)"
	t, err := scanToken(r.s.read.QueryRowContext(ctx, r.s.d.rebind(q), hash, r.s.timeArg(now)))
	if errors.Is(err, sql.ErrNoRows) {
		// The hash is a credential: keep it out of the message.
		return store.Token{}, fmt.Errorf("%w: no live token with that hash", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, r.s.wrap("get token", err)
	}
	return t, nil
}

// Touch implements store.TokenRepo.
func (r *tokenRepo) Touch(ctx context.Context, id string, at time.Time) error {
	n, err := r.s.exec(ctx, "touch token", "UPDATE tokens SET last_used_at = ? WHERE id = ?", r.s.timeArg(at), id)
	if err != nil {
		return err
	}
	if n == 0 {
		return errNotFoundf("token", id)
	}
	return nil
}

// ListByUser implements store.TokenRepo; tokens come oldest first.
func (r *tokenRepo) ListByUser(ctx context.Context, userID string) ([]store.Token, error) {
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind(tokenSelect+" WHERE user_id = ? ORDER BY id"), userID)
	if err != nil {
		return nil, r.s.wrap("list tokens", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, r.s.wrap("list tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, r.s.wrap("list tokens", err)
	}
	return out, nil
}

// List implements store.TokenRepo.
func (r *tokenRepo) List(ctx context.Context, opt store.ListOptions) (store.Page[store.Token], error) {
	opt = opt.Normalize()
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind(tokenSelect+" WHERE id > ? ORDER BY id LIMIT ?"), opt.After, opt.Limit+1)
	if err != nil {
		return store.Page[store.Token]{}, r.s.wrap("list tokens", err)
	}
	defer rows.Close()
	var items []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return store.Page[store.Token]{}, r.s.wrap("list tokens", err)
		}
		items = append(items, t)
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.Token]{}, r.s.wrap("list tokens", err)
	}
	return pageOf(items, opt.Limit, func(t *store.Token) string { return t.ID }), nil
}

// Delete implements store.TokenRepo.
func (r *tokenRepo) Delete(ctx context.Context, id string) error {
	n, err := r.s.exec(ctx, "delete token", "DELETE FROM tokens WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n == 0 {
		return errNotFoundf("token", id)
	}
	return nil
}

// DeleteExpired implements store.TokenRepo: it removes the tokens that
// GetByHash no longer returns (ExpiresAt at or before now).
func (r *tokenRepo) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n, err := r.s.exec(ctx, "delete expired tokens", "DELETE FROM tokens WHERE expires_at <= ?", r.s.timeArg(now))
	return int(n), err
}

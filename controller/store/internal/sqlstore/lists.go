package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"hotline/controller/store"
)

type listRepo struct {
	*repo[store.ListEntry, *store.ListEntry]
}

// Match implements store.ListRepo. The prefixes of number are enumerated in
// Go and looked up with IN, so the (list, pattern, match) unique index
// serves the query instead of a LIKE scan, and a pattern holding % or _ is
// never taken for a wildcard.
func (r *listRepo) Match(ctx context.Context, list store.ListKind, number string, now time.Time) ([]store.ListEntry, error) {
	prefixes := make([]any, 0, len(number)+1)
	for i := 0; i <= len(number); i++ {
		prefixes = append(prefixes, number[:i])
	}
	q := r.selectSQL + " WHERE list_kind = ? AND (expires_at IS NULL OR expires_at > ?)" +
		" AND ((match_kind = 'exact' AND pattern = ?) OR (match_kind = 'prefix' AND pattern IN (?" +
		strings.Repeat(", ?", len(prefixes)-1) + ")))"
	args := append([]any{string(list), r.s.timeArg(now), number}, prefixes...)
	rows, err := r.s.read.QueryContext(ctx, r.s.d.rebind(q), args...)
	if err != nil {
		return nil, r.s.wrap("match list", err)
	}
	defer rows.Close()
	var out []store.ListEntry
	for rows.Next() {
		e, err := r.scan(rows)
		if err != nil {
			return nil, r.s.wrap("match list", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, r.s.wrap("match list", err)
	}
	// Longest pattern first; on a tie the exact entry wins, then the oldest.
	slices.SortFunc(out, func(a, b store.ListEntry) int {
		if c := cmp.Compare(len(b.Pattern), len(a.Pattern)); c != 0 {
			return c
		}
		if a.Match != b.Match {
			if a.Match == store.MatchExact {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

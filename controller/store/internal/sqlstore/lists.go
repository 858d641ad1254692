package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"hotline/controller/store"
)

type listRepo struct {
	*repo[store.ListEntry, *store.ListEntry]
}

// maxPreparedNumber is the longest number whose list query stays prepared.
const maxPreparedNumber = 32

// Match implements store.ListRepo. The prefixes of number (number itself
// included) are enumerated in Go and looked up with IN, so the unique index
// on (list_kind, pattern, match_kind) serves the query instead of a scan, and
// a pattern holding % or _ is never taken for a LIKE wildcard. An exact
// entry found that way matches only when it is the whole number.
func (r *listRepo) Match(ctx context.Context, list store.ListKind, number string, now time.Time) ([]store.ListEntry, error) {
	prefixes := make([]any, 0, len(number)+1)
	for i := 0; i <= len(number); i++ {
		prefixes = append(prefixes, number[:i])
	}
	q := r.selectSQL + " WHERE list_kind = ? AND pattern IN (?" + strings.Repeat(", ?", len(prefixes)-1) + ")" +
		" AND (expires_at IS NULL OR expires_at > ?)"
	args := append(append([]any{string(list)}, prefixes...), r.s.timeArg(now))
	// Prepared once per number length: every inbound call matches the
	// blacklist and the whitelist. The caller's number comes from the
	// network, so only lengths of real numbers (E.164: at most 15 digits
	// and a +, with room for prefixes and extensions) are kept prepared.
	var rows *sql.Rows
	var err error
	if len(number) <= maxPreparedNumber {
		var st *sql.Stmt
		if st, err = r.s.preparedRead(ctx, r.s.d.rebind(q)); err != nil {
			return nil, r.s.wrap("match list", err)
		}
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = r.s.read.QueryContext(ctx, r.s.d.rebind(q), args...)
	}
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
		switch {
		case e.Match == store.MatchPrefix:
		case e.Match == store.MatchExact && e.Pattern == number:
		default:
			continue
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

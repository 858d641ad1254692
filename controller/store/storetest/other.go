package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/controller/store"
)

func testUsersCount(t *testing.T, open Open) {
	c := ctx(t)
	s := open(t)
	count := func(want int) {
		t.Helper()
		n, err := s.Users().Count(c)
		must(t, "count", err)
		if n != want {
			t.Fatalf("count = %d, want %d", n, want)
		}
	}
	count(0)
	var ids []string
	for i := range 3 {
		u := userSuite.make(i)
		must(t, "create", s.Users().Create(c, &u))
		ids = append(ids, u.ID)
	}
	count(3)
	must(t, "delete", s.Users().Delete(c, ids[1], 0))
	count(2)
	// Other aggregates do not count as users.
	a := agentSuite.make(0)
	must(t, "create agent", s.Agents().Create(c, &a))
	count(2)
}

func testTokens(t *testing.T, open Open) {
	c := ctx(t)
	s := open(t)
	r := s.Tokens()
	now := at(10, 0)
	mk := func(user, hash string, expires *time.Time) store.Token {
		t.Helper()
		tok := store.Token{UserID: user, Name: "token " + hash, Kind: store.TokenAPI, Hash: hash, ExpiresAt: expires}
		before := time.Now()
		must(t, "create token", r.Create(c, &tok))
		checkID(t, tok.ID)
		checkStamp(t, "token created_at", tok.CreatedAt, before, time.Now())
		return tok
	}
	live := mk("u1", "h-live", ptr(now.Add(time.Hour)))
	forever := mk("u1", "h-forever", nil)
	expired := mk("u1", "h-expired", ptr(now.Add(-time.Hour)))
	other := mk("u2", "h-other", ptr(now.Add(48*time.Hour)))

	dup := store.Token{UserID: "u3", Hash: "h-live", Kind: store.TokenSession}
	wantErr(t, "duplicate hash", r.Create(c, &dup), store.ErrConflict)

	lookups := []struct {
		name string
		hash string
		now  time.Time
		want *store.Token
	}{
		{"live", "h-live", now, &live},
		{"live just before expiry", "h-live", now.Add(time.Hour - time.Microsecond), &live},
		{"live at expiry", "h-live", now.Add(time.Hour), nil},
		{"no expiry", "h-forever", now.Add(100 * 365 * 24 * time.Hour), &forever},
		{"expired", "h-expired", now, nil},
		{"unknown", "h-nope", now, nil},
		{"other user", "h-other", now, &other},
	}
	for _, tc := range lookups {
		got, err := r.GetByHash(c, tc.hash, tc.now)
		if tc.want == nil {
			wantErr(t, "lookup "+tc.name, err, store.ErrNotFound)
			continue
		}
		must(t, "lookup "+tc.name, err)
		equal(t, "lookup "+tc.name, got, *tc.want)
	}

	used := now.Add(5 * time.Minute)
	must(t, "touch", r.Touch(c, live.ID, used))
	got, err := r.GetByHash(c, "h-live", now)
	must(t, "lookup after touch", err)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) || got.LastUsedAt.Location() != time.UTC {
		t.Fatalf("last_used_at = %v, want %v in UTC", got.LastUsedAt, used)
	}
	live = got
	wantErr(t, "touch missing", r.Touch(c, store.NewID(), used), store.ErrNotFound)

	byUser, err := r.ListByUser(c, "u1")
	must(t, "list by user", err)
	equal(t, "tokens of u1", byUser, []store.Token{live, forever, expired})
	byUser, err = r.ListByUser(c, "nobody")
	must(t, "list by unknown user", err)
	if len(byUser) != 0 {
		t.Fatalf("unknown user has %d tokens", len(byUser))
	}

	var all []store.Token
	opt := store.ListOptions{Limit: 3}
	for {
		p, err := r.List(c, opt)
		must(t, "list", err)
		all = append(all, p.Items...)
		if p.Next == "" {
			break
		}
		opt.After = p.Next
	}
	equal(t, "all tokens", all, []store.Token{live, forever, expired, other})

	n, err := r.DeleteExpired(c, now)
	must(t, "delete expired", err)
	if n != 1 {
		t.Fatalf("delete expired removed %d tokens, want 1", n)
	}
	n, err = r.DeleteExpired(c, now)
	must(t, "delete expired again", err)
	if n != 0 {
		t.Fatalf("second delete expired removed %d tokens, want 0", n)
	}
	n, err = r.DeleteExpired(c, now.Add(2*time.Hour))
	must(t, "delete expired later", err)
	if n != 1 {
		t.Fatalf("delete expired two hours later removed %d tokens, want 1 (the live one)", n)
	}
	byUser, err = r.ListByUser(c, "u1")
	must(t, "list by user", err)
	equal(t, "tokens of u1 after expiry sweeps", byUser, []store.Token{forever})

	must(t, "delete", r.Delete(c, forever.ID))
	wantErr(t, "delete again", r.Delete(c, forever.ID), store.ErrNotFound)
	_, err = r.GetByHash(c, "h-forever", now)
	wantErr(t, "lookup deleted", err, store.ErrNotFound)
}

func testListMatch(t *testing.T, open Open) {
	c := ctx(t)
	s := open(t)
	r := s.Lists()
	now := at(10, 0)
	add := func(list store.ListKind, pattern string, m store.MatchKind, expires *time.Time) store.ListEntry {
		t.Helper()
		e := store.ListEntry{List: list, Pattern: pattern, Match: m, Note: pattern, ExpiresAt: expires}
		if list == store.ListWhitelist {
			e.Target = &store.Target{Kind: store.TargetQueue, Value: "vip"}
		}
		must(t, "create "+pattern, r.Create(c, &e))
		return e
	}
	const number = "+8613800138000"
	exact := add(store.ListBlacklist, number, store.MatchExact, nil)
	samePrefix := add(store.ListBlacklist, number, store.MatchPrefix, ptr(now.Add(time.Minute)))
	p6 := add(store.ListBlacklist, "+86138", store.MatchPrefix, nil)
	p3 := add(store.ListBlacklist, "+86", store.MatchPrefix, nil)
	add(store.ListBlacklist, "+861380013800", store.MatchPrefix, ptr(now.Add(-time.Minute))) // expired
	add(store.ListBlacklist, "+861380013800", store.MatchExact, nil)                         // exact, shorter
	add(store.ListBlacklist, number+"1", store.MatchPrefix, nil)                             // longer than number
	add(store.ListBlacklist, "+87", store.MatchPrefix, nil)
	add(store.ListBlacklist, "86138", store.MatchPrefix, nil) // no +
	add(store.ListBlacklist, "+86_38%", store.MatchPrefix, nil)
	vip := add(store.ListWhitelist, "+86138", store.MatchPrefix, nil) // same pattern, other list
	dnc := add(store.ListDNC, number, store.MatchExact, ptr(now))     // expires exactly now

	tests := []struct {
		name   string
		list   store.ListKind
		number string
		now    time.Time
		want   []store.ListEntry
	}{
		{"longest first, exact before prefix", store.ListBlacklist, number, now, []store.ListEntry{exact, samePrefix, p6, p3}},
		{"expiry passes", store.ListBlacklist, number, now.Add(time.Minute), []store.ListEntry{exact, p6, p3}},
		{"prefix only", store.ListBlacklist, "+8613899999999", now, []store.ListEntry{p6, p3}},
		{"no match", store.ListBlacklist, "+4930123456", now, nil},
		{"other list", store.ListWhitelist, number, now, []store.ListEntry{vip}},
		{"expired at now", store.ListDNC, number, now, nil},
		{"live before expiry", store.ListDNC, number, now.Add(-time.Microsecond), []store.ListEntry{dnc}},
		{"empty number", store.ListBlacklist, "", now, nil},
		// Longer than any real number: not kept prepared (sqlstore).
		{"very long number", store.ListBlacklist, "+86138" + strings.Repeat("0", 40), now, []store.ListEntry{p6, p3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Match(c, tc.list, tc.number, tc.now)
			must(t, "match", err)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			equal(t, "matches", got, tc.want)
		})
	}
}

func testAudit(t *testing.T, open Open) {
	c := ctx(t)
	s := open(t)
	r := s.Audit()
	users := []string{"u1", "u2", "u3"}
	resources := []string{"queues", "agents"}
	var all []store.AuditEntry // in append order
	for i := range 30 {
		e := store.AuditEntry{
			At:         at(5, i),
			UserID:     users[i%3],
			Username:   "name-" + users[i%3],
			Action:     []string{"create", "update", "delete"}[i%3],
			Resource:   resources[i%2],
			ResourceID: fmt.Sprintf("r%d", i),
			Remote:     "127.0.0.1:5555",
			Result:     200 + i,
			Detail:     fmt.Sprintf(`{"i":%d}`, i),
			RequestID:  fmt.Sprintf("req-%d", i),
		}
		must(t, "append", r.Append(c, &e))
		checkID(t, e.ID)
		all = append(all, e)
	}
	newestFirst := func(keep func(store.AuditEntry) bool) []store.AuditEntry {
		var out []store.AuditEntry
		for _, e := range slices.Backward(all) {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	walk := func(t *testing.T, f store.AuditFilter, limit int) []store.AuditEntry {
		t.Helper()
		var out []store.AuditEntry
		opt := store.ListOptions{Limit: limit}
		for range 100 {
			p, err := r.List(c, f, opt)
			must(t, "list audit", err)
			if len(p.Items) > opt.Normalize().Limit {
				t.Fatalf("page of %d entries exceeds limit %d", len(p.Items), limit)
			}
			out = append(out, p.Items...)
			if p.Next == "" {
				return out
			}
			opt.After = p.Next
		}
		t.Fatalf("audit pagination does not end")
		return nil
	}

	tests := []struct {
		name   string
		filter store.AuditFilter
		keep   func(store.AuditEntry) bool
	}{
		{"all", store.AuditFilter{}, func(store.AuditEntry) bool { return true }},
		{"user", store.AuditFilter{UserID: "u2"}, func(e store.AuditEntry) bool { return e.UserID == "u2" }},
		{"resource", store.AuditFilter{Resource: "agents"}, func(e store.AuditEntry) bool { return e.Resource == "agents" }},
		{"user and resource", store.AuditFilter{UserID: "u1", Resource: "queues"}, func(e store.AuditEntry) bool {
			return e.UserID == "u1" && e.Resource == "queues"
		}},
		{"since inclusive", store.AuditFilter{Since: at(5, 25)}, func(e store.AuditEntry) bool { return !e.At.Before(at(5, 25)) }},
		{"until exclusive", store.AuditFilter{Until: at(5, 3)}, func(e store.AuditEntry) bool { return e.At.Before(at(5, 3)) }},
		{"window and user", store.AuditFilter{UserID: "u3", Since: at(5, 10), Until: at(5, 20)}, func(e store.AuditEntry) bool {
			return e.UserID == "u3" && !e.At.Before(at(5, 10)) && e.At.Before(at(5, 20))
		}},
		{"nothing", store.AuditFilter{UserID: "nobody"}, func(store.AuditEntry) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := newestFirst(tc.keep)
			for _, limit := range []int{0, 4, 7} {
				got := walk(t, tc.filter, limit)
				if len(got) == 0 && len(want) == 0 {
					continue
				}
				equal(t, fmt.Sprintf("entries (limit %d)", limit), got, want)
			}
		})
	}

	// A zero At is stamped by the store.
	e := store.AuditEntry{UserID: "u1", Action: "login", Resource: "sessions", Remote: "127.0.0.1", Result: 200}
	before := time.Now()
	must(t, "append without time", r.Append(c, &e))
	checkStamp(t, "audit at", e.At, before, time.Now())
	p, err := r.List(c, store.AuditFilter{}, store.ListOptions{Limit: 1})
	must(t, "list newest", err)
	if len(p.Items) != 1 {
		t.Fatalf("got %d entries, want 1", len(p.Items))
	}
	equal(t, "newest entry", p.Items[0], e)
}

// testTimesUTC stores a time given in another zone with nanoseconds: it comes
// back in UTC, equal to the instant truncated to the microsecond.
func testTimesUTC(t *testing.T, open Open) {
	c := ctx(t)
	s := open(t)
	shanghai := time.FixedZone("CST", 8*3600)
	local := time.Date(2026, time.May, 1, 8, 30, 0, 123456789, shanghai)
	want := local.UTC().Truncate(time.Microsecond)

	e := store.ListEntry{List: store.ListDNC, Pattern: "+861", Match: store.MatchPrefix, ExpiresAt: &local}
	must(t, "create", s.Lists().Create(c, &e))
	if e.ExpiresAt != &local || !e.ExpiresAt.Equal(local) {
		t.Fatalf("create modified the caller's time")
	}
	got, err := s.Lists().Get(c, e.ID)
	must(t, "get", err)
	if got.ExpiresAt == nil || got.ExpiresAt.Location() != time.UTC || !got.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want %v in UTC", got.ExpiresAt, want)
	}

	a := store.AuditEntry{At: local, UserID: "u", Action: "x", Resource: "y"}
	must(t, "append", s.Audit().Append(c, &a))
	p, err := s.Audit().List(c, store.AuditFilter{}, store.ListOptions{})
	must(t, "list audit", err)
	if len(p.Items) != 1 || p.Items[0].At.Location() != time.UTC || !p.Items[0].At.Equal(want) {
		t.Fatalf("audit at = %+v, want %v in UTC", p.Items, want)
	}
	equal(t, "audit entry", p.Items[0], a)
}

func testPing(t *testing.T, open Open) {
	c := ctx(t)
	s := open(t)
	must(t, "ping", s.Ping(c))
	must(t, "close", s.Close())
	err := s.Ping(c)
	wantErr(t, "ping after close", err, store.ErrUnavailable)
	_, err = s.Users().Count(c)
	if err == nil {
		t.Fatalf("count after close succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("count after close: got %v, want ErrUnavailable", err)
	}
}

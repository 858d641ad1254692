package storetest

import (
	"context"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"

	"hotline/controller/store"
)

// Open returns a new, empty, migrated store. The suite calls it from
// parallel subtests and may Close the store itself, so closing twice (once
// more in the opener's own cleanup) must be harmless.
type Open func(t *testing.T) store.Store

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open Open) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, open Open)
	}{
		{"Users", func(t *testing.T, open Open) { runRepo(t, open, userSuite) }},
		{"Agents", func(t *testing.T, open Open) { runRepo(t, open, agentSuite) }},
		{"Skills", func(t *testing.T, open Open) { runRepo(t, open, skillSuite) }},
		{"Queues", func(t *testing.T, open Open) { runRepo(t, open, queueSuite) }},
		{"Numbers", func(t *testing.T, open Open) { runRepo(t, open, numberSuite) }},
		{"Trunks", func(t *testing.T, open Open) { runRepo(t, open, trunkSuite) }},
		{"Schedules", func(t *testing.T, open Open) { runRepo(t, open, scheduleSuite) }},
		{"Lists", func(t *testing.T, open Open) { runRepo(t, open, listSuite) }},
		{"Contacts", func(t *testing.T, open Open) { runRepo(t, open, contactSuite) }},
		{"IVRFlows", func(t *testing.T, open Open) { runRepo(t, open, ivrFlowSuite) }},
		{"ContactNumbers", testContactNumbers},
		{"CDRs", testCDRs},
		{"QueueEvents", testQueueEvents},
		{"QueueEventsConcurrent", testQueueEventsConcurrent},
		{"Recordings", testRecordings},
		{"UsersCount", testUsersCount},
		{"Tokens", testTokens},
		{"ListMatch", testListMatch},
		{"Audit", testAudit},
		{"TimesUTC", testTimesUTC},
		{"Ping", testPing},
		{"Changes", testChanges},
		{"Conferences", func(t *testing.T, open Open) { runRepo(t, open, conferenceSuite) }},
		{"VoicemailBoxes", func(t *testing.T, open Open) { runRepo(t, open, voicemailBoxSuite) }},
		{"VoicemailMessages", func(t *testing.T, open Open) { runRepo(t, open, voicemailMessageSuite) }},
		{"VoicemailListByBox", testVoicemailListByBox},
		{"RingGroups", func(t *testing.T, open Open) { runRepo(t, open, ringGroupSuite) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open)
		})
	}
}

// ctx returns a context bounded well above any sane store latency, so a
// deadlocked store fails the test instead of hanging the run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// equal fails unless got and want are deeply equal (times included: the
// store returns UTC times with microsecond precision, which is what the
// fixtures use).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// checkID fails unless id looks like store.NewID's output.
func checkID(t *testing.T, id string) {
	t.Helper()
	if _, err := hex.DecodeString(id); err != nil || len(id) != 24 {
		t.Fatalf("id %q is not 24 hex characters", id)
	}
}

// checkStamp fails unless ts is a UTC store timestamp taken between before
// and after (not a speed check: it catches unset or local-time stamps).
func checkStamp(t *testing.T, what string, ts, before, after time.Time) {
	t.Helper()
	if ts.Location() != time.UTC {
		t.Fatalf("%s %v is not in UTC", what, ts)
	}
	if ts.Before(before.Truncate(time.Microsecond)) || ts.After(after) {
		t.Fatalf("%s %v is not between %v and %v", what, ts, before, after)
	}
	if ts.Nanosecond()%1000 != 0 {
		t.Fatalf("%s %v has sub-microsecond digits", what, ts)
	}
}

// at returns a fixed UTC time with microsecond digits, so round-trips are
// checked at the precision the stores promise.
func at(day, minute int) time.Time {
	return time.Date(2026, time.March, day, 9, minute, 7, 123456000, time.UTC)
}

func ptr[T any](v T) *T { return &v }

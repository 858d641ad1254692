package store

import (
	"context"
	"time"
)

// Kind names a configuration aggregate in the change feed; the values are
// the API's resource names.
type Kind string

// Aggregate kinds that produce changes. Tokens and the audit log are not
// configuration and produce none.
const (
	KindUser     Kind = "users"
	KindAgent    Kind = "agents"
	KindSkill    Kind = "skills"
	KindQueue    Kind = "queues"
	KindNumber   Kind = "numbers"
	KindTrunk    Kind = "trunks"
	KindSchedule Kind = "schedules"
	KindList     Kind = "lists"
	KindContact  Kind = "contacts"
	KindIVRFlow  Kind = "ivr-flows"
)

// Op is what a change did to its record.
type Op string

// Ops.
const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Change is one committed create, update or delete of a configuration
// record. Revisions are assigned in commit order, start at 1 and have no
// gaps, so a follower that has applied revision r has seen every change up
// to r and only needs those after it.
type Change struct {
	Revision int64     `json:"revision"`
	Kind     Kind      `json:"kind"`
	ID       string    `json:"id"`
	Op       Op        `json:"op"`
	At       time.Time `json:"at"`
}

// ChangeFeed is the change log of one database, written in the same
// transaction as the change it records, so it never shows a change that
// did not commit nor misses one that did.
type ChangeFeed interface {
	// Changes returns the changes with Revision > after in ascending order,
	// at most limit of them (<= 0 means DefaultLimit, above MaxLimit is
	// clamped). An empty answer means the caller is up to date.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// Revision returns the revision of the last committed change (0 when
	// there is none): a follower that loads the configuration starts
	// following from the revision it read before loading.
	Revision(ctx context.Context) (int64, error)
	// Watch returns a channel that receives a value (coalesced: capacity
	// one) after changes are committed: by this process, and on a shared
	// database (PostgreSQL LISTEN/NOTIFY) by other processes too. It is a
	// wake-up, not a delivery: read Changes after each. The channel is
	// closed when ctx ends. A follower should still call Changes now and
	// then as a safety net: a notification lost with a broken connection is
	// not repeated.
	Watch(ctx context.Context) <-chan struct{}
}

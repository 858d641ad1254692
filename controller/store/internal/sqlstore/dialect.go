package sqlstore

import (
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between the SQL databases behind Store.
type Dialect struct {
	// Name is used in error messages and logs ("sqlite", "postgres").
	Name string
	// Numbered makes placeholders $1, $2, ... instead of ?.
	Numbered bool
	// Classify returns store.ErrConflict or store.ErrUnavailable when err
	// (from the driver) means that, else nil.
	Classify func(err error) error
	// TimeArg converts a UTC time into the value bound to a time column.
	TimeArg func(t time.Time) any
	// ChangeLock, when set, runs first in every transaction that records a
	// change and holds a lock until its commit, so revisions are assigned
	// in commit order (SQLite needs none: it has one writer).
	ChangeLock string
	// EventLock, when set, runs first in every transaction that appends
	// queue events and holds a lock until its commit, so their seq (the
	// last + 1) ascends in commit order across writers.
	EventLock string
	// Notify, when set, runs after a change is recorded, in the same
	// transaction, to wake other processes' watchers at commit.
	Notify string
}

// TextTimeLayout is how dialects without a time type store times: fixed
// width, so that text order is time order and range filters work on text.
const TextTimeLayout = "2006-01-02T15:04:05.000000Z"

// TextTime is a Dialect.TimeArg for databases that store times as text.
func TextTime(t time.Time) any { return t.UTC().Format(TextTimeLayout) }

// rebind rewrites ? placeholders into $n for numbered dialects. The queries
// of this package never hold a ? inside a string literal.
func (d Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

package reports

import (
	"fmt"
	"time"
)

// SLFormula chooses how service level treats abandons (docs/METRICS.md).
type SLFormula string

// Service level formulas.
const (
	// SLOffered: answered within T / offered; abandons count against.
	SLOffered SLFormula = "offered"
	// SLAnswered: answered within T / answered; abandons are ignored.
	SLAnswered SLFormula = "answered"
	// SLAbandonsWithinTNeutral: answered within T / (offered - abandoned
	// within T).
	SLAbandonsWithinTNeutral SLFormula = "abandons-within-t-neutral"
)

// Config holds the configurable parts of the definitions. The zero value
// is not usable; start from DefaultConfig.
type Config struct {
	// ServiceLevelThreshold (T): an answer with wait <= T is within
	// service level.
	ServiceLevelThreshold time.Duration
	// ShortAbandon (S): an abandon with wait < S is a short abandon.
	ShortAbandon time.Duration
	// ExcludeShortAbandons removes short abandons from offered and
	// abandoned.
	ExcludeShortAbandons bool
	// ServiceLevelFormula: see SLFormula.
	ServiceLevelFormula SLFormula
}

// DefaultConfig is T = 20 s, S = 5 s, short abandons excluded, service
// level over offered.
func DefaultConfig() Config {
	return Config{ServiceLevelThreshold: 20 * time.Second, ShortAbandon: 5 * time.Second,
		ExcludeShortAbandons: true, ServiceLevelFormula: SLOffered}
}

func (c Config) validate() error {
	switch {
	case c.ServiceLevelThreshold <= 0:
		return fmt.Errorf("%w: ServiceLevelThreshold must be positive", ErrInvalidConfig)
	case c.ShortAbandon < 0:
		return fmt.Errorf("%w: ShortAbandon must not be negative", ErrInvalidConfig)
	}
	switch c.ServiceLevelFormula {
	case SLOffered, SLAnswered, SLAbandonsWithinTNeutral:
		return nil
	}
	return fmt.Errorf("%w: ServiceLevelFormula %q", ErrInvalidConfig, c.ServiceLevelFormula)
}

// Interval is a report's row length.
type Interval string

// Intervals: local wall-clock quarter, half and whole hours, local days,
// weeks (from Monday) and months, or the whole range.
const (
	Interval15m   Interval = "15m"
	Interval30m   Interval = "30m"
	Interval60m   Interval = "60m"
	IntervalDay   Interval = "day"
	IntervalWeek  Interval = "week"
	IntervalMonth Interval = "month"
	IntervalTotal Interval = "total"
)

// Intervals lists every Interval.
var Intervals = []Interval{Interval15m, Interval30m, Interval60m, IntervalDay, IntervalWeek, IntervalMonth, IntervalTotal}

// MaxRange is the longest range a query may cover.
const MaxRange = 400 * 24 * time.Hour

// Query selects a report.
type Query struct {
	// From and To bound the range [From, To); both are rounded down to a
	// UTC quarter hour.
	From, To time.Time
	// Location is the time zone of the intervals; nil means UTC.
	Location *time.Location
	// Interval is the row length; "" means total.
	Interval Interval
	// Keys keeps only these queue, agent, number or trunk ids; empty
	// keeps all.
	Keys []string
}

func (q Query) normalized() (Query, error) {
	if q.Location == nil {
		q.Location = time.UTC
	}
	if q.Interval == "" {
		q.Interval = IntervalTotal
	}
	valid := false
	for _, iv := range Intervals {
		valid = valid || iv == q.Interval
	}
	if !valid {
		return q, fmt.Errorf("%w: interval %q", ErrInvalidQuery, q.Interval)
	}
	if q.From.IsZero() {
		return q, fmt.Errorf("%w: from is required", ErrInvalidQuery)
	}
	if q.To.IsZero() {
		return q, fmt.Errorf("%w: to is required", ErrInvalidQuery)
	}
	q.From = time.Unix(floorDiv(q.From.Unix(), slotSeconds)*slotSeconds, 0).UTC()
	q.To = time.Unix(floorDiv(q.To.Unix(), slotSeconds)*slotSeconds, 0).UTC()
	if !q.To.After(q.From) {
		return q, fmt.Errorf("%w: to must be at least a quarter hour after from", ErrInvalidQuery)
	}
	if q.To.Sub(q.From) > MaxRange {
		return q, fmt.Errorf("%w: to: the range is longer than %d days", ErrInvalidQuery, int(MaxRange/(24*time.Hour)))
	}
	return q, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

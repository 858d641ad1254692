package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// normTime is how every time is written: UTC, truncated to the microsecond
// that PostgreSQL keeps (it would round, not truncate, on its own).
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (s *Store) timeArg(t time.Time) any { return s.d.TimeArg(normTime(t)) }

func (s *Store) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.timeArg(*t)
}

// timeCol scans a time column stored either natively (time.Time) or as
// TextTimeLayout text, and returns it in UTC.
type timeCol struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("sqlstore: NULL in a NOT NULL time column")
	}
	*c.dst = *t
	return nil
}

// nullTimeCol scans a nullable time column into a *time.Time.
type nullTimeCol struct{ dst **time.Time }

// Scan implements sql.Scanner.
func (c nullTimeCol) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*c.dst = t
	return nil
}

// parseTime decodes what a driver returns for a time column: nil, a
// time.Time, or text in TextTimeLayout (or any RFC 3339 time).
func parseTime(src any) (*time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = v
	case string:
		p, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: time column: %w", err)
		}
		t = p
	case []byte:
		p, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: time column: %w", err)
		}
		t = p
	default:
		return nil, fmt.Errorf("sqlstore: time column holds %T", src)
	}
	t = t.UTC()
	return &t, nil
}

// jsonArg encodes v for a JSON column; a nil slice or pointer becomes SQL
// NULL so that nil and empty round-trip as themselves.
func jsonArg(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode json: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	return string(b), nil
}

// jsonCol scans a JSON column into dst (a pointer); NULL leaves dst zero.
type jsonCol struct{ dst any }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlstore: json column holds %T", src)
	}
	if err := json.Unmarshal(b, c.dst); err != nil {
		return fmt.Errorf("sqlstore: decode json: %w", err)
	}
	return nil
}

// jsonArgs encodes several values for JSON columns, stopping at the first
// error.
func jsonArgs(vs ...any) ([]any, error) {
	out := make([]any, len(vs))
	for i, v := range vs {
		a, err := jsonArg(v)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// nowUTC is the wall clock for bookkeeping that no test observes
// (schema_migrations.applied_at).
func nowUTC() time.Time { return time.Now().UTC() }

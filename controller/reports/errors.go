package reports

import "errors"

// Sentinel errors.
var (
	// ErrInvalidQuery means a report query is unusable (range, interval,
	// ranking figure); the wrapped text names the field.
	ErrInvalidQuery = errors.New("reports: invalid query")
	// ErrInvalidConfig means a Config is unusable.
	ErrInvalidConfig = errors.New("reports: invalid config")
)

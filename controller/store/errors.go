package store

import "errors"

var (
	// ErrNotFound means no record has the requested id or key.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a unique key (name, extension, number, username) is
	// already taken by another record.
	ErrConflict = errors.New("store: conflict")
	// ErrVersionMismatch means the record changed since the caller read it.
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrUnavailable means the database could not be reached.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrBadCursor means a search's ListOptions.After is not a cursor the
	// store handed out (Page.Next).
	ErrBadCursor = errors.New("store: bad cursor")
)

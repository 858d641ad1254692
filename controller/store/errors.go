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
	// ErrInvalidValue means the database refused a value it cannot store,
	// such as a string with a NUL byte (PostgreSQL) or invalid UTF-8: the
	// caller's input is at fault, not the database.
	ErrInvalidValue = errors.New("store: value cannot be stored")
	// ErrBadCursor means a search's ListOptions.After is not a cursor the
	// store handed out (Page.Next).
	ErrBadCursor = errors.New("store: bad cursor")
)

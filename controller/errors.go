package controller

import "errors"

// Errors of the controller.
var (
	// ErrInvalidOptions: New was given unusable Options.
	ErrInvalidOptions = errors.New("controller: invalid options")
	// ErrClosed: the controller (or its ACD owner) was closed.
	ErrClosed = errors.New("controller: closed")
)

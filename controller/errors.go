package controller

import "errors"

// Errors of the controller.
var (
	// ErrInvalidOptions: New was given unusable Options.
	ErrInvalidOptions = errors.New("controller: invalid options")
	// ErrClosed: the controller (or its ACD owner) was closed.
	ErrClosed = errors.New("controller: closed")
)

// Errors of the call path and its live control (LiveControl).
var (
	// ErrIllegalTransition: an agent state change the acd state machine
	// refuses; the message carries the acd reason (the api answers 409).
	ErrIllegalTransition = errors.New("controller: illegal state transition")
	// ErrForbidden: the actor may not act on this agent or call (403).
	ErrForbidden = errors.New("controller: forbidden")
	// ErrNoSuchCall: no live call has this id (404).
	ErrNoSuchCall = errors.New("controller: no such call")
	// ErrNotRecording: the call has no recording to pause or resume (409).
	ErrNotRecording = errors.New("controller: call is not being recorded")
)

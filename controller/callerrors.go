package controller

import "errors"

// Errors of the call path besides those of errors.go.
var (
	// ErrNoSuchQueue: a route, IVR result or overflow names a queue the
	// ACD does not know.
	ErrNoSuchQueue = errors.New("controller: no such queue")
	// ErrInvalidDevice: an agent's device is not a neutral endpoint
	// (user/NAME, sip:URI or tel/NUMBER); the api answers 400.
	ErrInvalidDevice = errors.New("controller: invalid agent device")
	// ErrInvalidState: an agent state request names no known state
	// (ready, not-ready, logged-out); the api answers 400.
	ErrInvalidState = errors.New("controller: invalid agent state")
)

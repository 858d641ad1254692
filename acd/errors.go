package acd

import "errors"

// ErrIllegalTransition is returned when a command is not legal in the
// agent's or call's current state. Nothing is changed.
var ErrIllegalTransition = errors.New("acd: illegal transition")

// ErrUnknownAgent is returned for an agent ID the engine does not know.
var ErrUnknownAgent = errors.New("acd: unknown agent")

// ErrUnknownQueue is returned for a queue ID the engine does not know.
var ErrUnknownQueue = errors.New("acd: unknown queue")

// ErrUnknownCall is returned for a call ID that is not (or no longer) in the
// engine.
var ErrUnknownCall = errors.New("acd: unknown call")

// ErrDuplicateCall is returned when a call ID is enqueued while a call with
// the same ID is still in the engine.
var ErrDuplicateCall = errors.New("acd: duplicate call")

// ErrNotOffered is returned when an answer or failure is reported for an
// agent the call is not currently offered to.
var ErrNotOffered = errors.New("acd: call not offered to this agent")

// ErrInvalidConfig is returned when a queue or agent configuration is
// rejected; the message names the field.
var ErrInvalidConfig = errors.New("acd: invalid configuration")

// ErrInUse is returned when removing an agent that is logged in or a queue
// that still holds calls.
var ErrInUse = errors.New("acd: in use")

package mediacore

import "errors"

// ErrNoSuchChannel is returned when a channel id is unknown to the backend
// (never created, or already hung up).
var ErrNoSuchChannel = errors.New("mediacore: no such channel")

// ErrNoSuchBridge is returned when a bridge id is unknown.
var ErrNoSuchBridge = errors.New("mediacore: no such bridge")

// ErrNoSuchPlayback is returned when a playback id is unknown or already finished.
var ErrNoSuchPlayback = errors.New("mediacore: no such playback")

// ErrNoSuchRecording is returned when a recording id is unknown or already stopped.
var ErrNoSuchRecording = errors.New("mediacore: no such recording")

// ErrBackendUnavailable is returned when the backend cannot be reached
// (connection lost, not started, closed).
var ErrBackendUnavailable = errors.New("mediacore: backend unavailable")

// ErrInvalidEndpoint is returned for an endpoint that does not parse or that
// holds characters that could alter a dial string.
var ErrInvalidEndpoint = errors.New("mediacore: invalid endpoint")

// ErrInvalidArgument is returned for any other rejected input (ids, caller id,
// variables, media descriptions, roles).
var ErrInvalidArgument = errors.New("mediacore: invalid argument")

// ErrNotSupported is returned when a backend lacks a feature.
var ErrNotSupported = errors.New("mediacore: not supported")

// ErrChannelState is returned when an operation does not fit the channel's
// state (answer an answered channel, hold a channel that is not up, ...).
var ErrChannelState = errors.New("mediacore: wrong channel state")

// ErrNotFound is returned when an endpoint has no reachable contact
// (a user that is not registered, a trunk list that is empty).
var ErrNotFound = errors.New("mediacore: endpoint not found")

// ErrTimeout is returned when a backend did not answer within the deadline
// the Core applied. It wraps context.DeadlineExceeded too.
var ErrTimeout = errors.New("mediacore: timeout")

// ErrUnknownBackend is returned by Open for a name no backend registered.
var ErrUnknownBackend = errors.New("mediacore: unknown backend")

// ErrClosed is returned by a Core or Backend used after Close.
var ErrClosed = errors.New("mediacore: closed")

// ErrNoSuchVariable is returned by Variable for a variable that is not set.
var ErrNoSuchVariable = errors.New("mediacore: no such variable")

// ErrNoSuchNode is returned when a node name is unknown to the Core.
var ErrNoSuchNode = errors.New("mediacore: no such node")

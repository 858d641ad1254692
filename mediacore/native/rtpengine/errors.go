package rtpengine

import "errors"

// ErrClosed is returned when an Engine, Leg, Bridge or Recording is used after
// Close (or Stop).
var ErrClosed = errors.New("rtpengine: closed")

// ErrNoPorts is returned by NewLeg when no even/odd RTP/RTCP port pair in the
// configured range could be bound.
var ErrNoPorts = errors.New("rtpengine: no free RTP port pair")

// ErrInvalidConfig is returned by New for a configuration it cannot run with.
var ErrInvalidConfig = errors.New("rtpengine: invalid config")

// ErrInvalidArgument is returned for rejected input (unknown codec, payload
// type out of range, invalid address, unknown DTMF digit, ...).
var ErrInvalidArgument = errors.New("rtpengine: invalid argument")

// ErrNoRemote is returned when an operation needs the remote media address
// and SetRemote has not been called yet.
var ErrNoRemote = errors.New("rtpengine: remote not set")

// ErrNoSuchPlayback is returned by StopPlayback for an id that is unknown or
// already finished.
var ErrNoSuchPlayback = errors.New("rtpengine: no such playback")

// ErrInBridge is returned by Bridge.Add for a leg that is already a member of
// a bridge (a leg belongs to at most one bridge at a time).
var ErrInBridge = errors.New("rtpengine: leg already in a bridge")

// ErrNotMember is returned when a bridge operation names a leg that is not a
// member of that bridge.
var ErrNotMember = errors.New("rtpengine: leg not a member of the bridge")

// ErrRecording is returned by Record when the leg or bridge already has an
// active recording (one at a time, so pause/resume stays unambiguous).
var ErrRecording = errors.New("rtpengine: already recording")

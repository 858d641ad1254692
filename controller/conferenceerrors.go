package controller

import "errors"

// Errors of the conference rooms (conference.go).
var (
	// ErrNoSuchConference: no room has this id (404).
	ErrNoSuchConference = errors.New("controller: no such conference room")
	// ErrNoSuchMember: the room has no member with this id now (404).
	ErrNoSuchMember = errors.New("controller: no such conference member")
	// ErrConferenceFull: the room already holds its MaxParties members,
	// ringing dial-outs included (409).
	ErrConferenceFull = errors.New("controller: conference room is full")
)

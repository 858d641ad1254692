package store

import "context"

// KindConference names conference rooms in the change feed (the API's
// resource name).
const KindConference Kind = "conferences"

// TargetConference routes a number's callers into a conference room
// (Value: the room's id): they are asked for the room's PIN by DTMF and
// join it (R9.2).
const TargetConference TargetKind = "conference"

// MaxConferenceParties bounds a room's MaxParties (R9.2: up to 50 parties
// in one mix).
const MaxConferenceParties = 50

// Conference is a conference room (R9.2): a mix of up to MaxParties
// members, reached by dialling in through a number whose route is
// {conference, <id>} or by being dialled out to from the API.
type Conference struct {
	Meta
	Name string `json:"name"`
	// Number is the room's own number, unique among rooms (what people
	// are told to dial; a store.Number routes it here).
	Number string `json:"number"`
	// PIN, when set, is asked of every caller dialling in; ModeratorPIN
	// admits as a moderator. Both are digits only.
	PIN          string `json:"pin,omitempty"`
	ModeratorPIN string `json:"moderator_pin,omitempty"`
	// MaxParties is 2..MaxConferenceParties.
	MaxParties int `json:"max_parties"`
	// Record records the room's mix while it has members, into the
	// recordings store like a call's recording.
	Record bool `json:"record"`
}

// ConferenceRepo stores conference rooms; Number is unique.
type ConferenceRepo interface {
	Repo[Conference]
	GetByNumber(ctx context.Context, number string) (Conference, error)
}

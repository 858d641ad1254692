package controller

import (
	"context"
	"io"
	"time"

	"hotline/controller/cti"
	"hotline/controller/ivr"
	"hotline/controller/store"
)

// The seams between the call path (call actors, agent sessions, recording
// policy: calls.go and friends) and what persists and serves it (the
// journal over controller/spool, the recording store, the directory, the
// REST and CTI surface in api). Each side is built against these
// interfaces; cmd wires the concrete types.

// Journal receives what the call path must persist. Its methods never
// block a call on the database: an implementation queues durably (a local
// fsync'd spool, controller/spool) and writes in batches, in order, and
// nothing is lost across a database outage or a daemon restart.
type Journal interface {
	// CallEnded records a call's detail record (once per call).
	CallEnded(cdr store.CDR)
	// QueueEvents records acd events in the order the engine produced them.
	QueueEvents(evs ...store.QueueEvent)
	// RecordingFinished records a finished recording's metadata.
	RecordingFinished(rec store.Recording)
}

// RecordingStore is where Hotline keeps recordings' audio, whatever node
// recorded them (the call path copies each finished recording there with
// mediacore.Core.OpenRecording).
type RecordingStore interface {
	// Save stores the audio read from r as the recording id and returns
	// its path relative to the store and its size.
	Save(ctx context.Context, id string, r io.Reader) (path string, size int64, err error)
	// Open opens a stored recording by the path Save returned.
	Open(path string) (ReadSeekCloser, error)
}

// ReadSeekCloser is what serving audio with range requests needs.
type ReadSeekCloser interface {
	io.ReadSeeker
	io.Closer
}

// Customer is the screen-pop record of a caller (R4.4, R10.3): from the
// built-in directory or a CRM's HTTP lookup.
type Customer struct {
	ContactID string            `json:"contact_id,omitempty"`
	Name      string            `json:"name,omitempty"`
	Company   string            `json:"company,omitempty"`
	Notes     string            `json:"notes,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	// History is the caller's recent calls, newest first.
	History []store.CDR `json:"history,omitempty"`
	// Source is "directory", "crm" or "" when nothing was found.
	Source string `json:"source"`
}

// Directory finds a caller's customer record for screen pop. It must
// return within ctx's deadline; the call path gives it a short one and
// offers the call without a record when it fails.
type Directory interface {
	LookupCaller(ctx context.Context, number string) (Customer, error)
}

// FlowSource loads a stored IVR flow by id, parsed and validated, with its
// version.
type FlowSource interface {
	Flow(ctx context.Context, id string) (*ivr.Flow, int64, error)
}

// AgentStateRequest is the body of PUT /api/v1/agents/{id}/state.
type AgentStateRequest struct {
	// State is "ready", "not-ready" or "logged-out".
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Device is a neutral endpoint where the agent sits: "user/1001",
	// "sip:agent7@10.1.2.3:5060" or "tel/+8613800000000". Empty keeps the
	// current device, or user/<extension> at login.
	Device string `json:"device,omitempty"`
}

// AgentStateView is an agent's live state.
type AgentStateView struct {
	AgentID   string    `json:"agent_id"`
	Name      string    `json:"name"`
	Extension string    `json:"extension"`
	State     string    `json:"state"` // logged-out, not-ready, ready, reserved, busy, wrap-up
	Reason    string    `json:"reason,omitempty"`
	Device    string    `json:"device,omitempty"`
	Since     time.Time `json:"since"`
	// InState is the time in the current state, in seconds, when read.
	InState    float64 `json:"in_state_seconds"`
	CallID     string  `json:"call_id,omitempty"`
	CallsToday int     `json:"calls_today"`
}

// LiveCall is a call in progress.
type LiveCall struct {
	ID              string     `json:"id"`
	Direction       string     `json:"direction"`
	Caller          string     `json:"caller"`
	Called          string     `json:"called"`
	Node            string     `json:"node"`
	State           string     `json:"state"` // ivr, queued, ringing, talking, held, wrap-up, ending
	Queue           string     `json:"queue,omitempty"`
	AgentID         string     `json:"agent_id,omitempty"`
	Start           time.Time  `json:"start"`
	Answer          *time.Time `json:"answer,omitempty"`
	WaitSeconds     float64    `json:"wait_seconds"`
	TalkSeconds     float64    `json:"talk_seconds"`
	Recording       string     `json:"recording_id,omitempty"`
	RecordingPaused bool       `json:"recording_paused"`
}

// Actor identifies who asks for a live action, for permission checks and
// the audit log: the api fills it from the authenticated principal.
type Actor struct {
	UserID  string
	Role    store.Role
	AgentID string // for role agent: the agent it works as
	Team    string // for role supervisor: its team
}

// LiveControl is what the api needs from the call path. Errors wrap the
// controller's sentinels (ErrNotFound-like: store.ErrNotFound; illegal
// state changes: ErrIllegalTransition carrying the acd reason; not allowed:
// ErrForbidden).
type LiveControl interface {
	SetAgentState(ctx context.Context, by Actor, agentID string, req AgentStateRequest) (AgentStateView, error)
	AgentState(ctx context.Context, by Actor, agentID string) (AgentStateView, error)
	AgentStates(ctx context.Context, by Actor) ([]AgentStateView, error)
	Calls(ctx context.Context, by Actor) ([]LiveCall, error)
	PauseRecording(ctx context.Context, by Actor, callID string) error
	ResumeRecording(ctx context.Context, by Actor, callID string) error
	// Events is the CTI hub the call path publishes to.
	Events() *cti.Hub
	// SupervisorControl: listen, whisper, barge and force actions
	// (supervise.go).
	SupervisorControl
	// ControlCall runs an agent's action on a live call (hold, transfer,
	// consult, ...; callcontrol.go); a disposition also on an ended call.
	ControlCall(ctx context.Context, by Actor, callID string, req CallControlRequest) (LiveCall, error)
	// ClickToDial rings an agent's device, then a number.
	ClickToDial(ctx context.Context, by Actor, req ClickToDialRequest) (LiveCall, error)

	// Conference rooms (conference.go): admins and supervisors list a
	// room's members, mute, unmute and kick them, and dial out to add one.
	ConferenceMembers(ctx context.Context, by Actor, roomID string) ([]ConferenceMember, error)
	MuteConferenceMember(ctx context.Context, by Actor, roomID, memberID string, mute bool) (ConferenceMember, error)
	KickConferenceMember(ctx context.Context, by Actor, roomID, memberID string) error
	DialConference(ctx context.Context, by Actor, roomID string, req ConferenceDialRequest) (ConferenceMember, error)
	// PickUp rings agentID's device for a ringing extension call and
	// connects it on answer (pbx.go; ErrNothingToPickUp when the call
	// does not ring).
	PickUp(ctx context.Context, by Actor, callID, agentID string) error
	// Park parks a talking call's caller on slot ("" = the first free
	// one) and returns the slot; the agent's leg ends (pbx.go).
	Park(ctx context.Context, by Actor, callID, slot string) (string, error)
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds what the call path writes and the reports read: call
// detail records, the queue and agent event log, recordings' metadata, and
// the customer directory and IVR flows the call path reads (R8.1, R6.3,
// R4.4, R10.3, R2.1).

// CallOutcome is how a call ended for the center.
type CallOutcome string

// Outcomes.
const (
	OutcomeAnswered   CallOutcome = "answered"   // an agent (or extension) talked with the caller
	OutcomeAbandoned  CallOutcome = "abandoned"  // the caller hung up while waiting (IVR, queue or ringing)
	OutcomeOverflowed CallOutcome = "overflowed" // the queue sent it on (max wait, full, no agents)
	OutcomeRejected   CallOutcome = "rejected"   // blacklist, unknown number, closed with hangup
	OutcomeFailed     CallOutcome = "failed"     // a technical failure (media node lost, originate failed)
	OutcomeVoicemail  CallOutcome = "voicemail"  // the caller left (or reached) voicemail
	OutcomeCallback   CallOutcome = "callback"   // the caller asked to be called back
	OutcomeSelfServe  CallOutcome = "self-service"
)

// HangupSide says who ended a call.
type HangupSide string

// Hangup sides.
const (
	SideCaller HangupSide = "caller"
	SideAgent  HangupSide = "agent"
	SideSystem HangupSide = "system"
)

// IVRStep is one node a call passed in an IVR flow.
type IVRStep struct {
	Flow string    `json:"flow"`
	Node string    `json:"node"`
	At   time.Time `json:"at"`
}

// CDRLeg is one channel of a call (the caller, each agent offer, a
// supervisor, a transfer target).
type CDRLeg struct {
	Channel  string     `json:"channel"`
	Node     string     `json:"node"` // the media node that carried it
	Role     string     `json:"role"` // caller, agent, supervisor, transfer, callback
	Endpoint string     `json:"endpoint,omitempty"`
	AgentID  string     `json:"agent_id,omitempty"`
	Start    time.Time  `json:"start"`
	Answer   *time.Time `json:"answer,omitempty"`
	End      time.Time  `json:"end"`
	Cause    string     `json:"cause,omitempty"` // mediacore cause name
	SIPCode  int        `json:"sip_code,omitempty"`
	Q850     int        `json:"q850,omitempty"`
}

// CDRTransfer is one transfer of the call.
type CDRTransfer struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // blind, consult, queue, ivr, external
	From   string    `json:"from,omitempty"`
	Target string    `json:"target"`
	By     string    `json:"by,omitempty"` // agent or user id
}

// CDR is one call's detail record, written once when the call ends. Writes
// are idempotent by ID (a record replayed from the spool after a crash
// replaces itself).
type CDR struct {
	ID          string            `json:"id"` // the call id
	Direction   string            `json:"direction"`
	Caller      string            `json:"caller"`
	CallerName  string            `json:"caller_name,omitempty"`
	Called      string            `json:"called"`
	Number      string            `json:"number,omitempty"` // the access number (DID) record's number
	Trunk       string            `json:"trunk,omitempty"`
	Node        string            `json:"node"`
	Start       time.Time         `json:"start"`
	Answer      *time.Time        `json:"answer,omitempty"` // when an agent (or extension) answered
	End         time.Time         `json:"end"`
	IVRPath     []IVRStep         `json:"ivr_path"`
	Queue       string            `json:"queue,omitempty"` // queue id
	QueueName   string            `json:"queue_name,omitempty"`
	EnqueuedAt  *time.Time        `json:"enqueued_at,omitempty"`
	WaitSeconds float64           `json:"wait_seconds"`
	Outcome     CallOutcome       `json:"outcome"`
	AgentID     string            `json:"agent_id,omitempty"`
	AgentName   string            `json:"agent_name,omitempty"`
	Extension   string            `json:"extension,omitempty"`
	TalkSeconds float64           `json:"talk_seconds"`
	HoldSeconds float64           `json:"hold_seconds"`
	WrapSeconds float64           `json:"wrap_seconds"`
	HangupCause string            `json:"hangup_cause"`
	HangupSide  HangupSide        `json:"hangup_side"`
	Transfers   []CDRTransfer     `json:"transfers"`
	Disposition string            `json:"disposition,omitempty"`
	Notes       string            `json:"notes,omitempty"`
	RecordingID string            `json:"recording_id,omitempty"`
	Survey      *int              `json:"survey,omitempty"`
	Variables   map[string]string `json:"variables,omitempty"`
	Legs        []CDRLeg          `json:"legs"`
}

// QueueEvent is one entry of the queue and agent event log: every acd
// event, in the order the engine produced it, with the engine's time.
//
// Seq is assigned by the store when the event is written: ascending in
// commit order across every writer of the database (several controller
// nodes on one PostgreSQL), so a reader paging with AfterSeq never misses
// an event committed later with a lower number. Source and Pos make the
// write idempotent: the journal that wrote the event (a random id kept in
// its spool directory) and the event's position in it; an event whose
// (Source, Pos) is already stored is not written again. Events without a
// Source are always appended.
type QueueEvent struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"` // the acd event kind, e.g. "offer", "agent_state"
	CallID  string          `json:"call_id,omitempty"`
	Queue   string          `json:"queue,omitempty"`
	AgentID string          `json:"agent_id,omitempty"`
	State   string          `json:"state,omitempty"`  // agent state after the event
	Reason  string          `json:"reason,omitempty"` // not-ready reason, overflow reason...
	Data    json.RawMessage `json:"data,omitempty"`   // the rest of the event
	Source  string          `json:"source,omitempty"`
	Pos     int64           `json:"pos,omitempty"`
}

// Recording is one recording's metadata (R6.3). Path is where the audio
// is in Hotline's recording store (relative to its root).
type Recording struct {
	ID       string        `json:"id"`
	CallID   string        `json:"call_id"`
	Start    time.Time     `json:"start"`
	End      time.Time     `json:"end"`
	Duration float64       `json:"duration_seconds"`
	Caller   string        `json:"caller"`
	Called   string        `json:"called"`
	AgentID  string        `json:"agent_id,omitempty"`
	Queue    string        `json:"queue,omitempty"`
	Stereo   bool          `json:"stereo"`
	Path     string        `json:"-"`
	Bytes    int64         `json:"bytes"`
	Pauses   []RecordPause `json:"pauses"`
	Node     string        `json:"node"`
}

// RecordPause is one paused stretch of a recording (written as silence).
type RecordPause struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	By   string    `json:"by,omitempty"`
}

// Contact is a customer in the built-in directory, for screen pop (R4.4).
type Contact struct {
	Meta
	Name    string            `json:"name"`
	Numbers []string          `json:"numbers"`
	Company string            `json:"company,omitempty"`
	Notes   string            `json:"notes,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// IVRFlow is a stored IVR flow: the JSON graph of controller/ivr with its
// version (Meta.Version). A call keeps the version it started on.
type IVRFlow struct {
	Meta
	Name string          `json:"name"`
	Flow json.RawMessage `json:"flow"`
}

// CDRFilter narrows a CDR search; zero fields do not filter.
type CDRFilter struct {
	Since, Until time.Time
	Caller       string
	Called       string
	Queue        string
	AgentID      string
	Outcome      CallOutcome
}

// RecordingFilter narrows a recording search.
type RecordingFilter struct {
	Since, Until time.Time
	Caller       string
	Called       string
	AgentID      string
	Queue        string
	MinDuration  float64
	MaxDuration  float64
}

// QueueEventFilter narrows the event log.
type QueueEventFilter struct {
	Since, Until time.Time
	Queue        string
	AgentID      string
	CallID       string
	AfterSeq     int64
}

// CDRRepo stores call detail records.
type CDRRepo interface {
	// Put writes cdrs, replacing any with the same ID (idempotent replay).
	Put(ctx context.Context, cdrs ...CDR) error
	Get(ctx context.Context, id string) (CDR, error)
	// Search returns CDRs by start time, newest first (Since inclusive,
	// Until exclusive); see TimeCursor for paging.
	Search(ctx context.Context, f CDRFilter, opt ListOptions) (Page[CDR], error)
}

// QueueEventRepo stores the queue and agent event log.
type QueueEventRepo interface {
	// Put appends evs in order, each with the next Seq (their Seq field is
	// ignored), skipping those whose (Source, Pos) is already stored.
	Put(ctx context.Context, evs ...QueueEvent) error
	// Search returns events in ascending Seq order, those with Seq >
	// f.AfterSeq, at most limit (<= 0: DefaultLimit; above MaxLimit:
	// clamped).
	Search(ctx context.Context, f QueueEventFilter, limit int) ([]QueueEvent, error)
}

// RecordingRepo stores recordings' metadata.
type RecordingRepo interface {
	// Put writes recs, replacing any with the same ID.
	Put(ctx context.Context, recs ...Recording) error
	Get(ctx context.Context, id string) (Recording, error)
	// Search is newest first by Start, like CDRRepo.Search; MinDuration
	// and MaxDuration are inclusive bounds when non-zero.
	Search(ctx context.Context, f RecordingFilter, opt ListOptions) (Page[Recording], error)
}

// ContactRepo stores the customer directory; a number belongs to at most
// one contact (another contact's number gives ErrConflict).
type ContactRepo interface {
	Repo[Contact]
	GetByNumber(ctx context.Context, number string) (Contact, error)
}

// IVRFlowRepo stores IVR flows; Name is unique.
type IVRFlowRepo interface {
	Repo[IVRFlow]
}

// Searches of CDRs and recordings run newest first by start time (ties by
// ID, descending). Their ListOptions.After is the opaque cursor of the
// previous page's Page.Next (TimeCursor), not an ID: anything else gives
// ErrBadCursor.

// TimeCursor encodes the position of a record in a newest-first search.
func TimeCursor(start time.Time, id string) string {
	return strconv.FormatInt(start.UTC().UnixMicro(), 10) + "_" + id
}

// ParseTimeCursor decodes a TimeCursor.
func ParseTimeCursor(c string) (time.Time, string, error) {
	us, id, ok := strings.Cut(c, "_")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return time.UnixMicro(n).UTC(), id, nil
}

// Before reports whether (start, id) comes after the cursor position
// (start0, id0) in a newest-first order, i.e. belongs on a later page.
func Before(start time.Time, id string, start0 time.Time, id0 string) bool {
	if !start.Equal(start0) {
		return start.Before(start0)
	}
	return id < id0
}

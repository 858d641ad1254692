package store

import (
	"context"
	"time"
)

// Voicemail (R2.5, R9.1): boxes are configuration (their writes are in the
// change feed); messages are what the call path leaves in them. A
// message's state changes (read, saved) and deletions are in the change
// feed too, so every node's view of a box (the phone menu, the REST list)
// follows them.

// Kinds of the voicemail aggregates in the change feed.
const (
	KindVoicemailBox     Kind = "voicemail-boxes"
	KindVoicemailMessage Kind = "voicemail-messages"
)

// TargetVoicemailAccess routes a number to the voicemail phone menu; the
// target's value, when set, names the box (only its PIN is asked).
const TargetVoicemailAccess TargetKind = "voicemail-access"

// VoicemailOwnerKind says whose box it is.
type VoicemailOwnerKind string

// Owner kinds.
const (
	VoicemailOwnerAgent VoicemailOwnerKind = "agent" // OwnerID is an agent id
	VoicemailOwnerQueue VoicemailOwnerKind = "queue" // OwnerID is a queue id (a group's box)
)

// VoicemailOwnerKinds lists the valid owner kinds.
var VoicemailOwnerKinds = []VoicemailOwnerKind{VoicemailOwnerAgent, VoicemailOwnerQueue}

// VoicemailGreeting is what a caller hears before the tone: a recorded
// file (File, a media path the media node plays) or TTS (Text, in the
// box's Language). Neither: the built-in prompt.
type VoicemailGreeting struct {
	File string `json:"file,omitempty"`
	Text string `json:"text,omitempty"`
}

// VoicemailBox is a mailbox. Name is unique: a voicemail target's value
// (store.Target{Kind: TargetVoicemail, Value: Name}) and the box number
// dialled at the phone menu.
type VoicemailBox struct {
	Meta
	Name      string             `json:"name"`
	OwnerKind VoicemailOwnerKind `json:"owner_kind"`
	OwnerID   string             `json:"owner_id"`
	// PIN opens the box at the phone menu (digits). It is never returned
	// by the API.
	PIN      string            `json:"-"`
	Greeting VoicemailGreeting `json:"greeting"`
	// Email receives each new message with its audio attached; "" sends
	// none.
	Email string `json:"email,omitempty"`
	// Language of the prompts and of a TTS greeting: "zh" (default) or "en".
	Language string `json:"language,omitempty"`
}

// VoicemailState is where a message stands.
type VoicemailState string

// Message states.
const (
	VoicemailNew   VoicemailState = "new"
	VoicemailRead  VoicemailState = "read"
	VoicemailSaved VoicemailState = "saved"
)

// VoicemailStates lists the valid states.
var VoicemailStates = []VoicemailState{VoicemailNew, VoicemailRead, VoicemailSaved}

// VoicemailMessage is one message left in a box. CallID is unique (a call
// leaves at most one message), which makes the write idempotent. Path is
// where the audio is in Hotline's recording store.
type VoicemailMessage struct {
	Meta
	BoxID       string         `json:"box_id"`
	CallID      string         `json:"call_id"`
	Caller      string         `json:"caller"`
	Called      string         `json:"called"`
	At          time.Time      `json:"at"`
	Duration    float64        `json:"duration_seconds"`
	RecordingID string         `json:"recording_id"`
	Path        string         `json:"-"`
	Bytes       int64          `json:"bytes"`
	State       VoicemailState `json:"state"`
}

// VoicemailBoxRepo stores boxes; Name is unique.
type VoicemailBoxRepo interface {
	Repo[VoicemailBox]
	GetByName(ctx context.Context, name string) (VoicemailBox, error)
}

// VoicemailMessageRepo stores messages; CallID is unique.
type VoicemailMessageRepo interface {
	Repo[VoicemailMessage]
	// ListByBox pages through one box's messages in ascending ID (arrival)
	// order.
	ListByBox(ctx context.Context, boxID string, opt ListOptions) (Page[VoicemailMessage], error)
}

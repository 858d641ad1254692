package mediacore

import "time"

// EventType says what happened.
type EventType int

// Event types.
const (
	EventChannelCreated EventType = iota + 1
	EventRinging
	EventAnswered
	EventHangup
	EventDTMF
	EventPlaybackFinished
	EventRecordingFinished
	EventEndpointRegistered
	EventEndpointUnregistered
	EventBackendUp
	EventBackendDown
	EventHold   // the channel was put on hold (by us or by the far end)
	EventUnhold // the channel was taken off hold
	// EventProgress: early media flows before answer (we sent or received
	// SIP 183 with SDP).
	EventProgress
	// EventTransferRequested: the far end asked to transfer the channel
	// (SIP REFER, RFC 3515). Transfer, ReferTo and Replaces say what; the
	// controller answers with AnswerTransfer.
	EventTransferRequested
	// EventBridgeJoined and EventBridgeLeft: Channel entered or left Bridge
	// (Member holds its role on join).
	EventBridgeJoined
	EventBridgeLeft
)

var eventNames = [...]string{
	EventChannelCreated:       "channel_created",
	EventRinging:              "ringing",
	EventAnswered:             "answered",
	EventHangup:               "hangup",
	EventDTMF:                 "dtmf",
	EventPlaybackFinished:     "playback_finished",
	EventRecordingFinished:    "recording_finished",
	EventEndpointRegistered:   "endpoint_registered",
	EventEndpointUnregistered: "endpoint_unregistered",
	EventBackendUp:            "backend_up",
	EventBackendDown:          "backend_down",
	EventHold:                 "hold",
	EventUnhold:               "unhold",
	EventProgress:             "progress",
	EventTransferRequested:    "transfer_requested",
	EventBridgeJoined:         "bridge_joined",
	EventBridgeLeft:           "bridge_left",
}

func (t EventType) String() string {
	if t > 0 && int(t) < len(eventNames) {
		return eventNames[t]
	}
	return "unknown"
}

// Direction says who started a channel.
type Direction int

// Directions.
const (
	Inbound  Direction = iota + 1 // the far end called us
	Outbound                      // we originated
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return "unknown"
}

// Event is one thing a backend reports. Fields that do not apply to Type are
// zero. Events without a Channel (endpoint and backend events) are delivered
// in order among themselves.
type Event struct {
	Type EventType
	// Time is when the backend saw it.
	Time time.Time
	// Seq is assigned by Core: 1, 2, 3... per channel (and for the
	// channel-less stream), so a consumer can check order.
	Seq uint64

	Channel ChannelID
	Bridge  BridgeID

	// ChannelCreated.
	Direction  Direction
	Caller     string // caller number (From user)
	CallerName string // caller display name
	Called     string // called number (Request-URI / To user)
	// Headers holds selected SIP headers of the initial INVITE (X- headers,
	// Diversion, P-Asserted-Identity, User-Agent), or backend variables.
	Headers map[string]string
	// Trunk names the trunk an inbound call came from (native: by source
	// address), empty for registered users and unknown sources.
	Trunk string

	// Hangup.
	Cause   Cause
	SIPCode int // the SIP status or 0
	Q850    int // the Q.850 cause value or 0

	// DTMF.
	Digit    byte // '0'-'9', '*', '#', 'A'-'D'
	Duration time.Duration

	// PlaybackFinished.
	Playback PlaybackID

	// RecordingFinished: Path is the file, Duration its length (pauses
	// included, they hold silence).
	Recording RecordingID
	Path      string

	// EndpointRegistered/Unregistered: the user and its contact. They are
	// per contact: a user with two phones gets two of each, and the
	// endpoint stays reachable while it has a contact left.
	Endpoint string
	Contact  string

	// BackendUp/Down.
	Backend string
	Err     string

	// Node names the media node that reported the event (set by Core; a
	// Core drives one or several nodes).
	Node string

	// TransferRequested: Transfer names the request for AnswerTransfer,
	// ReferTo is the target (a neutral endpoint such as "user/1002" or
	// "tel/+861012345678" when it maps to one, else the raw URI), Replaces
	// the channel an attended transfer replaces ("" for a blind one).
	Transfer TransferID
	ReferTo  string
	Replaces ChannelID

	// BridgeJoined: the member's role.
	Member Member
}

package mediacore

import (
	"context"
	"io"
	"time"
)

// ChannelID names one call leg. Backends choose ids for inbound channels;
// for originated channels Core does (OriginateRequest.ChannelID, or a random
// id), before the backend is asked. See the package doc for ids across
// nodes.
type ChannelID string

// BridgeID names a bridge (a mix of channels).
type BridgeID string

// PlaybackID names one playback started with Play.
type PlaybackID string

// RecordingID names one recording started with Record.
type RecordingID string

// Backend is what a media backend implements. The controller never calls it
// directly: it goes through *Core, which validates input, applies timeouts and
// orders events.
//
// Contract for every method:
//   - ctx comes first; the method returns when ctx is done, with an error
//     wrapping ctx.Err().
//   - errors wrap the sentinels of errors.go (ErrNoSuchChannel, ...).
//   - ids and strings reaching a method have already been validated by Core;
//     a backend still must not trust them in a way that crashes it.
//   - methods are safe for concurrent use.
type Backend interface {
	// Name returns the registered backend name ("native", "freeswitch", ...).
	Name() string

	// Start connects or listens and then reports events to sink until Close.
	// Events of one channel must be passed to sink in the order they
	// happened; sink never blocks for long and is safe for concurrent use.
	// Start returns once the backend is ready to accept calls (BackendUp has
	// been emitted) or failed.
	Start(ctx context.Context, sink func(Event)) error

	// Close hangs up what it owns and releases resources. Safe to call twice.
	Close() error

	// Ring sends a ringing indication (SIP 180) on an inbound channel that is
	// not answered yet.
	Ring(ctx context.Context, ch ChannelID) error

	// Answer answers an inbound channel (SIP 200 with SDP). It returns when
	// media can flow (for SIP: the ACK arrived) or the channel ended.
	Answer(ctx context.Context, ch ChannelID) error

	// Hangup ends a channel: reject before answer (SIP status from
	// cause.SIPCode()), CANCEL an outgoing call that is ringing, BYE after.
	Hangup(ctx context.Context, ch ChannelID, cause Cause) error

	// SendDTMF sends digits (0-9, *, #, A-D) on an answered channel, as
	// RFC 4733 events where negotiated.
	SendDTMF(ctx context.Context, ch ChannelID, digits string) error

	// Originate starts an outgoing call and returns once the backend has
	// accepted the request and the channel exists (ChannelCreated emitted);
	// progress is reported by Ringing, Answered and Hangup events. It gives up
	// after req.Timeout without answer (Hangup with CauseNoAnswer).
	Originate(ctx context.Context, req OriginateRequest) (ChannelID, error)

	// Play starts playing media into a channel or a bridge and returns at
	// once; PlaybackFinished follows.
	Play(ctx context.Context, target Target, req PlayRequest) (PlaybackID, error)

	// StopPlayback stops a playback (PlaybackFinished follows).
	StopPlayback(ctx context.Context, id PlaybackID) error

	// Record starts recording a channel or a bridge; RecordingFinished
	// follows StopRecording or the target's end.
	Record(ctx context.Context, target Target, req RecordRequest) (RecordingID, error)

	// PauseRecording makes the recording write silence until resumed (R6.5).
	PauseRecording(ctx context.Context, id RecordingID) error

	// ResumeRecording resumes writing audio.
	ResumeRecording(ctx context.Context, id RecordingID) error

	// StopRecording finishes the file (headers final, synced to disk).
	StopRecording(ctx context.Context, id RecordingID) error

	// CreateBridge creates an empty mixing bridge.
	CreateBridge(ctx context.Context, id BridgeID) error

	// AddToBridge adds an answered channel to a bridge with a role. A
	// channel is in at most one bridge; adding it to another moves it.
	AddToBridge(ctx context.Context, b BridgeID, ch ChannelID, m Member) error

	// SetMemberRole changes the role of a member already in the bridge.
	SetMemberRole(ctx context.Context, b BridgeID, ch ChannelID, m Member) error

	// RemoveFromBridge takes a channel out of its bridge (it stays up).
	RemoveFromBridge(ctx context.Context, b BridgeID, ch ChannelID) error

	// DestroyBridge removes all members (they stay up) and the bridge.
	DestroyBridge(ctx context.Context, b BridgeID) error

	// Hold puts the far end of a channel on hold (SIP re-INVITE with
	// a=sendonly, RFC 3264 §8.4) and plays music into it; music may be nil
	// for silence.
	Hold(ctx context.Context, ch ChannelID, music *Media) error

	// Unhold resumes a held channel (a=sendrecv) and stops the music.
	Unhold(ctx context.Context, ch ChannelID) error

	// Progress starts early media on an unanswered inbound channel (SIP 183
	// Session Progress with SDP, RFC 3261 §13.3.1.1, RFC 3960): Play works
	// on the channel from then on, before Answer (ringback, "please wait").
	// EventProgress follows.
	Progress(ctx context.Context, ch ChannelID) error

	// Channels lists the channels the backend holds now, so the controller
	// can rebuild its view after BackendUp or on a standby (reconcile).
	Channels(ctx context.Context) ([]ChannelInfo, error)

	// Bridges lists the bridges the backend holds now, with their members.
	Bridges(ctx context.Context) ([]BridgeInfo, error)

	// Variable reads a channel variable set by SetVariable or by the backend
	// (FreeSWITCH channel variables, ARI channel variables, native: the
	// X- headers of the INVITE and what SetVariable stored). An unset
	// variable gives ErrNoSuchVariable.
	Variable(ctx context.Context, ch ChannelID, name string) (string, error)

	// SetVariable sets a channel variable for the channel's lifetime.
	SetVariable(ctx context.Context, ch ChannelID, name, value string) error

	// AnswerTransfer answers an EventTransferRequested: accept tells the
	// far end the transfer is taken in hand (SIP 202 Accepted, then a NOTIFY
	// with "SIP/2.0 200 OK" as sipfrag body, RFC 3515 §2.4); refuse answers
	// 603 Decline. The backend never carries out a transfer on its own: the
	// controller does, with the contract's other operations. Only a
	// TransferReporter emits EventTransferRequested; any other backend
	// answers ErrNotSupported here (and must refuse a far end's REFER
	// itself, never execute it).
	AnswerTransfer(ctx context.Context, ch ChannelID, id TransferID, accept bool) error

	// OpenRecording returns the audio of a finished recording (a WAV
	// file), wherever the backend wrote it: a remote switch's disk is not
	// Hotline's disk. Unknown or unfinished ids give ErrNoSuchRecording.
	OpenRecording(ctx context.Context, id RecordingID) (io.ReadCloser, error)
}

// TransferID names one transfer request (one SIP REFER) on a channel.
type TransferID string

// ChannelState is where a channel is in its life, for ChannelInfo.
type ChannelState int

// Channel states.
const (
	ChannelRinging ChannelState = iota + 1 // set up, not answered
	ChannelEarly                           // early media (183) before answer
	ChannelUp                              // answered
	ChannelHeld                            // answered and on hold
)

var channelStateNames = [...]string{
	ChannelRinging: "ringing",
	ChannelEarly:   "early",
	ChannelUp:      "up",
	ChannelHeld:    "held",
}

func (s ChannelState) String() string {
	if s > 0 && int(s) < len(channelStateNames) {
		return channelStateNames[s]
	}
	return "unknown"
}

// ChannelInfo describes a live channel (Backend.Channels).
type ChannelInfo struct {
	ID        ChannelID
	Node      string // filled by Core
	Direction Direction
	State     ChannelState
	Caller    string
	Called    string
	Bridge    BridgeID // "" when in no bridge
	Created   time.Time
	Answered  time.Time // zero before answer
}

// BridgeInfo describes a live bridge (Backend.Bridges).
type BridgeInfo struct {
	ID      BridgeID
	Node    string // filled by Core
	Members map[ChannelID]Member
}

// SnoopMode says what a supervisor's channel does on a snooped channel
// (R5.2).
type SnoopMode int

// Snoop modes.
const (
	// SnoopListen: the spy hears both parties and nobody hears the spy.
	SnoopListen SnoopMode = iota + 1
	// SnoopWhisper: the spy hears both parties; only the snooped channel
	// (the agent) hears the spy.
	SnoopWhisper
	// SnoopBarge: the spy hears and is heard by everyone.
	SnoopBarge
)

// Snooper is an optional Backend capability (found by type assertion) for
// backends that snoop without a bridge (ARI channels/{id}/snoop, FreeSWITCH
// eavesdrop). Core.Snoop falls back to bridge roles when the backend does not
// implement it: the spy joins the snooped channel's bridge as RoleListen,
// RoleWhisper (to the snooped channel) or RoleSpeak.
type Snooper interface {
	// Snoop attaches spy (an answered channel) to target in the given mode.
	Snoop(ctx context.Context, target, spy ChannelID, mode SnoopMode) error
}

// The optional capabilities below are found by type assertion on a
// Backend, database/sql/driver style. Each says what Core does when a
// backend lacks it (see Core's methods and the package doc).

// Whisperer marks a backend whose bridges accept RoleWhisper members (one
// member heard by only one other). Without it, Core refuses RoleWhisper
// with ErrNotSupported, and Snoop's whisper mode needs Snooper.
type Whisperer interface {
	// SupportsWhisper is a marker; it is never called.
	SupportsWhisper()
}

// TTSPlayer marks a backend that plays MediaTTS itself. Without it, Core
// renders the text with Options.TTS into a WAV, hands it to the backend
// through MediaUploader and plays it as a file; lacking either gives
// ErrNotSupported.
type TTSPlayer interface {
	// SupportsTTS is a marker; it is never called.
	SupportsTTS()
}

// MediaUploader is a backend that can receive a prompt from Hotline and
// play it later as MediaFile(name) (a remote switch fetches or stores it;
// no shared disk is assumed).
type MediaUploader interface {
	// PutMedia stores the WAV read from r under name (a relative path that
	// passes ValidateMedia(File(name))), replacing an older one.
	PutMedia(ctx context.Context, name string, r io.Reader) error
}

// StereoRecorder marks a backend that records RecordRequest.Stereo
// itself. Without it, Core records the two directions as two mono
// recordings (RecordRequest.Source) and assembles the stereo WAV from
// OpenRecording of both when they finish.
type StereoRecorder interface {
	// SupportsStereo is a marker; it is never called.
	SupportsStereo()
}

// ReinviteHolder marks a backend whose Hold signals the far end (SIP
// re-INVITE with a=sendonly, RFC 3264 §8.4). Without it, Hold only plays
// the music into the channel and takes its audio out of its bridge.
type ReinviteHolder interface {
	// SupportsReinviteHold is a marker; it is never called.
	SupportsReinviteHold()
}

// TransferReporter marks a backend that reports a far end's transfer
// request (an incoming SIP REFER) as EventTransferRequested instead of
// executing or refusing it, and answers it with AnswerTransfer. Without
// it, the backend (the switch) refuses every REFER itself (for example
// 603 Decline), emits no EventTransferRequested, and Core.AnswerTransfer
// answers ErrNotSupported; transfers are then started through the
// controller's API only.
type TransferReporter interface {
	// SupportsTransferRequests is a marker; it is never called.
	SupportsTransferRequests()
}

// DTMFDetector is a backend that can switch in-band (Goertzel) DTMF
// detection on and off per channel, so detection runs only while the
// controller listens for digits (an IVR node, a gather, an armed feature
// code). RFC 4733 digits are reported whatever the setting. Without it,
// the backend decides on its own.
type DTMFDetector interface {
	SetDTMFDetection(ctx context.Context, ch ChannelID, on bool) error
}

// TrunkConfigurer is a backend whose carrier trunks are changed while it
// runs (the controller applies the trunks stored over REST). Without it,
// trunks are the backend's own configuration.
type TrunkConfigurer interface {
	// SetTrunks replaces the backend's trunks by trunks: new ones start
	// (and register when asked), removed ones stop (and unregister),
	// changed ones restart. Calls in progress are not touched.
	SetTrunks(ctx context.Context, trunks []TrunkConfig) error
}

// TrunkConfig is a neutral description of a carrier trunk.
type TrunkConfig struct {
	Name           string
	Address        string // "host:port"
	Transport      string // "udp" or "tcp"
	Priority       int    // lower first
	Username       string
	Password       string
	Register       bool
	RegisterExpiry time.Duration
	CallerID       string
	// InboundFrom lists the source prefixes ("10.0.0.0/8", "192.0.2.7")
	// whose INVITEs belong to this trunk; empty: the Address's IP.
	InboundFrom []string
	Timeout     time.Duration // failover after this long without a provisional answer
	Disabled    bool
}

// Target is what Play and Record act on: exactly one of Channel and Bridge.
type Target struct {
	Channel ChannelID
	Bridge  BridgeID
}

// ChannelTarget returns a Target for a channel.
func ChannelTarget(ch ChannelID) Target { return Target{Channel: ch} }

// BridgeTarget returns a Target for a bridge.
func BridgeTarget(b BridgeID) Target { return Target{Bridge: b} }

// OriginateRequest describes an outgoing call.
type OriginateRequest struct {
	// ChannelID is the id for the new channel; empty lets Core choose one
	// (NewID("ch")). A backend driven through Core always gets an id.
	ChannelID ChannelID
	// Endpoint is a neutral address (see ParseEndpoint).
	Endpoint string
	// CallerIDNumber and CallerIDName are presented to the callee.
	CallerIDNumber string
	CallerIDName   string
	// Timeout is how long to ring before giving up; 0 means Core's default.
	Timeout time.Duration
	// Variables are passed to the far end or the channel (native: X- SIP
	// headers; FreeSWITCH: channel variables; ARI: channel variables).
	Variables map[string]string
	// Near, when set, asks for the new channel on the node that carries
	// this channel (the leg will be bridged to it). Otherwise Core's
	// placement policy picks the node. Backends never see it.
	Near ChannelID
	// Node, when set, pins the call to that node. Backends never see it.
	Node string
	// AutoAnswer asks the callee's phone to answer by itself (an agent
	// with a headset and auto-answer on): the INVITE carries Answer-Mode:
	// Auto (RFC 5373 §4) and the Call-Info answer-after=0 that desk
	// phones honour. A phone that ignores both simply rings.
	AutoAnswer bool
}

// MediaKind says what a Media plays.
type MediaKind int

// Media kinds.
const (
	MediaFile    MediaKind = iota + 1 // a file under the backend's media dir
	MediaTone                         // generated tones
	MediaTTS                          // text to speech
	MediaSilence                      // silence for Duration
)

// Media is one thing to play.
type Media struct {
	Kind MediaKind
	// File is a path relative to the backend's media dir (MediaFile), e.g.
	// "prompts/welcome.wav". No "..", no absolute path.
	File string
	// Tone is the tone to generate (MediaTone).
	Tone Tone
	// Text and Voice are for MediaTTS (Voice e.g. "en", "zh").
	Text  string
	Voice string
	// Duration bounds silence and tones; 0 plays a tone for one cadence.
	Duration time.Duration
}

// Tone is a cadenced sum of sine waves: Freqs play together for On, then
// silence for Off, repeated until Duration (or once if Off is 0).
type Tone struct {
	Freqs []float64
	On    time.Duration
	Off   time.Duration
}

// Common tones (ITU-T E.180 values as used in China and Europe).
var (
	// ToneRingback is 450 Hz, 1 s on 4 s off.
	ToneRingback = Tone{Freqs: []float64{450}, On: time.Second, Off: 4 * time.Second}
	// ToneBusy is 450 Hz, 350 ms on 350 ms off.
	ToneBusy = Tone{Freqs: []float64{450}, On: 350 * time.Millisecond, Off: 350 * time.Millisecond}
	// ToneBeep is one 1 kHz beep of 200 ms.
	ToneBeep = Tone{Freqs: []float64{1000}, On: 200 * time.Millisecond}
)

// File returns a Media for a file under the media dir.
func File(path string) Media { return Media{Kind: MediaFile, File: path} }

// TTS returns a Media that speaks text with voice.
func TTS(voice, text string) Media { return Media{Kind: MediaTTS, Voice: voice, Text: text} }

// Silence returns a Media of d silence.
func Silence(d time.Duration) Media { return Media{Kind: MediaSilence, Duration: d} }

// ToneFor returns a Media playing t for d.
func ToneFor(t Tone, d time.Duration) Media { return Media{Kind: MediaTone, Tone: t, Duration: d} }

// PlayRequest is a list of media played one after the other.
type PlayRequest struct {
	// ID names the playback; empty lets Core choose (a backend driven
	// through Core always gets an id).
	ID    PlaybackID
	Media []Media
	// Loop restarts the list until StopPlayback (music on hold).
	Loop bool
}

// RecordRequest describes a recording.
type RecordRequest struct {
	// ID names the recording; empty lets Core choose (a backend driven
	// through Core always gets an id).
	ID RecordingID
	// Name is the file path relative to the backend's recordings dir,
	// ending in ".wav"; empty lets the backend choose.
	Name string
	// Stereo puts the channel (the caller) left and everything else right;
	// otherwise one mono mix.
	Stereo bool
	// Source picks the direction of a mono channel recording: both (the
	// default), only what the channel's far end sends, or only what is sent
	// to it. Ignored for bridges and with Stereo.
	Source RecordSource
}

// RecordSource selects what a mono channel recording holds.
type RecordSource int

// Record sources.
const (
	RecordBoth  RecordSource = iota // both directions mixed
	RecordRead                      // what the channel's far end sends (the caller's voice)
	RecordWrite                     // what is sent to the channel (everything else)
)

// Role is a bridge member's role (mix-minus: nobody hears itself).
type Role int

// Roles.
const (
	// RoleSpeak: hears all speakers, heard by all.
	RoleSpeak Role = iota + 1
	// RoleListen: hears all speakers, heard by nobody (silent monitor).
	RoleListen
	// RoleWhisper: hears all speakers, heard only by Member.WhisperTo
	// (coach).
	RoleWhisper
)

func (r Role) String() string {
	switch r {
	case RoleSpeak:
		return "speak"
	case RoleListen:
		return "listen"
	case RoleWhisper:
		return "whisper"
	}
	return "invalid"
}

// Member is a channel's role in a bridge.
type Member struct {
	Role Role
	// WhisperTo is the only member that hears this one, for RoleWhisper.
	WhisperTo ChannelID
}

package mediacore

import (
	"context"
	"time"
)

// ChannelID names one call leg. Backends choose ids for inbound channels;
// for originated channels the caller may choose (OriginateRequest.ChannelID).
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
	// ChannelID is the id for the new channel; empty lets the backend choose.
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
	// ID names the playback; empty lets the backend choose.
	ID    PlaybackID
	Media []Media
	// Loop restarts the list until StopPlayback (music on hold).
	Loop bool
}

// RecordRequest describes a recording.
type RecordRequest struct {
	// ID names the recording; empty lets the backend choose.
	ID RecordingID
	// Name is the file path relative to the backend's recordings dir,
	// ending in ".wav"; empty lets the backend choose.
	Name string
	// Stereo puts the channel (the caller) left and everything else right;
	// otherwise one mono mix.
	Stereo bool
}

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

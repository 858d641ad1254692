package mediatest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// Scenarios of the media contract's version 2. The operations that the
// single-backend *Core of this version does not offer yet (Progress,
// Channels, ...) are called through the Core when it has them (the
// multi-node Core does) and on the backend otherwise, so the same
// scenarios run before and after.

// v2Ops is the part of the contract version 2 a scenario calls.
type v2Ops interface {
	Progress(ctx context.Context, ch mediacore.ChannelID) error
	Channels(ctx context.Context) ([]mediacore.ChannelInfo, error)
	Bridges(ctx context.Context) ([]mediacore.BridgeInfo, error)
	Variable(ctx context.Context, ch mediacore.ChannelID, name string) (string, error)
	SetVariable(ctx context.Context, ch mediacore.ChannelID, name, value string) error
	AnswerTransfer(ctx context.Context, ch mediacore.ChannelID, id mediacore.TransferID, accept bool) error
	OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error)
}

// v2 returns the Core when it offers the version 2 operations, else the
// backend.
func (e *env) v2() v2Ops {
	if o, ok := any(e.core).(v2Ops); ok {
		return o
	}
	return e.b
}

// caps returns what capability checks go through: the Core when it offers
// the capability's method (it then applies its fallback), else the
// backend's own implementation, else nil.
func capOf[T any](e *env) (T, bool) {
	if v, ok := any(e.core).(T); ok {
		return v, true
	}
	v, ok := e.b.(T)
	return v, ok
}

// dtmfTones are the DTMF row and column frequencies (ITU-T Q.23).
var dtmfTones = map[byte][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477},
}

// earlyPhone dials the backend and waits for its ChannelCreated, without
// answering.
func (e *env) earlyPhone(t *testing.T, user, called string, headers ...sip.Header) (<-chan *sippeer.Call, <-chan sippeer.DialResult, mediacore.ChannelID) {
	t.Helper()
	p := e.phone(t, user, sippeer.Config{})
	early, res := p.DialEarly(e.ctx, e.h.InboundURI(e.b, called), headers...)
	created := e.wait(t, "ChannelCreated for "+called, 10*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound && ev.Called == called
	})
	return early, res, created.Channel
}

// scenarioEarlyMedia: Progress on an unanswered inbound call sends 183
// with media; a prompt played before Answer is heard by the caller.
func scenarioEarlyMedia(t *testing.T, e *env) {
	early, res, ch := e.earlyPhone(t, "2200", "220")
	if err := e.v2().Progress(e.ctx, ch); err != nil {
		t.Fatalf("progress: %v", err)
	}
	e.waitType(t, ch, mediacore.EventProgress)
	var call *sippeer.Call
	select {
	case call = <-early:
	case <-time.After(10 * time.Second):
		t.Fatal("the caller got no 183 with SDP")
	}
	pb, err := e.core.Play(e.ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{
		mediacore.ToneFor(mediacore.Tone{Freqs: []float64{tonePrompt}}, time.Hour),
	}})
	if err != nil {
		t.Fatalf("play before answer: %v", err)
	}
	hears(t, "caller before answer", waitHeard(t, call, tonePrompt), tonePrompt)
	if evs := e.channelEvents(ch); hasType(evs, mediacore.EventAnswered) {
		t.Fatal("the channel was answered: early media not tested")
	}
	if err := e.core.StopPlayback(e.ctx, pb); err != nil {
		t.Fatal(err)
	}
	if err := e.core.Answer(e.ctx, ch); err != nil {
		t.Fatalf("answer after progress: %v", err)
	}
	r := <-res
	if r.Err != nil {
		t.Fatalf("dial: %v", r.Err)
	}
	e.waitType(t, ch, mediacore.EventAnswered)
	r.Call.SetTone(toneCaller)
	if _, err := e.core.Record(e.ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Source: mediacore.RecordRead}); err != nil {
		t.Fatalf("record after early answer: %v", err)
	}
	if err := e.core.Hangup(e.ctx, ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	e.waitType(t, ch, mediacore.EventHangup)
}

// waitHeard waits (up to 10 s) until the last 400 ms the call heard hold
// freq, and returns them: audio takes a few packets to arrive.
func waitHeard(t *testing.T, c *sippeer.Call, freq float64) []int16 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := c.Heard(400 * time.Millisecond)
		if (len(s) >= 3200 && audio.ToneRatio(s, audio.SampleRate, freq) > 0.3) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasType(evs []mediacore.Event, typ mediacore.EventType) bool {
	for _, ev := range evs {
		if ev.Type == typ {
			return true
		}
	}
	return false
}

// scenarioEarlyMediaOriginated: a callee answering 183 with SDP before
// its 200 gives Progress on the originated channel.
func scenarioEarlyMediaOriginated(t *testing.T, e *env) {
	p := e.phone(t, "1002", sippeer.Config{EarlyMedia: true, AnswerDelay: time.Second})
	e.h.RegisterUser(t, e.b, p, "1002")
	id, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "user/1002", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.waitType(t, id, mediacore.EventProgress)
	e.waitType(t, id, mediacore.EventAnswered)
	evs := e.channelEvents(id)
	progress, answered := -1, -1
	for i, ev := range evs {
		switch ev.Type {
		case mediacore.EventProgress:
			progress = i
		case mediacore.EventAnswered:
			answered = i
		}
	}
	if progress > answered {
		t.Errorf("Progress after Answered: %s", e.dump())
	}
}

// scenarioTransfer: on a TransferReporter, a REFER from the phone becomes
// TransferRequested; accepting answers 202 and NOTIFY with a 200 sipfrag,
// refusing 603; a Replaces naming another of the backend's calls names its
// channel. Any other backend refuses the REFER itself (a final non-2xx),
// reports no TransferRequested, and AnswerTransfer answers ErrNotSupported
// (or ErrChannelState): it never carries the transfer out.
func scenarioTransfer(t *testing.T, e *env) {
	p := e.phone(t, "2300", sippeer.Config{})
	call, ch := e.inbound(t, p, "230")
	referTo := e.h.InboundURI(e.b, "1002")
	if _, ok := e.b.(mediacore.TransferReporter); !ok {
		code, err := call.Refer(e.ctx, referTo)
		if err != nil {
			t.Fatalf("refer: %v", err)
		}
		if code < 300 {
			t.Errorf("REFER to a backend that is not a TransferReporter answered %d, want it refused", code)
		}
		if hasType(e.channelEvents(ch), mediacore.EventTransferRequested) {
			t.Errorf("TransferRequested from a backend that is not a TransferReporter: %s", e.dump())
		}
		err = e.v2().AnswerTransfer(e.ctx, ch, "xfer-1", true)
		if !errors.Is(err, mediacore.ErrNotSupported) && !errors.Is(err, mediacore.ErrChannelState) {
			t.Errorf("AnswerTransfer without TransferReporter: %v, want ErrNotSupported", err)
		}
		// The call is not transferred: it is still up and hears a prompt.
		if _, err := e.core.Play(e.ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{
			mediacore.ToneFor(mediacore.Tone{Freqs: []float64{tonePrompt}}, time.Hour)}}); err != nil {
			t.Fatalf("play after the refused REFER: %v", err)
		}
		hearsOnly(t, "caller after the refused REFER", call, tonePrompt)
		if hasType(e.channelEvents(ch), mediacore.EventHangup) {
			t.Errorf("the refused REFER ended the call: %s", e.dump())
		}
		return
	}

	refer := func(target string) <-chan int {
		out := make(chan int, 1)
		go func() {
			code, err := call.Refer(e.ctx, target)
			if err != nil {
				t.Errorf("refer: %v", err)
			}
			out <- code
		}()
		return out
	}
	nth := func(n int) mediacore.Event {
		t.Helper()
		var got mediacore.Event
		e.wait(t, "TransferRequested", 10*time.Second, func(ev mediacore.Event) bool {
			i := 0
			for _, x := range e.channelEvents(ch) {
				if x.Type == mediacore.EventTransferRequested {
					if i == n {
						got = x
						return true
					}
					i++
				}
			}
			return false
		})
		return got
	}

	// Accepted.
	codes := refer(referTo)
	ev := nth(0)
	if ev.ReferTo != "user/1002" || ev.Transfer == "" || ev.Replaces != "" {
		t.Errorf("TransferRequested %+v, want ReferTo user/1002", ev)
	}
	if err := e.v2().AnswerTransfer(e.ctx, ch, ev.Transfer, true); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if code := <-codes; code != 202 {
		t.Errorf("REFER answered %d, want 202", code)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	n, err := call.WaitNotify(ctx, 0)
	if err != nil {
		t.Fatalf("no NOTIFY after 202: %v", err)
	}
	if h := n.GetHeader("Event"); h == nil || !strings.HasPrefix(strings.ToLower(h.Value()), "refer") {
		t.Errorf("NOTIFY Event %v", h)
	}
	if h := n.GetHeader("Subscription-State"); h == nil || !strings.HasPrefix(strings.ToLower(h.Value()), "terminated") {
		t.Errorf("NOTIFY Subscription-State %v", h)
	}
	if ct := n.GetHeader("Content-Type"); ct == nil || !strings.HasPrefix(strings.ToLower(ct.Value()), "message/sipfrag") {
		t.Errorf("NOTIFY Content-Type %v", ct)
	}
	if !strings.HasPrefix(string(n.Body()), "SIP/2.0 200") {
		t.Errorf("NOTIFY body %q", n.Body())
	}
	if err := e.v2().AnswerTransfer(e.ctx, ch, ev.Transfer, true); err == nil {
		t.Error("a transfer was answered twice")
	}

	// Refused.
	codes = refer(referTo)
	ev = nth(1)
	if err := e.v2().AnswerTransfer(e.ctx, ch, ev.Transfer, false); err != nil {
		t.Fatalf("refuse: %v", err)
	}
	if code := <-codes; code != 603 {
		t.Errorf("refused REFER answered %d, want 603", code)
	}

	// Attended: Replaces names the phone's other call with the backend.
	call2, ch2 := e.inbound(t, p, "231")
	codes = refer(referTo + call2.ReplacesParam())
	ev = nth(2)
	if ev.Replaces != ch2 {
		t.Errorf("Replaces %q, want %q", ev.Replaces, ch2)
	}
	if err := e.v2().AnswerTransfer(e.ctx, ch, ev.Transfer, false); err != nil {
		t.Fatal(err)
	}
	<-codes

	// An agent's originated leg (the backend is the UAC of that dialog)
	// transfers the same way.
	pa := e.phone(t, "1001", sippeer.Config{})
	agent, out := e.outbound(t, pa, "1001")
	acodes := make(chan int, 1)
	go func() {
		code, err := agent.Refer(e.ctx, referTo)
		if err != nil {
			t.Errorf("agent refer: %v", err)
		}
		acodes <- code
	}()
	aev := e.wait(t, "agent TransferRequested", 10*time.Second, func(ev mediacore.Event) bool {
		return ev.Channel == out && ev.Type == mediacore.EventTransferRequested
	})
	if aev.ReferTo != "user/1002" {
		t.Errorf("agent TransferRequested %+v", aev)
	}
	if err := e.v2().AnswerTransfer(e.ctx, out, aev.Transfer, true); err != nil {
		t.Fatalf("accept the agent's transfer: %v", err)
	}
	if code := <-acodes; code != 202 {
		t.Errorf("agent REFER answered %d, want 202", code)
	}
	an, err := agent.WaitNotify(ctx, 0)
	if err != nil {
		t.Fatalf("agent got no NOTIFY: %v", err)
	}
	if !strings.HasPrefix(string(an.Body()), "SIP/2.0 200") {
		t.Errorf("agent NOTIFY body %q", an.Body())
	}
}

// scenarioReconcile: Channels and Bridges list what exists, with states
// and members.
func scenarioReconcile(t *testing.T, e *env) {
	_, _, a, b := e.bridged(t)
	_, res, ringing := e.earlyPhone(t, "2400", "240")
	if err := e.core.Ring(e.ctx, ringing); err != nil {
		t.Fatal(err)
	}
	_, _, early := e.earlyPhone(t, "2401", "241")
	if err := e.v2().Progress(e.ctx, early); err != nil {
		t.Fatal(err)
	}
	e.waitType(t, early, mediacore.EventProgress)
	if err := e.core.Hold(e.ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	chans, err := e.v2().Channels(e.ctx)
	if err != nil {
		t.Fatalf("channels: %v", err)
	}
	want := map[mediacore.ChannelID]struct {
		state  mediacore.ChannelState
		dir    mediacore.Direction
		bridge mediacore.BridgeID
	}{
		a:       {mediacore.ChannelHeld, mediacore.Inbound, "br1"},
		b:       {mediacore.ChannelUp, mediacore.Outbound, "br1"},
		ringing: {mediacore.ChannelRinging, mediacore.Inbound, ""},
		early:   {mediacore.ChannelEarly, mediacore.Inbound, ""},
	}
	seen := map[mediacore.ChannelID]bool{}
	for _, c := range chans {
		w, ok := want[c.ID]
		if !ok {
			t.Errorf("unexpected channel %+v", c)
			continue
		}
		seen[c.ID] = true
		if c.State != w.state || c.Direction != w.dir || c.Bridge != w.bridge {
			t.Errorf("channel %s: state %v dir %v bridge %q, want %v %v %q", c.ID, c.State, c.Direction, c.Bridge, w.state, w.dir, w.bridge)
		}
		if c.Created.IsZero() || (c.State == mediacore.ChannelUp || c.State == mediacore.ChannelHeld) == c.Answered.IsZero() {
			t.Errorf("channel %s: created %v answered %v", c.ID, c.Created, c.Answered)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("channel %s not listed", id)
		}
	}
	bridges, err := e.v2().Bridges(e.ctx)
	if err != nil {
		t.Fatalf("bridges: %v", err)
	}
	if len(bridges) != 1 || bridges[0].ID != "br1" || len(bridges[0].Members) != 2 ||
		bridges[0].Members[a].Role != mediacore.RoleSpeak || bridges[0].Members[b].Role != mediacore.RoleSpeak {
		t.Errorf("bridges %+v, want br1 with %s and %s speaking", bridges, a, b)
	}
	if err := e.core.Hangup(e.ctx, ringing, mediacore.CauseBusy); err != nil {
		t.Fatal(err)
	}
	<-res
	e.waitType(t, ringing, mediacore.EventHangup)
	chans, err = e.v2().Channels(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chans {
		if c.ID == ringing {
			t.Errorf("hung-up channel still listed: %+v", c)
		}
	}
}

// scenarioVariables: X- headers of the INVITE are variables (with or
// without the "X-" prefix), SetVariable round-trips, unset and unknown
// give their sentinels.
func scenarioVariables(t *testing.T, e *env) {
	p := e.phone(t, "2500", sippeer.Config{})
	res := p.DialAsync(e.ctx, e.h.InboundURI(e.b, "250"), sip.NewHeader("X-Account", "A-42"))
	created := e.wait(t, "ChannelCreated", 10*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Called == "250"
	})
	ch := created.Channel
	v2 := e.v2()
	for _, name := range []string{"X-Account", "Account"} {
		if v, err := v2.Variable(e.ctx, ch, name); err != nil || v != "A-42" {
			t.Errorf("Variable(%q) = %q, %v; want the INVITE's X-Account", name, v, err)
		}
	}
	if err := v2.SetVariable(e.ctx, ch, "queue", "sales"); err != nil {
		t.Fatalf("set: %v", err)
	}
	if v, err := v2.Variable(e.ctx, ch, "queue"); err != nil || v != "sales" {
		t.Errorf("Variable(queue) = %q, %v", v, err)
	}
	if err := v2.SetVariable(e.ctx, ch, "queue", "support"); err != nil {
		t.Fatal(err)
	}
	if v, _ := v2.Variable(e.ctx, ch, "queue"); v != "support" {
		t.Errorf("overwritten variable = %q", v)
	}
	if _, err := v2.Variable(e.ctx, ch, "never-set"); !errors.Is(err, mediacore.ErrNoSuchVariable) {
		t.Errorf("unset variable: %v, want ErrNoSuchVariable", err)
	}
	if _, err := v2.Variable(e.ctx, "no-such-channel", "queue"); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Errorf("unknown channel: %v, want ErrNoSuchChannel", err)
	}
	if err := v2.SetVariable(e.ctx, "no-such-channel", "queue", "x"); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Errorf("set on unknown channel: %v, want ErrNoSuchChannel", err)
	}
	if err := e.core.Answer(e.ctx, ch); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.Err != nil {
		t.Fatal(r.Err)
	}
	if v, err := v2.Variable(e.ctx, ch, "queue"); err != nil || v != "support" {
		t.Errorf("after answer Variable(queue) = %q, %v", v, err)
	}
}

// scenarioBridgeEvents: joining, leaving, hanging up and destroying
// report BridgeJoined (with the role) and BridgeLeft on the channel.
func scenarioBridgeEvents(t *testing.T, e *env) {
	_, agent, a, b := e.bridged(t)
	for _, ch := range []mediacore.ChannelID{a, b} {
		ev := e.waitType(t, ch, mediacore.EventBridgeJoined)
		if ev.Bridge != "br1" || ev.Member.Role != mediacore.RoleSpeak {
			t.Errorf("%s joined %+v", ch, ev)
		}
	}
	_, sup := e.third(t, mediacore.Member{Role: mediacore.RoleListen})
	if ev := e.waitType(t, sup, mediacore.EventBridgeJoined); ev.Member.Role != mediacore.RoleListen || ev.Bridge != "br1" {
		t.Errorf("supervisor joined %+v, want listen", ev)
	}
	if err := e.core.RemoveFromBridge(e.ctx, "br1", sup); err != nil {
		t.Fatal(err)
	}
	if ev := e.waitType(t, sup, mediacore.EventBridgeLeft); ev.Bridge != "br1" {
		t.Errorf("supervisor left %+v", ev)
	}
	if err := agent.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.waitType(t, b, mediacore.EventHangup)
	left, hung := -1, -1
	for i, ev := range e.channelEvents(b) {
		switch ev.Type {
		case mediacore.EventBridgeLeft:
			left = i
		case mediacore.EventHangup:
			hung = i
		}
	}
	if left < 0 || left > hung {
		t.Errorf("agent's BridgeLeft missing or after its Hangup: %s", e.dump())
	}
	if err := e.core.DestroyBridge(e.ctx, "br1"); err != nil {
		t.Fatal(err)
	}
	if ev := e.waitType(t, a, mediacore.EventBridgeLeft); ev.Bridge != "br1" {
		t.Errorf("caller left %+v", ev)
	}
}

// scenarioRecordingAudio: OpenRecording returns the finished WAV; a mono
// channel recording holds both directions, or one (Source).
func scenarioRecordingAudio(t *testing.T, e *env) {
	p := e.phone(t, "2600", sippeer.Config{})
	call, ch := e.inbound(t, p, "260")
	call.SetTone(toneCaller)
	v2 := e.v2()
	// The contract promises: both = the two directions mixed, also while
	// a prompt plays to the channel (a recorded IVR or a whisper must keep
	// the caller's voice); read = what the far end sends; write = what is
	// sent to it. "read" does not play a tone prompt: what the channel hears
	// is not in it by definition, so the combination adds nothing there, and
	// "write" (caller absent) checks the directions are kept apart.
	for _, tc := range []struct {
		name      string
		source    mediacore.RecordSource
		prompt    bool // a tone prompt plays (else silence of the same length)
		has, hasn []float64
	}{
		{"both", mediacore.RecordBoth, true, []float64{toneCaller, tonePrompt}, nil},
		{"read", mediacore.RecordRead, false, []float64{toneCaller}, []float64{tonePrompt}},
		{"write", mediacore.RecordWrite, true, []float64{tonePrompt}, []float64{toneCaller}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := e.core.Record(e.ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Source: tc.source})
			if err != nil {
				t.Fatalf("record: %v", err)
			}
			if _, err := v2.OpenRecording(e.ctx, rec); !errors.Is(err, mediacore.ErrNoSuchRecording) {
				t.Errorf("open a running recording: %v, want ErrNoSuchRecording", err)
			}
			// The prompt's end is the event that stops the recording.
			media := mediacore.Silence(1500 * time.Millisecond)
			if tc.prompt {
				media = mediacore.ToneFor(mediacore.Tone{Freqs: []float64{tonePrompt}}, 1500*time.Millisecond)
			}
			pb, err := e.core.Play(e.ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{media}})
			if err != nil {
				t.Fatal(err)
			}
			e.wait(t, "prompt finished", 10*time.Second, func(ev mediacore.Event) bool {
				return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb
			})
			if err := e.core.StopRecording(e.ctx, rec); err != nil {
				t.Fatal(err)
			}
			e.wait(t, "RecordingFinished", 10*time.Second, func(ev mediacore.Event) bool {
				return ev.Type == mediacore.EventRecordingFinished && ev.Recording == rec
			})
			rc, err := v2.OpenRecording(e.ctx, rec)
			if err != nil {
				t.Fatalf("open recording: %v", err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			chans, err := decodeWAV(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(chans) != 1 || len(chans[0]) < 8000 {
				t.Fatalf("recording: %d channels, %d samples; want mono over 1 s", len(chans), len(chans[0]))
			}
			// The middle of the prompt (or silence): both directions flowed.
			mid := chans[0][len(chans[0])/2-2400 : len(chans[0])/2+2400]
			if err := toneMix(mid, tc.has...); err != nil {
				t.Errorf("recording %s should hold exactly %v Hz: %v", tc.name, tc.has, err)
			}
			for _, f := range tc.hasn {
				hearsNot(t, "recording "+tc.name, mid, f)
			}
		})
	}
	if _, err := v2.OpenRecording(e.ctx, "no-such-recording"); !errors.Is(err, mediacore.ErrNoSuchRecording) {
		t.Errorf("open unknown recording: %v, want ErrNoSuchRecording", err)
	}
}

// decodeWAV splits a 16-bit PCM WAV into its channels.
func decodeWAV(b []byte) ([][]int16, error) {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("mediatest: not a WAV file")
	}
	n := 0
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		switch id {
		case "fmt ":
			if p+16 > len(b) || binary.LittleEndian.Uint16(b[p:]) != 1 || binary.LittleEndian.Uint16(b[p+14:]) != 16 {
				return nil, errors.New("mediatest: recording is not 16-bit PCM")
			}
			n = int(binary.LittleEndian.Uint16(b[p+2:]))
		case "data":
			if n < 1 || n > 2 {
				return nil, errors.New("mediatest: data before fmt or bad channel count")
			}
			out := make([][]int16, n)
			end := min(p+size, len(b))
			for i := p; i+2*n <= end; i += 2 * n {
				for c := range n {
					out[c] = append(out[c], int16(binary.LittleEndian.Uint16(b[i+2*c:])))
				}
			}
			return out, nil
		}
		p += size + size&1
	}
	return nil, errors.New("mediatest: no data chunk")
}

// scenarioDTMFDetection: with DTMFDetector, in-band digits are reported
// only while detection is on; RFC 4733 digits always.
func scenarioDTMFDetection(t *testing.T, e *env) {
	det, _ := capOf[mediacore.DTMFDetector](e)
	_, claims := e.b.(mediacore.DTMFDetector)
	p := e.phone(t, "2700", sippeer.Config{})
	call, ch := e.inbound(t, p, "270")
	inband := func(d byte) {
		f := dtmfTones[d]
		call.SetTone(f[0], f[1])
		time.Sleep(300 * time.Millisecond) // the digit's length on the wire
		call.SetTone()
	}
	digits := func() string {
		var s []byte
		for _, ev := range e.channelEvents(ch) {
			if ev.Type == mediacore.EventDTMF {
				s = append(s, ev.Digit)
			}
		}
		return string(s)
	}
	waitDigits := func(want string) {
		t.Helper()
		e.wait(t, "digits "+want, 10*time.Second, func(mediacore.Event) bool { return len(digits()) >= len(want) })
		if got := digits(); got != want {
			t.Errorf("digits %q, want %q", got, want)
		}
	}
	if !claims {
		// The backend decides on in-band detection itself: Core's
		// SetDTMFDetection (when it has one) answers nil either way, and
		// RFC 4733 digits arrive.
		if det != nil {
			for _, on := range []bool{false, true} {
				if err := det.SetDTMFDetection(e.ctx, ch, on); err != nil {
					t.Errorf("SetDTMFDetection(%v) without DTMFDetector: %v, want nil", on, err)
				}
			}
		}
		call.SendDTMF("5")
		waitDigits("5")
		return
	}
	if err := det.SetDTMFDetection(e.ctx, ch, false); err != nil {
		t.Fatalf("detection off: %v", err)
	}
	inband('1')
	call.SendDTMF("5") // RFC 4733: reported whatever the setting
	waitDigits("5")
	if err := det.SetDTMFDetection(e.ctx, ch, true); err != nil {
		t.Fatalf("detection on: %v", err)
	}
	inband('3')
	waitDigits("53")
	if err := det.SetDTMFDetection(e.ctx, "no-such-channel", true); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Errorf("unknown channel: %v, want ErrNoSuchChannel", err)
	}
}

// scenarioCapabilities checks each optional capability: a backend that
// claims it passes its check; one that does not gets the Core's fallback
// or ErrNotSupported.
func scenarioCapabilities(t *testing.T, e *env) {
	t.Run("TTSPlayer", func(t *testing.T) {
		p := e.phone(t, "2800", sippeer.Config{})
		call, ch := e.inbound(t, p, "280")
		pb, err := e.core.Play(e.ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.TTS("en", "Your call is important to us.")}})
		if _, claims := e.b.(mediacore.TTSPlayer); !claims {
			if err != nil && !errors.Is(err, mediacore.ErrNotSupported) {
				t.Fatalf("TTS without TTSPlayer: %v, want the Core's fallback or ErrNotSupported", err)
			}
			if err != nil {
				return
			}
		} else if err != nil {
			t.Fatalf("backend claims TTSPlayer, Play(TTS): %v", err)
		}
		e.wait(t, "TTS playback finished", 20*time.Second, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb
		})
		if lvl := audio.LevelDBm0(call.Heard(2 * time.Second)); lvl < -45 {
			t.Errorf("the caller heard no speech: %.1f dBm0", lvl)
		}
	})
	t.Run("MediaUploader", func(t *testing.T) {
		up, ok := capOf[mediacore.MediaUploader](e)
		if !ok {
			t.Skip("backend without MediaUploader: prompts are its own files")
		}
		if err := up.PutMedia(e.ctx, "uploaded/music.wav", bytes.NewReader(toneWAV(toneMusic, time.Second))); err != nil {
			t.Fatalf("put media: %v", err)
		}
		if err := up.PutMedia(e.ctx, "../escape.wav", bytes.NewReader(toneWAV(toneMusic, time.Second))); !errors.Is(err, mediacore.ErrInvalidArgument) {
			t.Errorf("put outside the media dir: %v, want ErrInvalidArgument", err)
		}
		if err := up.PutMedia(e.ctx, "uploaded/junk.wav", strings.NewReader("not a wav")); !errors.Is(err, mediacore.ErrInvalidArgument) {
			t.Errorf("put a non-WAV: %v, want ErrInvalidArgument", err)
		}
		p := e.phone(t, "2801", sippeer.Config{})
		call, ch := e.inbound(t, p, "281")
		if _, err := e.core.Play(e.ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("uploaded/music.wav")}, Loop: true}); err != nil {
			t.Fatalf("play the uploaded file: %v", err)
		}
		hears(t, "caller (uploaded prompt)", waitHeard(t, call, toneMusic), toneMusic)
	})
	t.Run("TrunkConfigurer", func(t *testing.T) {
		tc, ok := capOf[mediacore.TrunkConfigurer](e)
		if _, claims := e.b.(mediacore.TrunkConfigurer); !claims {
			// Trunks are the backend's own configuration: Core's SetTrunks
			// (when it has one) leaves them and answers nil.
			if ok {
				if err := tc.SetTrunks(e.ctx, []mediacore.TrunkConfig{{Name: "conf", Address: "127.0.0.1:5060", Transport: "udp"}}); err != nil {
					t.Errorf("SetTrunks without TrunkConfigurer: %v, want nil", err)
				}
			}
			return
		}
		carrier := e.phone(t, "carrier", sippeer.Config{})
		if err := tc.SetTrunks(e.ctx, []mediacore.TrunkConfig{{Name: "conf", Address: carrier.Addr(), Transport: "udp"}}); err != nil {
			t.Fatalf("set trunks: %v", err)
		}
		id, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "tel/10086@conf", Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("originate through the new trunk: %v", err)
		}
		select {
		case c := <-carrier.Incoming():
			if c.Request.Recipient.User != "10086" {
				t.Errorf("carrier got %s", c.Request.Recipient.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the carrier got no call")
		}
		e.waitType(t, id, mediacore.EventAnswered)
		if err := tc.SetTrunks(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "tel/10086@conf"}); !errors.Is(err, mediacore.ErrNotFound) {
			t.Errorf("originate through a removed trunk: %v, want ErrNotFound", err)
		}
	})
}

// hears fails unless freq carries at least 60% of the energy of s (a
// wrong tone, or a mix with another party, fails).
func hears(t *testing.T, who string, s []int16, freq float64) {
	t.Helper()
	if lvl := audio.LevelDBm0(s); lvl < -45 {
		t.Errorf("%s should hear %v Hz: silence (%.1f dBm0)", who, freq, lvl)
		return
	}
	if r := audio.ToneRatio(s, audio.SampleRate, freq); r < 0.6 {
		t.Errorf("%s should hear %v Hz: ratio %.2f", who, freq, r)
	}
}

// hearsNot fails when freq carries more than 5% of the energy of s.
func hearsNot(t *testing.T, who string, s []int16, freq float64) {
	t.Helper()
	if r := audio.ToneRatio(s, audio.SampleRate, freq); r > 0.05 {
		t.Errorf("%s should not hear %v Hz: ratio %.2f", who, freq, r)
	}
}

// scenarioCapabilityMarkers checks the marker capabilities (Whisperer,
// StereoRecorder, ReinviteHolder) on one bridged call: a backend that
// claims one does it; without the claim the Core refuses with
// ErrNotSupported or its fallback does it. (The Whisper,
// StereoRecordingPause and HoldWithMusic scenarios check the audio.)
func scenarioCapabilityMarkers(t *testing.T, e *env) {
	caller, _, a, b := e.bridged(t)
	t.Run("Whisperer", func(t *testing.T) {
		p := e.phone(t, "2803", sippeer.Config{})
		_, ch := e.inbound(t, p, "283")
		err := e.core.AddToBridge(e.ctx, "br1", ch, mediacore.Member{Role: mediacore.RoleWhisper, WhisperTo: b})
		_, claims := e.b.(mediacore.Whisperer)
		switch {
		case claims && err != nil:
			t.Errorf("backend claims Whisperer, whisper member refused: %v", err)
		case !claims && err != nil && !errors.Is(err, mediacore.ErrNotSupported):
			t.Errorf("whisper without Whisperer: %v, want the fallback or ErrNotSupported", err)
		}
	})
	t.Run("StereoRecorder", func(t *testing.T) {
		rec, err := e.core.Record(e.ctx, mediacore.ChannelTarget(a), mediacore.RecordRequest{Stereo: true})
		_, claims := e.b.(mediacore.StereoRecorder)
		if err != nil {
			if claims || !errors.Is(err, mediacore.ErrNotSupported) {
				t.Fatalf("stereo recording (claimed %v): %v", claims, err)
			}
			return
		}
		pb, err := e.core.Play(e.ctx, mediacore.ChannelTarget(a), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.Silence(time.Second)}})
		if err != nil {
			t.Fatal(err)
		}
		e.wait(t, "a second of recording", 10*time.Second, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb
		})
		if err := e.core.StopRecording(e.ctx, rec); err != nil {
			t.Fatal(err)
		}
		e.wait(t, "RecordingFinished", 10*time.Second, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventRecordingFinished && ev.Recording == rec
		})
		rc, err := e.v2().OpenRecording(e.ctx, rec)
		if err != nil {
			t.Fatalf("open stereo recording: %v", err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		chans, err := decodeWAV(data)
		if err != nil || len(chans) != 2 {
			t.Fatalf("stereo recording has %d channels, %v", len(chans), err)
		}
		hears(t, "stereo left (the caller)", chans[0][len(chans[0])/2-2400:len(chans[0])/2+2400], toneCaller)
	})
	t.Run("ReinviteHolder", func(t *testing.T) {
		if err := e.core.Hold(e.ctx, a, nil); err != nil {
			t.Fatalf("hold: %v", err)
		}
		_, claims := e.b.(mediacore.ReinviteHolder)
		if d := caller.Direction(); claims != (d == "sendonly") {
			t.Errorf("backend claims ReinviteHolder %v, phone offered %q", claims, d)
		}
		if err := e.core.Unhold(e.ctx, a); err != nil {
			t.Fatalf("unhold: %v", err)
		}
	})
}

// toneWAV is a 16-bit mono 8 kHz WAV of freq for d.
func toneWAV(freq float64, d time.Duration) []byte {
	n := int(d.Seconds() * audio.SampleRate)
	var buf bytes.Buffer
	le := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	buf.WriteString("RIFF")
	le(uint32(36 + 2*n))
	buf.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(audio.SampleRate))
	le(uint32(2 * audio.SampleRate))
	le(uint16(2))
	le(uint16(16))
	buf.WriteString("data")
	le(uint32(2 * n))
	for i := range n {
		le(int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/audio.SampleRate)))
	}
	return buf.Bytes()
}

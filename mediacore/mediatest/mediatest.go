package mediatest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// Harness adapts the suite to one backend.
type Harness interface {
	// NewBackend returns a fresh backend, not started, for one scenario.
	// Phones call it from 127.0.0.1 without registering.
	NewBackend(t *testing.T) mediacore.Backend
	// InboundURI is the SIP URI a phone dials to reach the started backend
	// b with the called number.
	InboundURI(b mediacore.Backend, called string) string
	// RegisterUser makes phone reachable as "user/"+user on b (for SIP
	// backends: a REGISTER with digest), failing t otherwise.
	RegisterUser(t *testing.T, b mediacore.Backend, phone *sippeer.Phone, user string)
}

// Recordings are read through Core.OpenRecording (the contract: no shared
// disk between Hotline and a switch), never by RecordingFinished's Path,
// which is empty for the stereo file Core assembles.

// recordingAudio returns the WAV bytes of the finished recording rec.
func (e *env) recordingAudio(t *testing.T, rec mediacore.RecordingID) []byte {
	t.Helper()
	rc, err := e.v2().OpenRecording(e.ctx, rec)
	if err != nil {
		t.Fatalf("open recording %s: %v", rec, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read recording %s: %v", rec, err)
	}
	return data
}

// Tones used by the scenarios: far from each other and from each other's
// harmonics, all inside the G.711 band.
const (
	toneCaller = 1000.0
	toneAgent  = 400.0
	toneThird  = 1700.0
	tonePrompt = 800.0
	toneMusic  = 600.0
)

// Run runs every scenario as a subtest.
func Run(t *testing.T, h Harness) {
	scenarios := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"InboundPromptDTMF", scenarioInboundPromptDTMF},
		{"OriginateRegisteredAndBridge", scenarioOriginateBridge},
		{"ThreePartyMix", scenarioThreeParty},
		{"Whisper", scenarioWhisper},
		{"ListenOnly", scenarioListenOnly},
		{"SnoopListenWhisperBarge", scenarioSnoop},
		{"StereoRecordingPause", scenarioStereoRecording},
		{"HoldWithMusic", scenarioHold},
		{"HangupCauses", scenarioHangupCauses},
		// Contract version 2 (v2.go).
		{"EarlyMedia", scenarioEarlyMedia},
		{"EarlyMediaOriginated", scenarioEarlyMediaOriginated},
		{"Transfer", scenarioTransfer},
		{"Reconcile", scenarioReconcile},
		{"Variables", scenarioVariables},
		{"BridgeEvents", scenarioBridgeEvents},
		{"RecordingAudio", scenarioRecordingAudio},
		{"DTMFDetection", scenarioDTMFDetection},
		{"Capabilities", scenarioCapabilities},
		{"CapabilityMarkers", scenarioCapabilityMarkers},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, h)
			s.fn(t, e)
			e.checkOrder(t)
		})
	}
}

// env is one scenario's backend, core and event log.
type env struct {
	h    Harness
	b    mediacore.Backend
	core *mediacore.Core
	ctx  context.Context

	mu     sync.Mutex // guards events
	events []mediacore.Event
	notify chan struct{}
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	e := &env{h: h, notify: make(chan struct{}, 1)}
	e.b = h.NewBackend(t)
	core, err := mediacore.New(e.b, mediacore.Options{Handler: e.record})
	if err != nil {
		t.Fatal(err)
	}
	e.core = core
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.ctx = ctx
	if err := core.Start(ctx); err != nil {
		t.Fatalf("start backend: %v", err)
	}
	t.Cleanup(func() {
		if err := core.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		cancel()
	})
	return e
}

func (e *env) record(ev mediacore.Event) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

// wait returns the first event (from index 0) matching pred, failing after
// timeout.
func (e *env) wait(t *testing.T, what string, timeout time.Duration, pred func(mediacore.Event) bool) mediacore.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		evs := append([]mediacore.Event(nil), e.events...)
		e.mu.Unlock()
		for _, ev := range evs {
			if pred(ev) {
				return ev
			}
		}
		select {
		case <-e.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %s", what, e.dump())
		}
	}
}

func (e *env) waitType(t *testing.T, ch mediacore.ChannelID, typ mediacore.EventType) mediacore.Event {
	t.Helper()
	return e.wait(t, fmt.Sprintf("%v on %s", typ, ch), 10*time.Second, func(ev mediacore.Event) bool {
		return ev.Channel == ch && ev.Type == typ
	})
}

func (e *env) channelEvents(ch mediacore.ChannelID) []mediacore.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []mediacore.Event
	for _, ev := range e.events {
		if ev.Channel == ch {
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) dump() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := ""
	for _, ev := range e.events {
		s += fmt.Sprintf("\n  %s #%d %v cause=%v digit=%q", ev.Channel, ev.Seq, ev.Type, ev.Cause, ev.Digit)
	}
	return s
}

// checkOrder verifies, for every channel, that Seq increases by one in
// delivery order and that the call-state events come in a legal order.
func (e *env) checkOrder(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	last := map[mediacore.ChannelID]uint64{}
	phase := map[mediacore.ChannelID]int{}
	rank := map[mediacore.EventType]int{
		mediacore.EventChannelCreated: 1, mediacore.EventRinging: 2, mediacore.EventAnswered: 3, mediacore.EventHangup: 4,
	}
	for _, ev := range e.events {
		if ev.Channel == "" {
			continue
		}
		if ev.Seq != last[ev.Channel]+1 {
			t.Errorf("channel %s: event %v has seq %d after %d", ev.Channel, ev.Type, ev.Seq, last[ev.Channel])
		}
		last[ev.Channel] = ev.Seq
		r, ok := rank[ev.Type]
		if !ok {
			if phase[ev.Channel] == 0 {
				t.Errorf("channel %s: %v before ChannelCreated", ev.Channel, ev.Type)
			}
			continue
		}
		if r <= phase[ev.Channel] && !(r == 2 && phase[ev.Channel] == 2) {
			t.Errorf("channel %s: %v after phase %d", ev.Channel, ev.Type, phase[ev.Channel])
		}
		phase[ev.Channel] = r
	}
}

// phone starts a sippeer phone closed with the test.
func (e *env) phone(t *testing.T, user string, cfg sippeer.Config) *sippeer.Phone {
	t.Helper()
	cfg.User = user
	p, err := sippeer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// inbound makes phone call the backend, answers it through the Core, and
// returns the phone's call and the channel id.
func (e *env) inbound(t *testing.T, p *sippeer.Phone, called string) (*sippeer.Call, mediacore.ChannelID) {
	t.Helper()
	res := p.DialAsync(e.ctx, e.h.InboundURI(e.b, called))
	created := e.wait(t, "ChannelCreated for "+called, 10*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound && ev.Called == called
	})
	if err := e.core.Ring(e.ctx, created.Channel); err != nil {
		t.Fatalf("ring: %v", err)
	}
	if err := e.core.Answer(e.ctx, created.Channel); err != nil {
		t.Fatalf("answer: %v", err)
	}
	r := <-res
	if r.Err != nil {
		t.Fatalf("dial: %v", r.Err)
	}
	e.waitType(t, created.Channel, mediacore.EventAnswered)
	return r.Call, created.Channel
}

// outbound registers an agent phone as user and originates to it.
func (e *env) outbound(t *testing.T, p *sippeer.Phone, user string) (*sippeer.Call, mediacore.ChannelID) {
	t.Helper()
	e.h.RegisterUser(t, e.b, p, user)
	id, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{
		Endpoint: "user/" + user, CallerIDNumber: "4000", Timeout: 10 * time.Second,
		Variables: map[string]string{"Hotline-Call": "c-1"},
	})
	if err != nil {
		t.Fatalf("originate: %v", err)
	}
	var call *sippeer.Call
	select {
	case call = <-p.Incoming():
	case <-time.After(10 * time.Second):
		t.Fatalf("agent phone got no call; events: %s", e.dump())
	}
	e.waitType(t, id, mediacore.EventAnswered)
	return call, id
}

// knownTones are every tone a scenario plays; what a party hears is
// checked against all of them.
var knownTones = []float64{toneCaller, toneAgent, toneThird, tonePrompt, toneMusic}

// window is how much audio one check looks at.
const window = 600 * time.Millisecond

// toneMix checks that s is audible and holds the tones want and no other
// known tone: each wanted tone carries at least 0.6/len(want) of the
// energy (two tones mixed share it about equally), together at least
// 80%, and every other known tone at most 5%. A wrong or extra tone fails.
func toneMix(s []int16, want ...float64) error {
	if lvl := audio.LevelDBm0(s); lvl < -45 {
		return fmt.Errorf("silence (%.1f dBm0, %d samples)", lvl, len(s))
	}
	var bad []string
	sum := 0.0
	for _, f := range knownTones {
		r := audio.ToneRatio(s, audio.SampleRate, f)
		if slices.Contains(want, f) {
			sum += r
			if r < 0.6/float64(len(want)) {
				bad = append(bad, fmt.Sprintf("%v Hz too weak (%.2f)", f, r))
			}
		} else if r > 0.05 {
			bad = append(bad, fmt.Sprintf("%v Hz present (%.2f)", f, r))
		}
	}
	if len(want) > 0 && sum < 0.8 {
		bad = append(bad, fmt.Sprintf("the wanted tones hold only %.2f of the energy", sum))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// hearsOnly waits until what c heard over the last window is exactly the
// tones want (see toneMix), with a generous deadline: audio needs a moment
// to flow through jitter buffers and mixers after a change, and a loaded
// machine may take longer, but a wrong mix never passes. Audio heard
// before the call is discarded.
func hearsOnly(t *testing.T, who string, c *sippeer.Call, want ...float64) {
	t.Helper()
	c.ClearHeard()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for {
		if s := c.Heard(window); len(s) >= int(window.Seconds()*audio.SampleRate) {
			if err = toneMix(s, want...); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("not enough audio")
			}
			t.Errorf("%s should hear exactly %v Hz: %v", who, want, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func scenarioInboundPromptDTMF(t *testing.T, e *env) {
	caller := e.phone(t, "2000", sippeer.Config{})
	call, ch := e.inbound(t, caller, "100")
	pb, err := e.core.Play(e.ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{
		mediacore.ToneFor(mediacore.Tone{Freqs: []float64{tonePrompt}}, 1500*time.Millisecond),
	}})
	if err != nil {
		t.Fatalf("play: %v", err)
	}
	hearsOnly(t, "caller", call, tonePrompt)
	e.wait(t, "PlaybackFinished", 5*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb && ev.Channel == ch
	})
	call.SendDTMF("19#*0")
	var got []byte
	e.wait(t, "5 digits", 10*time.Second, func(ev mediacore.Event) bool {
		got = got[:0]
		for _, d := range e.channelEvents(ch) {
			if d.Type == mediacore.EventDTMF {
				got = append(got, d.Digit)
			}
		}
		return len(got) >= 5
	})
	if string(got) != "19#*0" {
		t.Errorf("digits %q, want %q", got, "19#*0")
	}
	// And the other way: digits sent by the core reach the phone as RFC
	// 4733 events (counted by distinct event codes in order).
	if err := e.core.SendDTMF(e.ctx, ch, "42"); err != nil {
		t.Fatalf("send dtmf: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var codes []byte
	for time.Now().Before(deadline) {
		codes = dedupe(call.DTMFEnds())
		if len(codes) >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if string(codes) != "\x04\x02" {
		t.Errorf("phone received RFC 4733 events %v, want [4 2]", codes)
	}
	if err := e.core.Hangup(e.ctx, ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Error("caller did not see the BYE")
	}
	if ev := e.waitType(t, ch, mediacore.EventHangup); ev.Cause != mediacore.CauseNormal {
		t.Errorf("cause %v", ev.Cause)
	}
}

// dedupe collapses repeated end packets (RFC 4733 §2.5.1.4 sends three).
func dedupe(b []byte) []byte {
	var out []byte
	for i, v := range b {
		if i == 0 || v != b[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// bridged sets up a caller (1 kHz) and an originated agent (400 Hz) in a
// bridge.
func (e *env) bridged(t *testing.T) (caller, agent *sippeer.Call, a, b mediacore.ChannelID) {
	t.Helper()
	pc := e.phone(t, "2001", sippeer.Config{})
	pa := e.phone(t, "1001", sippeer.Config{})
	caller, a = e.inbound(t, pc, "200")
	agent, b = e.outbound(t, pa, "1001")
	if err := e.core.CreateBridge(e.ctx, "br1"); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []mediacore.ChannelID{a, b} {
		if err := e.core.AddToBridge(e.ctx, "br1", ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			t.Fatalf("add %s: %v", ch, err)
		}
	}
	caller.SetTone(toneCaller)
	agent.SetTone(toneAgent)
	return caller, agent, a, b
}

func scenarioOriginateBridge(t *testing.T, e *env) {
	caller, agent, _, b := e.bridged(t)
	if v := agent.HeaderValue("X-Hotline-Call"); v != "c-1" {
		t.Errorf("originate variable header = %q", v)
	}
	hearsOnly(t, "caller", caller, toneAgent)
	hearsOnly(t, "agent", agent, toneCaller)
	if err := agent.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	if ev := e.waitType(t, b, mediacore.EventHangup); ev.Cause != mediacore.CauseNormal {
		t.Errorf("agent hangup cause %v", ev.Cause)
	}
}

func (e *env) third(t *testing.T, m mediacore.Member) (*sippeer.Call, mediacore.ChannelID) {
	t.Helper()
	p := e.phone(t, "3000", sippeer.Config{})
	call, ch := e.inbound(t, p, "300")
	if err := e.core.AddToBridge(e.ctx, "br1", ch, m); err != nil {
		t.Fatalf("add third: %v", err)
	}
	call.SetTone(toneThird)
	return call, ch
}

func scenarioThreeParty(t *testing.T, e *env) {
	caller, agent, _, _ := e.bridged(t)
	third, _ := e.third(t, mediacore.Member{Role: mediacore.RoleSpeak})
	// Each hears the two others and not itself.
	hearsOnly(t, "caller", caller, toneAgent, toneThird)
	hearsOnly(t, "agent", agent, toneCaller, toneThird)
	hearsOnly(t, "third", third, toneCaller, toneAgent)
}

// scenarioWhisper: the supervisor whispers to the agent. The agent hears
// the caller and the supervisor, the caller only the agent, the
// supervisor both of them; nobody hears themselves.
func scenarioWhisper(t *testing.T, e *env) {
	caller, agent, _, b := e.bridged(t)
	sup, _ := e.third(t, mediacore.Member{Role: mediacore.RoleWhisper, WhisperTo: b})
	hearsOnly(t, "agent", agent, toneCaller, toneThird)
	hearsOnly(t, "caller", caller, toneAgent)
	hearsOnly(t, "supervisor", sup, toneCaller, toneAgent)
}

func scenarioListenOnly(t *testing.T, e *env) {
	caller, agent, _, _ := e.bridged(t)
	sup, _ := e.third(t, mediacore.Member{Role: mediacore.RoleListen})
	hearsOnly(t, "agent", agent, toneCaller)
	hearsOnly(t, "caller", caller, toneAgent)
	hearsOnly(t, "supervisor", sup, toneCaller, toneAgent)
}

// scenarioStereoRecording records the caller's leg in stereo, pauses and
// resumes it. The file must hold audio, then silence (the pause), then
// audio again, found by the audio itself rather than by wall-clock
// positions; in each audio stretch the left channel holds only the
// caller's tone and the right only the agent's.
// scenarioSnoop: a supervisor snoops on the agent's channel, listening
// first, then whispering, then barging in; each step is checked on every
// party, both bridged parties included, and nobody hears themselves.
func scenarioSnoop(t *testing.T, e *env) {
	caller, agent, _, b := e.bridged(t)
	sup, s := e.inbound(t, e.phone(t, "3100", sippeer.Config{}), "310")
	sup.SetTone(toneThird)
	steps := []struct {
		mode                    mediacore.SnoopMode
		name                    string
		caller, agent, supHears []float64
	}{
		{mediacore.SnoopListen, "listen", []float64{toneAgent}, []float64{toneCaller}, []float64{toneCaller, toneAgent}},
		{mediacore.SnoopWhisper, "whisper", []float64{toneAgent}, []float64{toneCaller, toneThird}, []float64{toneCaller, toneAgent}},
		{mediacore.SnoopBarge, "barge", []float64{toneAgent, toneThird}, []float64{toneCaller, toneThird}, []float64{toneCaller, toneAgent}},
	}
	for _, st := range steps {
		if err := e.core.Snoop(e.ctx, b, s, st.mode); err != nil {
			t.Fatalf("snoop %s: %v", st.name, err)
		}
		hearsOnly(t, st.name+": caller", caller, st.caller...)
		hearsOnly(t, st.name+": agent", agent, st.agent...)
		hearsOnly(t, st.name+": supervisor", sup, st.supHears...)
	}
}

func scenarioStereoRecording(t *testing.T, e *env) {
	caller, agent, a, _ := e.bridged(t)
	// The parties hear each other before recording starts.
	hearsOnly(t, "caller", caller, toneAgent)
	hearsOnly(t, "agent", agent, toneCaller)
	start := time.Now()
	rec, err := e.core.Record(e.ctx, mediacore.ChannelTarget(a), mediacore.RecordRequest{Stereo: true})
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	// These sleeps give each stretch its length; nothing is checked at
	// fixed positions, so a slow machine only makes stretches longer.
	time.Sleep(time.Second)
	if err := e.core.PauseRecording(e.ctx, rec); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := e.core.ResumeRecording(e.ctx, rec); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := e.core.StopRecording(e.ctx, rec); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	fin := e.wait(t, "RecordingFinished", 5*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventRecordingFinished && ev.Recording == rec
	})
	if fin.Duration < 2500*time.Millisecond || fin.Duration > elapsed+500*time.Millisecond {
		t.Errorf("recording duration %v, want from 2.5 s to the %v the recording ran", fin.Duration, elapsed)
	}
	left, right, err := decodeStereoWAV(e.recordingAudio(t, rec))
	if err != nil {
		t.Fatal(err)
	}
	runs := stretches(left, right)
	// Audio, pause, audio: the pause is the longest silent stretch inside.
	pause := -1
	for i := 1; i+1 < len(runs); i++ {
		if !runs[i].loud && (pause < 0 || runs[i].len() > runs[pause].len()) {
			pause = i
		}
	}
	if pause < 0 || runs[pause].len() < 500*time.Millisecond {
		t.Fatalf("no pause of at least 500 ms between audio in the recording: %v", runs)
	}
	for _, r := range []stretch{runs[pause-1], runs[pause+1]} {
		if !r.loud || r.len() < 500*time.Millisecond {
			t.Fatalf("audio stretch %v around the pause too short: %v", r, runs)
		}
		mid := r.from + (r.to-r.from)/2
		from, to := mid-250*time.Millisecond, mid+250*time.Millisecond
		if err := toneMix(cut(left, from, to), toneCaller); err != nil {
			t.Errorf("recording left %v-%v: %v", from, to, err)
		}
		if err := toneMix(cut(right, from, to), toneAgent); err != nil {
			t.Errorf("recording right %v-%v: %v", from, to, err)
		}
	}
	// The pause is digital silence on both channels (its edges aside).
	p := runs[pause]
	for name, ch := range map[string][]int16{"left": left, "right": right} {
		if lvl := audio.LevelDBm0(cut(ch, p.from+100*time.Millisecond, p.to-100*time.Millisecond)); lvl > -60 {
			t.Errorf("paused stretch of %s channel holds audio: %.1f dBm0", name, lvl)
		}
	}
}

// stretch is a run of 20 ms frames of a recording, loud or silent.
type stretch struct {
	from, to time.Duration
	loud     bool
}

func (s stretch) len() time.Duration { return s.to - s.from }

// stretches splits a stereo recording into runs of frames where either
// channel is above -50 dBm0 (loud) or neither is. A silent run shorter
// than 100 ms (a packet or two lost) does not split a loud one.
func stretches(left, right []int16) []stretch {
	const frame = audio.SampleRate / 50
	var out []stretch
	for i := 0; i+frame <= len(left) && i+frame <= len(right); i += frame {
		loud := max(audio.LevelDBm0(left[i:i+frame]), audio.LevelDBm0(right[i:i+frame])) > -50
		at := time.Duration(i) * time.Second / audio.SampleRate
		end := at + 20*time.Millisecond
		if n := len(out); n > 0 && out[n-1].loud == loud {
			out[n-1].to = end
			continue
		}
		out = append(out, stretch{from: at, to: end, loud: loud})
	}
	// Merge short silent gaps into the loud runs around them.
	var merged []stretch
	for i, s := range out {
		if !s.loud && s.len() < 100*time.Millisecond && i > 0 && i+1 < len(out) {
			merged[len(merged)-1].to = s.to
			continue
		}
		if n := len(merged); n > 0 && merged[n-1].loud == s.loud {
			merged[n-1].to = s.to
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// cut returns the samples from from to to.
func cut(s []int16, from, to time.Duration) []int16 {
	i, j := int(from.Seconds()*audio.SampleRate), int(to.Seconds()*audio.SampleRate)
	i, j = max(0, min(i, len(s))), max(0, min(j, len(s)))
	if j < i {
		j = i
	}
	return s[i:j]
}

// decodeStereoWAV splits a 16-bit stereo PCM WAV into its channels.
func decodeStereoWAV(b []byte) (left, right []int16, err error) {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, nil, errors.New("mediatest: not a WAV file")
	}
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if id == "fmt " {
			if binary.LittleEndian.Uint16(b[p+2:]) != 2 || binary.LittleEndian.Uint16(b[p+14:]) != 16 {
				return nil, nil, errors.New("mediatest: recording is not 16-bit stereo")
			}
		}
		if id == "data" {
			end := min(p+size, len(b))
			for i := p; i+4 <= end; i += 4 {
				left = append(left, int16(binary.LittleEndian.Uint16(b[i:])))
				right = append(right, int16(binary.LittleEndian.Uint16(b[i+2:])))
			}
			return left, right, nil
		}
		p += size + size&1
	}
	return nil, nil, errors.New("mediatest: no data chunk")
}

func scenarioHold(t *testing.T, e *env) {
	caller, agent, a, b := e.bridged(t)
	hearsOnly(t, "caller", caller, toneAgent)
	music := mediacore.ToneFor(mediacore.Tone{Freqs: []float64{toneMusic}}, 0)
	music.Duration = time.Hour
	// Only a ReinviteHolder signals the hold to the far end (re-INVITE
	// a=sendonly); otherwise Core holds locally (the channel leaves its
	// bridge and hears the music, the far end is not told). Either way the
	// held party hears the music, the other side never does, EventHold and
	// EventUnhold come, and Unhold gives two-way audio back.
	_, reinvite := e.b.(mediacore.ReinviteHolder)
	direction := func(who string, c *sippeer.Call, held bool) {
		t.Helper()
		if !reinvite {
			return
		}
		want := "sendrecv"
		if held {
			want = "sendonly" // RFC 3264 §8.4
		}
		if d := c.Direction(); d != want {
			t.Errorf("%s was offered %q, want %s", who, d, want)
		}
	}
	if err := e.core.Hold(e.ctx, a, &music); err != nil {
		t.Fatalf("hold: %v", err)
	}
	agent.ClearHeard()
	direction("held phone", caller, true)
	hearsOnly(t, "held caller", caller, toneMusic)
	hearsNot(t, "agent while the caller is held", agent.Heard(window), toneMusic)
	e.waitType(t, a, mediacore.EventHold)
	if err := e.core.Unhold(e.ctx, a); err != nil {
		t.Fatalf("unhold: %v", err)
	}
	direction("phone after unhold", caller, false)
	hearsOnly(t, "caller after unhold", caller, toneAgent)
	hearsOnly(t, "agent after unhold", agent, toneCaller)
	e.waitType(t, a, mediacore.EventUnhold)

	// The originated leg (the core is the UAC of that dialog) holds the
	// same way.
	if err := e.core.Hold(e.ctx, b, &music); err != nil {
		t.Fatalf("hold agent: %v", err)
	}
	caller.ClearHeard()
	direction("held agent phone", agent, true)
	hearsOnly(t, "held agent", agent, toneMusic)
	hearsNot(t, "caller while the agent is held", caller.Heard(window), toneMusic)
	e.waitType(t, b, mediacore.EventHold)
	if err := e.core.Unhold(e.ctx, b); err != nil {
		t.Fatalf("unhold agent: %v", err)
	}
	hearsOnly(t, "agent after unhold", agent, toneCaller)
	hearsOnly(t, "caller after the agent's unhold", caller, toneAgent)
	e.waitType(t, b, mediacore.EventUnhold)
}

func scenarioHangupCauses(t *testing.T, e *env) {
	t.Run("busy agent", func(t *testing.T) {
		p := e.phone(t, "1101", sippeer.Config{Answer: func(*sip.Request) int { return 486 }})
		e.h.RegisterUser(t, e.b, p, "1101")
		id, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "user/1101", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if ev := e.waitType(t, id, mediacore.EventHangup); ev.Cause != mediacore.CauseBusy {
			t.Errorf("cause %v, want busy", ev.Cause)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		p := e.phone(t, "1102", sippeer.Config{AnswerDelay: time.Minute})
		e.h.RegisterUser(t, e.b, p, "1102")
		id, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "user/1102", Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		e.waitType(t, id, mediacore.EventRinging)
		if ev := e.waitType(t, id, mediacore.EventHangup); ev.Cause != mediacore.CauseNoAnswer {
			t.Errorf("cause %v, want no_answer", ev.Cause)
		}
		// The ring timeout must reach the phone as a CANCEL.
		deadline := time.Now().Add(5 * time.Second)
		for p.Cancelled() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if p.Cancelled() != 1 {
			t.Errorf("phone saw %d CANCELs, want 1", p.Cancelled())
		}
	})
	t.Run("unregistered user", func(t *testing.T) {
		_, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "user/9999"})
		if !errors.Is(err, mediacore.ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
	})
	t.Run("reject inbound busy", func(t *testing.T) {
		p := e.phone(t, "2101", sippeer.Config{})
		res := p.DialAsync(e.ctx, e.h.InboundURI(e.b, "501"))
		ev := e.wait(t, "created", 10*time.Second, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventChannelCreated && ev.Called == "501"
		})
		if err := e.core.Hangup(e.ctx, ev.Channel, mediacore.CauseBusy); err != nil {
			t.Fatal(err)
		}
		r := <-res
		var se *sippeer.StatusError
		if !errors.As(r.Err, &se) || se.Code != 486 {
			t.Errorf("caller got %v, want 486", r.Err)
		}
		if h := e.waitType(t, ev.Channel, mediacore.EventHangup); h.Cause != mediacore.CauseBusy || h.SIPCode != 486 {
			t.Errorf("hangup %v/%d", h.Cause, h.SIPCode)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		p := e.phone(t, "2102", sippeer.Config{})
		ctx, cancel := context.WithCancel(e.ctx)
		res := p.DialAsync(ctx, e.h.InboundURI(e.b, "502"))
		ev := e.wait(t, "created", 10*time.Second, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventChannelCreated && ev.Called == "502"
		})
		if err := e.core.Ring(e.ctx, ev.Channel); err != nil {
			t.Fatal(err)
		}
		e.waitType(t, ev.Channel, mediacore.EventRinging)
		cancel()
		<-res
		if h := e.waitType(t, ev.Channel, mediacore.EventHangup); h.Cause != mediacore.CauseCancelled {
			t.Errorf("cause %v, want cancelled", h.Cause)
		}
	})
}

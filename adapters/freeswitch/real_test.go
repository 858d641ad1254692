package freeswitch

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// TestRealRegistrationEvents: a phone registering to the switch (and
// unregistering) is reported as endpoint events.
func TestRealRegistrationEvents(t *testing.T) {
	in := mainSwitch(t)
	b, err := New(in.config())
	if err != nil {
		t.Fatal(err)
	}
	log := newSinkLog()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx, log.sink); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := sippeer.New(sippeer.Config{User: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if code, err := p.Register(ctx, in.sip, testPassword, 60); err != nil || code != 200 {
		t.Fatalf("register: %d %v", code, err)
	}
	log.wait(t, "EndpointRegistered", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventEndpointRegistered && ev.Endpoint == "user/agent" && ev.Contact != ""
		}) == 1
	})
	if code, err := p.Register(ctx, in.sip, testPassword, 0); err != nil || code != 200 {
		t.Fatalf("unregister: %d %v", code, err)
	}
	log.wait(t, "EndpointUnregistered", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventEndpointUnregistered && ev.Endpoint == "user/agent"
		}) == 1
	})
}

// TestNoSharedDirs: without shared directories, recordings are reported
// but not opened, and uploads are refused, both with ErrNotSupported.
func TestNoSharedDirs(t *testing.T) {
	f, b, log := startFake(t, nil)
	inboundCall(f, "c1")
	log.wait(t, "created", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventChannelCreated, "c1")) == 1 })
	ctx := context.Background()
	if _, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: "r1", Stereo: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenRecording(ctx, "r1"); !errors.Is(err, mediacore.ErrNoSuchRecording) {
		t.Errorf("open a running recording: %v", err)
	}
	if err := b.StopRecording(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	f.event(map[string]string{"Event-Name": "RECORD_STOP", "Unique-ID": "c1", "Record-File-Path": "/fake/recordings/r1.wav"}, "")
	log.wait(t, "finished", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventRecordingFinished && ev.Recording == "r1" && ev.Path == "/fake/recordings/r1.wav"
		}) == 1
	})
	if _, err := b.OpenRecording(ctx, "r1"); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Errorf("open without shared_recordings_dir: %v", err)
	}
	if err := b.PutMedia(ctx, "p/x.wav", strings.NewReader("RIFF....WAVE")); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Errorf("put without shared_media_dir: %v", err)
	}
	var sent []string
	for _, c := range f.commands() {
		if strings.Contains(c, "RECORD_STEREO") || strings.Contains(c, "uuid_record") {
			sent = append(sent, c)
		}
	}
	want := []string{"api uuid_setvar c1 RECORD_STEREO true", "api uuid_record c1 start /fake/recordings/r1.wav", "api uuid_record c1 stop /fake/recordings/r1.wav"}
	if strings.Join(sent, "|") != strings.Join(want, "|") {
		t.Errorf("sent %q", sent)
	}
}

// TestRealBridgeRecording records a conference room: a mono mix of both
// members, with a pause.
func TestRealBridgeRecording(t *testing.T) {
	in := mainSwitch(t)
	b, err := New(in.config())
	if err != nil {
		t.Fatal(err)
	}
	log := newSinkLog()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	core, err := mediacore.New(b, mediacore.Options{Handler: log.sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	var calls []*sippeer.Call
	call := func(user, called string, tone float64) mediacore.ChannelID {
		p, err := sippeer.New(sippeer.Config{User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		res := p.DialAsync(ctx, "sip:"+called+"@"+in.sip)
		var ch mediacore.ChannelID
		log.wait(t, "created "+called, func(evs []mediacore.Event) bool {
			for _, ev := range evs {
				if ev.Type == mediacore.EventChannelCreated && ev.Called == called {
					ch = ev.Channel
					return true
				}
			}
			return false
		})
		if err := core.Answer(ctx, ch); err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		r.Call.SetTone(tone)
		calls = append(calls, r.Call)
		return ch
	}
	a, c := call("2950", "295", 1000), call("2951", "296", 400)
	if err := core.CreateBridge(ctx, "rb1"); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []mediacore.ChannelID{a, c} {
		if err := core.AddToBridge(ctx, "rb1", ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := core.Record(ctx, mediacore.BridgeTarget("rb1"), mediacore.RecordRequest{})
	if err != nil {
		t.Fatalf("record bridge: %v", err)
	}
	if _, err := core.Record(ctx, mediacore.BridgeTarget("rb1"), mediacore.RecordRequest{Stereo: true}); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Errorf("stereo of a bridge: %v", err)
	}
	time.Sleep(time.Second)
	if err := core.PauseRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := core.ResumeRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := core.StopRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	var fin mediacore.Event
	log.wait(t, "RecordingFinished", func(evs []mediacore.Event) bool {
		for _, ev := range evs {
			if ev.Type == mediacore.EventRecordingFinished && ev.Recording == rec {
				fin = ev
				return true
			}
		}
		return false
	})
	rc, err := core.OpenRecording(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	samples := wavSamples(t, data)
	if len(samples) < 8000 {
		t.Fatalf("bridge recording: %d samples (%s)", len(samples), fin.Path)
	}
	// A prompt into the bridge: both members hear it, then it finishes.
	pb, err := core.Play(ctx, mediacore.BridgeTarget("rb1"), mediacore.PlayRequest{Media: []mediacore.Media{
		mediacore.ToneFor(mediacore.Tone{Freqs: []float64{800}}, 3*time.Second)}})
	if err != nil {
		t.Fatalf("play into the bridge: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	for i, cl := range calls {
		cl.ClearHeard()
		time.Sleep(500 * time.Millisecond)
		if r := audio.ToneRatio(cl.Heard(400*time.Millisecond), audio.SampleRate, 800); r < 0.1 {
			t.Errorf("member %d does not hear the bridge prompt: ratio %.3f", i, r)
		}
	}
	log.wait(t, "bridge PlaybackFinished", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb }) == 1
	})
	// mod_conference drops the paused stretch (it writes no silence): about
	// 2 s of audio for 3 s of recording.
	if d := time.Duration(len(samples)) * time.Second / 8000; d < 1500*time.Millisecond || d > 2600*time.Millisecond {
		t.Errorf("bridge recording holds %v of audio, want about 2 s (pause dropped); finished after %v", d, fin.Duration)
	}
	for i := 0; i+4000 <= len(samples)-2000; i += 4000 {
		w := samples[i : i+4000]
		for _, f := range []float64{1000, 400} {
			if r := audio.ToneRatio(w, audio.SampleRate, f); r < 0.2 {
				t.Errorf("bridge recording at %.1fs lacks %v Hz: ratio %.3f", float64(i)/8000, f, r)
			}
		}
	}
}

// wavSamples returns the 16-bit mono samples of a WAV file.
func wavSamples(t *testing.T, b []byte) []int16 {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" {
		t.Fatalf("not a WAV file (%d bytes)", len(b))
	}
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if id == "fmt " && (binary.LittleEndian.Uint16(b[p+2:]) != 1 || binary.LittleEndian.Uint16(b[p+14:]) != 16) {
			t.Fatalf("not 16-bit mono")
		}
		if id == "data" {
			end := min(p+size, len(b))
			out := make([]int16, 0, (end-p)/2)
			for i := p; i+2 <= end; i += 2 {
				out = append(out, int16(binary.LittleEndian.Uint16(b[i:])))
			}
			return out
		}
		p += size + size&1
	}
	t.Fatal("no data chunk")
	return nil
}

// TestRealConnectionCut cuts the event socket connection mid-call: the
// backend redials, re-subscribes and reconciles; the call survives with
// no lost or duplicated events, and a call that ended during the outage
// gets its Hangup.
func TestRealConnectionCut(t *testing.T) {
	in := mainSwitch(t)
	cfg := in.config()
	cfg.RedialMax = 300 * time.Millisecond
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := newSinkLog()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Start(ctx, log.sink); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dial := func(user, called string) (*sippeer.Call, mediacore.ChannelID) {
		p, err := sippeer.New(sippeer.Config{User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		res := p.DialAsync(ctx, "sip:"+called+"@"+in.sip)
		var ch mediacore.ChannelID
		log.wait(t, "created "+called, func(evs []mediacore.Event) bool {
			for _, ev := range evs {
				if ev.Type == mediacore.EventChannelCreated && ev.Called == called {
					ch = ev.Channel
					return true
				}
			}
			return false
		})
		if err := b.Answer(ctx, ch); err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		return r.Call, ch
	}
	stay, stayID := dial("2960", "297")
	gone, goneID := dial("2961", "298")
	ups := func(evs []mediacore.Event) int {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendUp })
	}
	// Cut the TCP connection, and end one call while the backend is away
	// (the redial waits at least 100 ms).
	b.mu.Lock()
	c := b.c
	b.mu.Unlock()
	c.close(errors.New("test: connection cut"))
	if err := gone.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	log.wait(t, "BackendDown then BackendUp", func(evs []mediacore.Event) bool { return ups(evs) == 2 })
	log.wait(t, "the ended call's hangup", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventHangup, goneID)) == 1 })
	stay.SendDTMF("37")
	log.wait(t, "digits after the cut", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventDTMF, stayID)) >= 2 })
	if err := b.SendDTMF(ctx, stayID, "1"); err != nil {
		t.Errorf("command after redial: %v", err)
	}
	evs := log.snapshot()
	for typ, want := range map[mediacore.EventType]int{mediacore.EventChannelCreated: 1, mediacore.EventAnswered: 1, mediacore.EventHangup: 0, mediacore.EventDTMF: 2} {
		if n := count(evs, isType(typ, stayID)); n != want {
			t.Errorf("surviving call: %d %v events, want %d", n, typ, want)
		}
	}
	if n := count(evs, isType(mediacore.EventHangup, goneID)); n != 1 {
		t.Errorf("ended call: %d hangups", n)
	}
}

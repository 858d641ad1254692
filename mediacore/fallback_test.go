package mediacore_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediafake"
)

// synth is a Synthesizer that counts its calls and returns 300 ms of
// 8 kHz tone.
type synth struct {
	mu    sync.Mutex
	calls int
}

func (s *synth) Synthesize(ctx context.Context, voice, text string) ([]byte, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	var m testenv.MemFile
	w, err := audio.NewWAVWriter(&m, 1, audio.SampleRate)
	if err != nil {
		return nil, err
	}
	src, err := audio.NewToneSource(audio.Tone{Freqs: []float64{600}, Level: -10})
	if err != nil {
		return nil, err
	}
	buf := make([]int16, 2400)
	if _, err := src.ReadFrame(buf); err != nil {
		return nil, err
	}
	if err := w.WriteFrame(buf); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return m.Bytes(), nil
}

func (s *synth) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestTTSFallbackUploadsOncePerNode(t *testing.T) {
	ctx := context.Background()
	sy := &synth{}
	up := mediafake.Options{Caps: mediafake.Caps{MediaUploader: true}}
	up2 := up
	up2.IDPrefix = "b"
	cl := newCluster(t, mediacore.Options{TTS: sy},
		nodeSpec{"a", up}, nodeSpec{"b", up2},
		nodeSpec{"native-tts", mediafake.Options{IDPrefix: "n", Caps: mediafake.Caps{TTSPlayer: true}}},
		nodeSpec{"bare", mediafake.Options{IDPrefix: "x"}})
	a := cl.answerInbound(t, "a")
	a2 := cl.answerInbound(t, "a")
	b := cl.answerInbound(t, "b")
	hello := mediacore.TTS("en", "Welcome to Hotline")
	name := mediacore.TTSMediaName("en", "Welcome to Hotline")
	for _, ch := range []mediacore.ChannelID{a, a2, b} {
		if _, err := cl.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.ToneFor(mediacore.ToneBeep, 0), hello}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cl.fakes["a"].CallsOf("put_media")); n != 1 {
		t.Fatalf("node a got %d uploads, want 1 (cached)", n)
	}
	if n := len(cl.fakes["b"].CallsOf("put_media")); n != 1 {
		t.Fatalf("node b got %d uploads, want 1", n)
	}
	if _, ok := cl.fakes["a"].Media(name); !ok {
		t.Fatalf("no %s on node a", name)
	}
	if sy.count() != 2 {
		t.Fatalf("%d syntheses, want one per node", sy.count())
	}
	for _, p := range cl.fakes["a"].Played() {
		if !reflect.DeepEqual(p.Media[1], mediacore.File(name)) || p.Media[0].Kind != mediacore.MediaTone {
			t.Fatalf("played %+v, want the tone then %s", p.Media, name)
		}
	}
	// The uploaded prompt plays for its own length (300 ms) after the beep.
	pbs := cl.fakes["a"].Played()
	cl.clk.Advance(499 * time.Millisecond)
	cl.clk.Advance(time.Millisecond)
	cl.rec.wait(t, "tts playback finished", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pbs[0].ID
	})
	// A node that comes back from down may have lost its prompts: the
	// next play uploads again.
	cl.fakes["b"].Down("restart")
	cl.fakes["b"].Up()
	if _, err := cl.core.Play(ctx, mediacore.ChannelTarget(b), mediacore.PlayRequest{Media: []mediacore.Media{hello}}); err != nil {
		t.Fatal(err)
	}
	if n := len(cl.fakes["b"].CallsOf("put_media")); n != 2 {
		t.Fatalf("node b got %d uploads after its restart, want 2", n)
	}
	// Hold music may be TTS too.
	if err := cl.core.Hold(ctx, a, &hello); err != nil {
		t.Fatal(err)
	}
	if n := len(cl.fakes["a"].CallsOf("put_media")); n != 1 {
		t.Fatalf("hold uploaded again: %d", n)
	}
	// A TTS-capable node plays the text itself.
	n := cl.answerInbound(t, "native-tts")
	if _, err := cl.core.Play(ctx, mediacore.ChannelTarget(n), mediacore.PlayRequest{Media: []mediacore.Media{hello}}); err != nil {
		t.Fatal(err)
	}
	if p := cl.fakes["native-tts"].Played(); len(p) != 1 || !reflect.DeepEqual(p[0].Media[0], hello) {
		t.Fatalf("native tts played %+v", p)
	}
	// A node without upload refuses.
	x := cl.answerInbound(t, "bare")
	if _, err := cl.core.Play(ctx, mediacore.ChannelTarget(x), mediacore.PlayRequest{Media: []mediacore.Media{hello}}); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Fatalf("no uploader: %v", err)
	}
	if len(cl.fakes["bare"].CallsOf("play")) != 0 {
		t.Fatal("refused TTS reached the backend")
	}
}

func TestTTSWithoutSynthesizer(t *testing.T) {
	cl := newCluster(t, mediacore.Options{}, nodeSpec{"a", mediafake.Options{Caps: mediafake.Caps{MediaUploader: true}}})
	a := cl.answerInbound(t, "a")
	_, err := cl.core.Play(context.Background(), mediacore.ChannelTarget(a), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.TTS("", "hi")}})
	if !errors.Is(err, mediacore.ErrNotSupported) {
		t.Fatalf("err = %v", err)
	}
}

// splitStereo decodes a 16-bit stereo WAV as written by audio.WAVWriter.
func splitStereo(t *testing.T, b []byte) (left, right []int16) {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical WAV (%d bytes)", len(b))
	}
	if ch := binary.LittleEndian.Uint16(b[22:]); ch != 2 {
		t.Fatalf("%d channels, want 2", ch)
	}
	if rate := binary.LittleEndian.Uint32(b[24:]); rate != 8000 {
		t.Fatalf("rate %d", rate)
	}
	data := b[44:]
	if n := binary.LittleEndian.Uint32(b[40:]); int(n) != len(data) {
		t.Fatalf("data size %d, file holds %d", n, len(data))
	}
	for i := 0; i+4 <= len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right
}

func TestStereoFallbackAssemblesTwoParts(t *testing.T) {
	ctx := context.Background()
	cl := newCluster(t, mediacore.Options{}, nodeSpec{"a", mediafake.Options{ReadTone: 697, WriteTone: 1477}},
		nodeSpec{"st", mediafake.Options{IDPrefix: "s", Caps: mediafake.Caps{StereoRecorder: true}}})
	f := cl.fakes["a"]
	ch := cl.answerInbound(t, "a")
	id, err := cl.core.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Stereo: true, Name: "calls/x.wav"})
	if err != nil {
		t.Fatal(err)
	}
	recs := f.CallsOf("record")
	if len(recs) != 2 || recs[0].Arg != "stereo=false source=1" || recs[1].Arg != "stereo=false source=2" {
		t.Fatalf("backend records %v, want a read and a write part", recs)
	}
	cl.clk.Advance(time.Second)
	if err := cl.core.PauseRecording(ctx, id); err != nil {
		t.Fatal(err)
	}
	cl.clk.Advance(500 * time.Millisecond)
	if err := cl.core.ResumeRecording(ctx, id); err != nil {
		t.Fatal(err)
	}
	cl.clk.Advance(500 * time.Millisecond)
	if n, m := len(f.CallsOf("pause_recording")), len(f.CallsOf("resume_recording")); n != 2 || m != 2 {
		t.Fatalf("pause/resume reached %d/%d parts, want 2/2", n, m)
	}
	if _, err := cl.core.OpenRecording(ctx, id); !errors.Is(err, mediacore.ErrNoSuchRecording) {
		t.Fatalf("open before the end: %v", err)
	}
	if err := cl.core.StopRecording(ctx, id); err != nil {
		t.Fatal(err)
	}
	fin := cl.rec.wait(t, "recording finished", is(mediacore.EventRecordingFinished, ch))
	if fin.Recording != id || fin.Duration != 2*time.Second || fin.Node != "a" {
		t.Fatalf("finished %+v", fin)
	}
	// A marker event on the channel after the parts' events: exactly one
	// RecordingFinished reached the Handler.
	_ = f.PressDTMF(ch, '1')
	cl.rec.wait(t, "marker", is(mediacore.EventDTMF, ch))
	n := 0
	for _, ev := range cl.rec.all() {
		if ev.Type == mediacore.EventRecordingFinished {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d RecordingFinished events, want 1", n)
	}
	rc, err := cl.core.OpenRecording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	left, right := splitStereo(t, b)
	if len(left) != 16000 {
		t.Fatalf("%d frames, want 16000 (2 s)", len(left))
	}
	talk := func(s []int16) []int16 { return s[800:2400] } // within the first second
	if !audio.HasTone(talk(left), 8000, 697) || audio.HasTone(talk(left), 8000, 1477) {
		t.Fatal("left channel should hold the read direction (697 Hz) only")
	}
	if !audio.HasTone(talk(right), 8000, 1477) || audio.HasTone(talk(right), 8000, 697) {
		t.Fatal("right channel should hold the write direction (1477 Hz) only")
	}
	if lvl := audio.LevelDBm0(left[9000:11000]); lvl > -60 {
		t.Fatalf("paused span is not silent: %.1f dBm0", lvl)
	}
	// A bridge in stereo needs the capability.
	if err := cl.core.CreateBridgeOn(ctx, "br", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.core.Record(ctx, mediacore.BridgeTarget("br"), mediacore.RecordRequest{Stereo: true}); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Fatalf("stereo bridge: %v", err)
	}
	// A StereoRecorder node records stereo itself, in one recording.
	s := cl.answerInbound(t, "st")
	if _, err := cl.core.Record(ctx, mediacore.ChannelTarget(s), mediacore.RecordRequest{Stereo: true}); err != nil {
		t.Fatal(err)
	}
	if recs := cl.fakes["st"].CallsOf("record"); len(recs) != 1 || recs[0].Arg != "stereo=true source=0" {
		t.Fatalf("stereo node records %v", recs)
	}
}

func TestStereoFallbackEndsWithChannel(t *testing.T) {
	ctx := context.Background()
	cl := newCluster(t, mediacore.Options{}, nodeSpec{"a", mediafake.Options{}})
	ch := cl.answerInbound(t, "a")
	id, err := cl.core.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Stereo: true})
	if err != nil {
		t.Fatal(err)
	}
	cl.clk.Advance(time.Second)
	if err := cl.fakes["a"].RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	fin := cl.rec.wait(t, "finished", is(mediacore.EventRecordingFinished, ch))
	if fin.Recording != id {
		t.Fatalf("finished %+v", fin)
	}
	var types []mediacore.EventType
	for _, ev := range cl.rec.channel(ch) {
		types = append(types, ev.Type)
	}
	want := []mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventAnswered, mediacore.EventHangup, mediacore.EventRecordingFinished}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

func TestHoldFallback(t *testing.T) {
	ctx := context.Background()
	cl := newCluster(t, mediacore.Options{}, nodeSpec{"a", mediafake.Options{}},
		nodeSpec{"r", mediafake.Options{IDPrefix: "r", Caps: mediafake.Caps{ReinviteHolder: true}}})
	f := cl.fakes["a"]
	x := cl.answerInbound(t, "a")
	y := cl.answerInbound(t, "a")
	if err := cl.core.CreateBridge(ctx, "br"); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []mediacore.ChannelID{x, y} {
		if err := cl.core.AddToBridge(ctx, "br", ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			t.Fatal(err)
		}
	}
	music := mediacore.File("moh/default.wav")
	if err := cl.core.Hold(ctx, x, &music); err != nil {
		t.Fatal(err)
	}
	if len(f.CallsOf("hold")) != 0 {
		t.Fatal("backend Hold called on a node without ReinviteHolder")
	}
	if got := f.CallsOf("remove_from_bridge"); len(got) != 1 || got[0].ID != string(x) {
		t.Fatalf("not taken out of the bridge: %v", got)
	}
	p := f.Played()
	if len(p) != 1 || !p[0].Loop || !reflect.DeepEqual(p[0].Media[0], music) || p[0].Target.Channel != x {
		t.Fatalf("music %+v", p)
	}
	cl.rec.wait(t, "hold", is(mediacore.EventHold, x))
	// Reconcile sees the contract's view: held, still a member of br with
	// its role (the backend alone reports it up and out of the bridge).
	chans, err := cl.core.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chans {
		if c.ID == x && (c.State != mediacore.ChannelHeld || c.Bridge != "br") {
			t.Errorf("locally held channel listed as %v in %q, want held in br", c.State, c.Bridge)
		}
		if c.ID == y && (c.State != mediacore.ChannelUp || c.Bridge != "br") {
			t.Errorf("other channel listed as %v in %q, want up in br", c.State, c.Bridge)
		}
	}
	bridges, err := cl.core.Bridges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bridges) != 1 || len(bridges[0].Members) != 2 || bridges[0].Members[x].Role != mediacore.RoleSpeak {
		t.Errorf("bridges %+v, want br with the held %s speaking", bridges, x)
	}
	if b, ok := cl.core.BridgeOf(x); ok {
		t.Errorf("listing the bridges put the held channel back in %q", b)
	}
	if err := cl.core.Hold(ctx, x, nil); !errors.Is(err, mediacore.ErrChannelState) {
		t.Fatalf("hold twice: %v", err)
	}
	cl.clk.Advance(time.Minute)
	if err := cl.core.Unhold(ctx, x); err != nil {
		t.Fatal(err)
	}
	cl.rec.wait(t, "unhold", is(mediacore.EventUnhold, x))
	if b, ok := cl.core.BridgeOf(x); !ok || b != "br" {
		t.Fatalf("not back in the bridge: %q %v", b, ok)
	}
	_ = f.PressDTMF(x, '1')
	cl.rec.wait(t, "marker", is(mediacore.EventDTMF, x))
	var types []mediacore.EventType
	for _, ev := range cl.rec.channel(x) {
		types = append(types, ev.Type)
	}
	want := []mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventAnswered, mediacore.EventBridgeJoined,
		mediacore.EventBridgeLeft, mediacore.EventHold, mediacore.EventBridgeJoined, mediacore.EventUnhold, mediacore.EventDTMF}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v (hold music's PlaybackFinished hidden)", types, want)
	}
	if err := cl.core.Unhold(ctx, x); !errors.Is(err, mediacore.ErrChannelState) {
		t.Fatalf("unhold twice: %v", err)
	}
	// A ReinviteHolder node holds itself.
	r := cl.answerInbound(t, "r")
	if err := cl.core.Hold(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if len(cl.fakes["r"].CallsOf("hold")) != 1 {
		t.Fatal("backend Hold not used")
	}
}

// ctxKeeper records the context its OpenRecording got.
type ctxKeeper struct {
	mediacore.Backend
	mu  sync.Mutex
	ctx context.Context
}

func (k *ctxKeeper) OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error) {
	k.mu.Lock()
	k.ctx = ctx
	k.mu.Unlock()
	return k.Backend.OpenRecording(ctx, id)
}

func TestOpenRecordingOutlivesTheCommand(t *testing.T) {
	ctx := context.Background()
	f := mediafake.New(mediafake.Options{})
	k := &ctxKeeper{Backend: f.Backend()}
	rec := newRecorder()
	c, err := mediacore.New(k, mediacore.Options{Handler: rec.handle})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch := f.Inbound("1", "2")
	if err := c.Answer(ctx, ch); err != nil {
		t.Fatal(err)
	}
	id, err := c.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StopRecording(ctx, id); err != nil {
		t.Fatal(err)
	}
	rc, err := c.OpenRecording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	octx := k.ctx
	k.mu.Unlock()
	if octx.Err() != nil {
		t.Fatalf("the reader's context ended when OpenRecording returned: %v", octx.Err())
	}
	if _, err := io.ReadAll(rc); err != nil {
		t.Fatal(err)
	}
	_ = rc.Close()
	if octx.Err() == nil {
		t.Fatal("closing the reader did not release its context")
	}
	if _, err := c.OpenRecording(ctx, "unknown"); !errors.Is(err, mediacore.ErrNoSuchRecording) {
		t.Fatalf("unknown recording: %v", err)
	}
}

func TestStereoFallbackSecondPartFails(t *testing.T) {
	ctx := context.Background()
	cl := newCluster(t, mediacore.Options{}, nodeSpec{"a", mediafake.Options{}})
	f := cl.fakes["a"]
	ch := cl.answerInbound(t, "a")
	f.Fail("record", nil) // the read part starts
	f.Fail("record", mediacore.ErrChannelState)
	if _, err := cl.core.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Stereo: true}); !errors.Is(err, mediacore.ErrChannelState) {
		t.Fatalf("err = %v", err)
	}
	if stops := f.CallsOf("stop_recording"); len(stops) != 1 {
		t.Fatalf("the read part was not stopped: %v", f.Calls())
	}
	_ = f.PressDTMF(ch, '1')
	cl.rec.wait(t, "marker", is(mediacore.EventDTMF, ch))
	for _, ev := range cl.rec.all() {
		if ev.Type == mediacore.EventRecordingFinished {
			t.Fatalf("a failed stereo recording's part reached the handler: %+v", ev)
		}
	}
}

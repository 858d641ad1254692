package asterisk

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// TestRealSmoke drives a real Asterisk through a Core in every run: an
// inbound call answered (not before Hotline says so), a tone heard as
// audio, DTMF both ways, an agent originated and bridged (each hears the
// other), a busy agent, and a rejected call with 486.
func TestRealSmoke(t *testing.T) {
	in := asterisk(t, "a")
	b, err := New(in.config(), "ast", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	evs := newEvents()
	core, err := mediacore.New(b, mediacore.Options{Handler: evs.sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	phone := func(user string, cfg sippeer.Config) *sippeer.Phone {
		cfg.User = user
		p, err := sippeer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	typ := func(ch mediacore.ChannelID, ty mediacore.EventType) func(mediacore.Event) bool {
		return func(ev mediacore.Event) bool { return ev.Channel == ch && ev.Type == ty }
	}

	caller := phone("2000", sippeer.Config{})
	res := caller.DialAsync(ctx, "sip:100@"+in.sipAddr)
	cr := evs.wait(t, "inbound", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventChannelCreated && ev.Called == "100" })
	ch := cr.Channel
	select {
	case r := <-res:
		t.Fatalf("call completed before Answer: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	if err := core.Ring(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := core.Answer(ctx, ch); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	call := r.Call
	evs.wait(t, "answered", typ(ch, mediacore.EventAnswered))
	if _, err := core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{
		mediacore.ToneFor(mediacore.Tone{Freqs: []float64{800}}, 2*time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if s := heard(call, 800); audio.ToneRatio(s, audio.SampleRate, 800) < 0.3 {
		t.Errorf("caller did not hear the 800 Hz prompt")
	}
	call.SendDTMF("7#")
	evs.wait(t, "digit #", func(ev mediacore.Event) bool {
		return ev.Channel == ch && ev.Type == mediacore.EventDTMF && ev.Digit == '#'
	})
	if err := core.SendDTMF(ctx, ch, "3"); err != nil {
		t.Fatal(err)
	}

	// Agent originated and bridged.
	agent := phone("1001", sippeer.Config{})
	if code, err := agent.Register(ctx, in.sipAddr, agentPassword, 300); err != nil || code != 200 {
		t.Fatalf("register: %d %v", code, err)
	}
	out, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1001", CallerIDNumber: "4000", Timeout: 10 * time.Second,
		Variables: map[string]string{"Hotline-Call": "c-1"}})
	if err != nil {
		t.Fatal(err)
	}
	var acall *sippeer.Call
	select {
	case acall = <-agent.Incoming():
	case <-time.After(10 * time.Second):
		t.Fatal("agent got no call")
	}
	if v := acall.HeaderValue("X-Hotline-Call"); v != "c-1" {
		t.Errorf("X-Hotline-Call = %q", v)
	}
	evs.wait(t, "agent answered", typ(out, mediacore.EventAnswered))
	if err := core.CreateBridge(ctx, "br1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []mediacore.ChannelID{ch, out} {
		if err := core.AddToBridge(ctx, "br1", c, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			t.Fatal(err)
		}
	}
	call.SetTone(1000)
	acall.SetTone(400)
	if s := heard(call, 400); audio.ToneRatio(s, audio.SampleRate, 400) < 0.3 {
		t.Error("caller does not hear the agent")
	}
	if s := heard(acall, 1000); audio.ToneRatio(s, audio.SampleRate, 1000) < 0.3 {
		t.Error("agent does not hear the caller")
	}
	if err := acall.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, "agent hangup", typ(out, mediacore.EventHangup)); ev.Cause != mediacore.CauseNormal {
		t.Errorf("agent hangup cause %v", ev.Cause)
	}

	// A busy agent; an inbound call rejected busy.
	busy := phone("1101", sippeer.Config{Answer: func(*sip.Request) int { return 486 }})
	if code, err := busy.Register(ctx, in.sipAddr, agentPassword, 300); err != nil || code != 200 {
		t.Fatalf("register: %d %v", code, err)
	}
	bid, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1101", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ev := evs.wait(t, "busy hangup", typ(bid, mediacore.EventHangup)); ev.Cause != mediacore.CauseBusy {
		t.Errorf("busy agent: %v", ev.Cause)
	}
	rej := phone("2101", sippeer.Config{})
	rres := rej.DialAsync(ctx, "sip:501@"+in.sipAddr)
	rc := evs.wait(t, "501", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventChannelCreated && ev.Called == "501" })
	if err := core.Hangup(ctx, rc.Channel, mediacore.CauseBusy); err != nil {
		t.Fatal(err)
	}
	var se *sippeer.StatusError
	if rr := <-rres; !errors.As(rr.Err, &se) || se.Code != 486 {
		t.Errorf("rejected caller got %v, want 486", rr.Err)
	}
	if _, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/9999"}); !errors.Is(err, mediacore.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
}

// heard waits up to 10 s for freq in the last 400 ms the call heard.
func heard(c *sippeer.Call, freq float64) []int16 {
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := c.Heard(400 * time.Millisecond)
		if (len(s) >= 3200 && audio.ToneRatio(s, audio.SampleRate, freq) > 0.3) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

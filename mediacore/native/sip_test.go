package native

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// TestTrunkDigest originates through a trunk that challenges INVITEs with
// 407: the right password gets the call through, a wrong one ends it with
// the carrier's rejection.
func TestTrunkDigest(t *testing.T) {
	carrier, err := sippeer.New(sippeer.Config{User: "carrier", AuthUser: "acct", AuthPassword: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer carrier.Close()
	b := newTestBackend(t, func(c *Config) {
		c.Trunks = []Trunk{
			{Name: "good", Address: carrier.Addr(), Username: "acct", Password: "pw"},
			{Name: "bad", Address: carrier.Addr(), Username: "acct", Password: "wrong"},
		}
	})
	a := startAutoAnswer(t, b)
	ctx := context.Background()
	id, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/10086@good", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-carrier.Incoming():
	case <-time.After(5 * time.Second):
		t.Fatalf("authenticated INVITE did not get through: %+v", channelEvents(a, id))
	}
	id2, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/10086@bad", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, 5*time.Second, func([]mediacore.Event) bool { return hasEvent(channelEvents(a, id2), mediacore.EventHangup, id2) })
	evs := channelEvents(a, id2)
	if last := evs[len(evs)-1]; last.Type != mediacore.EventHangup || last.SIPCode != 407 {
		t.Fatalf("wrong password: last event %+v, want hangup with 407", last)
	}
}

// TestRemoteHold: the caller holds the core with a re-INVITE offering
// sendonly (RFC 3264 §8.4); the core answers recvonly, reports Hold and
// stops sending; a sendrecv re-INVITE resumes audio and reports Unhold.
func TestRemoteHold(t *testing.T) {
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, ch := a.dialIn(ctx, t, b)
	tone := mediacore.ToneFor(mediacore.Tone{Freqs: []float64{900}}, time.Hour)
	if _, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{tone}}); err != nil {
		t.Fatal(err)
	}
	dir, err := call.Reinvite(ctx, "sendonly")
	if err != nil || dir != "recvonly" {
		t.Fatalf("hold answered %q, %v; want recvonly", dir, err)
	}
	time.Sleep(200 * time.Millisecond)
	call.ClearHeard()
	time.Sleep(500 * time.Millisecond)
	if n := len(call.Heard(time.Second)); n > 160 {
		t.Errorf("core kept sending to the holding phone: %d samples", n)
	}
	if !hasEvent(channelEvents(a, ch), mediacore.EventHold, ch) {
		t.Error("no Hold event")
	}
	dir, err = call.Reinvite(ctx, "sendrecv")
	if err != nil || dir != "sendrecv" {
		t.Fatalf("resume answered %q, %v", dir, err)
	}
	call.ClearHeard()
	if !waitAudio(call, 10*time.Second, func(heard []int16) bool { return audio.ToneRatio(heard, audio.SampleRate, 900) >= 0.5 }) {
		t.Errorf("after resume: 900 Hz ratio %.3f", audio.ToneRatio(call.Heard(100*time.Millisecond), audio.SampleRate, 900))
	}
	if !hasEvent(channelEvents(a, ch), mediacore.EventUnhold, ch) {
		t.Error("no Unhold event")
	}
}

// TestOptions: OPTIONS is answered 200 with Allow (RFC 3261 §11.2), on UDP
// and TCP; an unknown method gets 405.
func TestOptions(t *testing.T) {
	b := newTestBackend(t, nil)
	startAutoAnswer(t, b)
	for _, tr := range []string{"UDP", "TCP"} {
		if code := optionsStatus(t, b, tr); code != 200 {
			t.Errorf("%s OPTIONS: %d", tr, code)
		}
		if code := requestStatus(t, b, tr, sip.SUBSCRIBE); code != 405 {
			t.Errorf("%s SUBSCRIBE: %d, want 405", tr, code)
		}
	}
}

func optionsStatus(t *testing.T, b *Backend, transport string) int {
	return requestStatus(t, b, transport, sip.OPTIONS)
}

// requestStatus sends one out-of-dialog request and returns the final
// status; for OPTIONS it also checks the Allow header.
func requestStatus(t *testing.T, b *Backend, transport string, method sip.RequestMethod) int {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: "hotline", Host: "127.0.0.1", Port: int(b.Addr().Port())})
	req.SetTransport(transport)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s %s: %v", transport, method, err)
	}
	if method == sip.OPTIONS && res.StatusCode == 200 {
		if allow := res.GetHeader("Allow"); allow == nil || !strings.Contains(allow.Value(), "INVITE") {
			t.Errorf("%s OPTIONS: Allow %v", transport, allow)
		}
	}
	return res.StatusCode
}

// TestLargeInviteUsesTCP: an INVITE too large for sipgo's UDP limit (many
// originate variables) goes over TCP (RFC 3261 §18.1.1).
func TestLargeInviteUsesTCP(t *testing.T) {
	agent, err := sippeer.New(sippeer.Config{User: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	vars := map[string]string{}
	for i := range 20 {
		vars["Screen-Pop-"+string(rune('A'+i))] = strings.Repeat("x", 60)
	}
	id, err := a.core.Originate(context.Background(), mediacore.OriginateRequest{Endpoint: "sip:agent@" + agent.Addr(), Variables: vars, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case call := <-agent.Incoming():
		if tr := call.Request.Transport(); tr != "TCP" {
			t.Errorf("large INVITE came over %s", tr)
		}
		if v := call.HeaderValue("X-Screen-Pop-T"); v != strings.Repeat("x", 60) {
			t.Errorf("variable header %q", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no call: %+v", channelEvents(a, id))
	}
}

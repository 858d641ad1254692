package native

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
)

// TestReferEdges: a REFER to another host gives its sip: URI; one the
// controller never answers gets 480 after TransferTimeout (and can no
// longer be answered); a Refer-To we cannot use gets 400; Progress fits
// only unanswered inbound calls.
func TestReferEdges(t *testing.T) {
	b := newTestBackend(t, func(c *Config) { c.TransferTimeout = 300 * time.Millisecond })
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, ch := a.answeredIn(ctx, t, b)

	transfers := func() []mediacore.Event {
		var out []mediacore.Event
		for _, ev := range a.snapshot() {
			if ev.Type == mediacore.EventTransferRequested && ev.Channel == ch {
				out = append(out, ev)
			}
		}
		return out
	}
	code, err := call.Refer(ctx, "sip:+8610123@192.0.2.9:5070;transport=udp")
	if err != nil {
		t.Fatal(err)
	}
	if code != 480 {
		t.Errorf("unanswered REFER got %d, want 480", code)
	}
	evs := transfers()
	if len(evs) != 1 || evs[0].ReferTo != "sip:+8610123@192.0.2.9:5070" {
		t.Fatalf("transfer events %+v", evs)
	}
	if err := a.core.Backend().AnswerTransfer(ctx, ch, evs[0].Transfer, true); !errors.Is(err, mediacore.ErrChannelState) {
		t.Errorf("answering a timed-out transfer: %v, want ErrChannelState", err)
	}
	for _, bad := range []string{"tel:+8610123", "sip:@127.0.0.1", "sip:a%0d%0aX-Evil:1@127.0.0.1"} {
		code, err := call.Refer(ctx, bad)
		if err != nil {
			t.Fatal(err)
		}
		if code != 400 {
			t.Errorf("Refer-To %q got %d, want 400", bad, code)
		}
	}
	if n := len(transfers()); n != 1 {
		t.Errorf("%d transfer events, want 1 (bad REFERs must not reach the controller)", n)
	}
	if err := b.Progress(ctx, ch); !errors.Is(err, mediacore.ErrChannelState) {
		t.Errorf("Progress on an answered call: %v, want ErrChannelState", err)
	}
	if err := b.AnswerTransfer(ctx, "nope", "x", true); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestParseReferTo(t *testing.T) {
	for _, tc := range []struct {
		in, uri, replaces string
		ok                bool
	}{
		{"<sip:1002@127.0.0.1:5060>", "sip:1002@127.0.0.1:5060", "", true},
		{`"Bob" <sip:1002@example.net>;x=1`, "sip:1002@example.net", "", true},
		{"sip:1002@127.0.0.1", "sip:1002@127.0.0.1", "", true},
		{"<sip:1002@127.0.0.1?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>", "sip:1002@127.0.0.1", "abc@h;to-tag=1;from-tag=2", true},
		{"<sip:1002@127.0.0.1", "", "", false},
		{"<tel:+123>", "", "", false},
		{"<sip:127.0.0.1>", "", "", false},
		{"<sip:1@h?Replaces=%zz>", "", "", false},
	} {
		u, r, err := parseReferTo(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if tc.ok && (!strings.HasPrefix(u.String(), tc.uri) || r != tc.replaces) {
			t.Errorf("%q: %s %q, want %s %q", tc.in, u.String(), r, tc.uri, tc.replaces)
		}
	}
	if c, to, from, ok := parseReplaces("abc@h;to-tag=1;from-tag=2"); !ok || c != "abc@h" || to != "1" || from != "2" {
		t.Errorf("parseReplaces: %q %q %q %v", c, to, from, ok)
	}
	if _, _, _, ok := parseReplaces("abc@h;to-tag=1"); ok {
		t.Error("Replaces without from-tag accepted")
	}
}

func FuzzParseReferTo(f *testing.F) {
	for _, s := range []string{
		"<sip:1002@127.0.0.1:5060>", `"x" <sip:a@b;transport=tcp?Replaces=c%3Bto-tag%3D1%3Bfrom-tag%3D2&X=1>`,
		"sip:a@b;p", "<", "<>", "<sip:?Replaces=>", "sip:a@[::1]:5060",
	} {
		f.Add(s)
	}
	b := &Backend{host: "127.0.0.1", port: 5060}
	f.Fuzz(func(t *testing.T, s string) {
		u, r, err := parseReferTo(s)
		if err != nil {
			return
		}
		parseReplaces(r)
		if ep, err := b.referTarget(u); err == nil {
			if _, err := mediacore.ParseEndpoint(ep); err != nil {
				t.Fatalf("referTarget(%q) = %q, not an endpoint: %v", s, ep, err)
			}
		}
	})
}

// TestProgressSameSDP: the 200 after a 183 carries the very same SDP
// (same o= version: one answer to one offer, RFC 3264 §5 and §8), and a
// second Progress sends no second 183 nor a second Progress event.
func TestProgressSameSDP(t *testing.T) {
	b := newTestBackend(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, 1)
	progress := make(chan struct{}, 4)
	answerNow := make(chan struct{})
	var core *mediacore.Core
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		switch {
		case ev.Type == mediacore.EventProgress:
			progress <- struct{}{}
		case ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound:
			go func() {
				err := b.Progress(ctx, ev.Channel)
				if err == nil {
					err = b.Progress(ctx, ev.Channel)
				}
				if err == nil {
					// Answer once the phone has the 183: sipgo drops a
					// provisional that it processes after the 200.
					<-answerNow
					err = core.Answer(ctx, ev.Channel)
				}
				errs <- err
			}()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	p, err := sippeer.New(sippeer.Config{User: "early"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	early, res := p.DialEarly(ctx, "sip:100@"+b.Addr().String())
	select {
	case <-early:
	case <-ctx.Done():
		t.Fatal("no 183 with SDP")
	}
	close(answerNow)
	r := <-res
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	earlySDP, answer := r.Call.SDPs()
	if len(earlySDP) == 0 || string(earlySDP) != string(answer) {
		t.Errorf("183 SDP:\n%s\n200 SDP:\n%s", earlySDP, answer)
	}
	<-progress
	select {
	case <-progress:
		t.Error("two Progress events")
	case <-time.After(200 * time.Millisecond):
	}
}

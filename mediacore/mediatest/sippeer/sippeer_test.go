package sippeer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/mediacore/audio"
)

// TestPhoneToPhone checks the test phone itself: a call between two phones
// carries each one's tone to the other, RFC 4733 digits arrive, a reject
// code reaches the caller, and BYE ends both sides.
func TestPhoneToPhone(t *testing.T) {
	a, err := New(Config{User: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(Config{User: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, "sip:b@"+b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var cb *Call
	select {
	case cb = <-b.Incoming():
	case <-time.After(5 * time.Second):
		t.Fatal("no incoming call")
	}
	ca.SetTone(1000)
	cb.SetTone(400)
	// Wait on the audio itself, not a fixed settle: a loaded machine only
	// makes the wait longer.
	hears(t, "b", cb, 1000)
	hears(t, "a", ca, 400)
	ca.SendDTMF("7#")
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && len(cb.DTMFEnds()) < 6 {
		time.Sleep(20 * time.Millisecond)
	}
	if got := cb.DTMFEnds(); len(got) != 6 || got[0] != 7 || got[3] != 11 {
		t.Errorf("end packets %v, want 3x 7 then 3x 11", got)
	}
	if err := ca.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cb.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("callee did not see BYE")
	}

	r, err := New(Config{User: "r", Answer: func(*sip.Request) int { return 486 }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = a.Dial(ctx, "sip:r@"+r.Addr())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 486 {
		t.Fatalf("dial to rejecting phone: %v", err)
	}
}

// TestEarlyMediaPhoneToPhone: a phone with EarlyMedia sends 183 with SDP
// and its tone before answering; DialEarly hears it before the answer and
// keeps both SDPs.
func TestEarlyMediaPhoneToPhone(t *testing.T) {
	a, err := New(Config{User: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(Config{User: "b", EarlyMedia: true, AnswerDelay: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	early, res := a.DialEarly(ctx, "sip:b@"+b.Addr())
	var ca *Call
	select {
	case ca = <-early:
	case r := <-res:
		t.Fatalf("answered (%v) before any early media", r.Err)
	}
	// b's early call sends silence until told otherwise; a's tone goes
	// the other way, and a hears b's RTP before the answer.
	deadline := time.Now().Add(5 * time.Second)
	for len(ca.Heard(200*time.Millisecond)) < 1600 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(ca.Heard(200 * time.Millisecond)); n < 1600 {
		t.Fatalf("early media: heard %d samples", n)
	}
	r := <-res
	if r.Err != nil || r.Call != ca {
		t.Fatalf("dial: %v (same call %v)", r.Err, r.Call == ca)
	}
	if e, ans := ca.SDPs(); len(e) == 0 || len(ans) == 0 {
		t.Errorf("SDPs: 183 %d bytes, 200 %d bytes", len(e), len(ans))
	}
}

// hears waits (up to 10 s) until the last 400 ms c heard are freq, at a
// ratio a wrong or mixed tone cannot reach.
func hears(t *testing.T, who string, c *Call, freq float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := c.Heard(400 * time.Millisecond)
		r := audio.ToneRatio(s, audio.SampleRate, freq)
		if len(s) >= 3200 && r >= 0.8 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s hears %v Hz with ratio %.3f over %d samples", who, freq, r, len(s))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

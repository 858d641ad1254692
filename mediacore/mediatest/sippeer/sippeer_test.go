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
	time.Sleep(600 * time.Millisecond)
	if r := audio.ToneRatio(cb.Heard(400*time.Millisecond), audio.SampleRate, 1000); r < 0.8 {
		t.Errorf("b hears 1 kHz with ratio %.3f", r)
	}
	if r := audio.ToneRatio(ca.Heard(400*time.Millisecond), audio.SampleRate, 400); r < 0.8 {
		t.Errorf("a hears 400 Hz with ratio %.3f", r)
	}
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

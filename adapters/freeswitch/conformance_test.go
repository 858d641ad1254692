package freeswitch

import (
	"context"
	"os"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/mediatest"
	"hotline/mediacore/mediatest/sippeer"
)

// harness runs the media contract's conformance suite against the real
// FreeSWITCH: phones call its SIP port (the overlay parks every call),
// agent phones register as directory users (deploy/freeswitch/test).
type harness struct{ in *fsInstance }

func (h harness) NewBackend(t *testing.T) mediacore.Backend {
	b, err := New(h.in.config())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h harness) InboundURI(_ mediacore.Backend, called string) string {
	return "sip:" + called + "@" + h.in.sip
}

func (h harness) RegisterUser(t *testing.T, b mediacore.Backend, p *sippeer.Phone, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Contacts of earlier scenarios' phones (same user, closed since)
	// would be forked to as well.
	_, _ = b.(*Backend).api(ctx, "sofia profile hotline flush_inbound_reg "+user+"@127.0.0.1")
	code, err := p.Register(ctx, h.in.sip, testPassword, 300)
	if err != nil || code != 200 {
		t.Fatalf("register %s: %d %v", user, code, err)
	}
	// The registration is usable when the switch lists its contact.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		v, err := b.(*Backend).api(ctx, "sofia_contact */"+user+"@127.0.0.1")
		if err == nil && v != "" && v[0] != 'e' && v[0] != '-' {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("register %s: the switch lists no contact", user)
}

func (h harness) ReadRecording(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestConformance(t *testing.T) {
	in := mainSwitch(t)
	mediatest.Run(t, harness{in})
}

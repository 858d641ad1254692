package registrar

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

var testLimits = limits{min: 60 * time.Second, max: 3600 * time.Second, maxContacts: 3}

func upd(callID string, cseq uint32, contacts ...contactUpdate) update {
	return update{user: "1001", callID: callID, cseq: cseq, source: "127.0.0.1:5060", transport: "UDP", contacts: contacts}
}

func ct(uri string, secs int) contactUpdate {
	return contactUpdate{key: uri, uri: uri, expires: time.Duration(secs) * time.Second}
}

func kinds(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind.String()+":"+e.Contact.URI+":"+e.Reason.String())
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// step is one REGISTER applied to a store at t0+at.
type step struct {
	at         time.Duration
	u          update
	wantErr    error
	wantURIs   []string // bindings afterwards, as Lookup returns them
	wantEvents []string
}

func TestBindingsApply(t *testing.T) {
	const a, b, c, d = "sip:a@h", "sip:b@h", "sip:c@h", "sip:d@h"
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "register, refresh, unregister", steps: []step{
			{u: upd("x", 1, ct(a, 600)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{at: time.Minute, u: upd("x", 2, ct(a, 600)), wantURIs: []string{a}},
			{at: 2 * time.Minute, u: upd("x", 3, ct(a, 0)), wantEvents: []string{"unregistered:sip:a@h:removed"}},
		}},
		{name: "same Call-ID, CSeq not higher, aborts with 500 semantics", steps: []step{
			{u: upd("x", 5, ct(a, 600)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{u: upd("x", 5, ct(a, 0)), wantErr: errOutOfOrder, wantURIs: []string{a}},
			{u: upd("x", 4, ct(a, 0)), wantErr: errOutOfOrder, wantURIs: []string{a}},
			{u: upd("x", 4, ct(b, 600)), wantURIs: []string{a, b}, wantEvents: []string{"registered:sip:b@h:"}},
		}},
		{name: "other Call-ID may have a lower CSeq", steps: []step{
			{u: upd("x", 9, ct(a, 600)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{u: upd("y", 1, ct(a, 600)), wantURIs: []string{a}},
			{u: upd("y", 1, ct(a, 0)), wantErr: errOutOfOrder, wantURIs: []string{a}},
		}},
		{name: "atomic: one out-of-order contact aborts the others", steps: []step{
			{u: upd("x", 2, ct(a, 600)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{u: upd("x", 2, ct(b, 600), ct(a, 600)), wantErr: errOutOfOrder, wantURIs: []string{a}},
		}},
		{name: "too brief is refused before any change, zero is allowed", steps: []step{
			{u: upd("x", 1, ct(a, 600)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{u: upd("x", 2, ct(b, 600), ct(a, 59)), wantErr: errIntervalTooBrief, wantURIs: []string{a}},
			{u: upd("x", 3, ct(b, 60), ct(a, 0)), wantURIs: []string{b},
				wantEvents: []string{"registered:sip:b@h:", "unregistered:sip:a@h:removed"}},
		}},
		{name: "wildcard removes all", steps: []step{
			{u: upd("x", 1, ct(a, 600), ct(b, 600)), wantURIs: []string{a, b},
				wantEvents: []string{"registered:sip:a@h:", "registered:sip:b@h:"}},
			{u: func() update { u := upd("x", 1); u.wildcard = true; return u }(), wantErr: errOutOfOrder, wantURIs: []string{a, b}},
			{u: func() update { u := upd("x", 2); u.wildcard = true; return u }(),
				wantEvents: []string{"unregistered:sip:a@h:removed", "unregistered:sip:b@h:removed"}},
		}},
		{name: "wildcard with contacts is a bad request", steps: []step{
			{u: func() update { u := upd("x", 2, ct(a, 0)); u.wildcard = true; return u }(), wantErr: errBadRequest},
		}},
		{name: "contact cap evicts the binding closest to expiry", steps: []step{
			{u: upd("x", 1, ct(a, 600), ct(b, 300), ct(c, 900)), wantURIs: []string{a, b, c},
				wantEvents: []string{"registered:sip:a@h:", "registered:sip:b@h:", "registered:sip:c@h:"}},
			{u: upd("y", 1, ct(d, 600)), wantURIs: []string{a, c, d},
				wantEvents: []string{"unregistered:sip:b@h:evicted", "registered:sip:d@h:"}},
		}},
		{name: "more contacts than the cap in one request", steps: []step{
			{u: upd("x", 1, ct(a, 600), ct(b, 600), ct(c, 600), ct(d, 600)), wantErr: errTooManyContacts},
		}},
		{name: "expired binding leaves with the next update and gets its event", steps: []step{
			{u: upd("x", 1, ct(a, 60)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{at: 61 * time.Second, u: upd("x", 2, ct(b, 600)), wantURIs: []string{b},
				wantEvents: []string{"unregistered:sip:a@h:expired", "registered:sip:b@h:"}},
		}},
		{name: "re-register after expiry is a new binding", steps: []step{
			{u: upd("x", 1, ct(a, 60)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{at: 60 * time.Second, u: upd("x", 2, ct(a, 60)), wantURIs: []string{a},
				wantEvents: []string{"unregistered:sip:a@h:expired", "registered:sip:a@h:"}},
		}},
		{name: "query without contacts changes nothing", steps: []step{
			{u: upd("x", 1, ct(a, 600)), wantURIs: []string{a}, wantEvents: []string{"registered:sip:a@h:"}},
			{u: upd("z", 1), wantURIs: []string{a}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBindings()
			for i, st := range tt.steps {
				now := t0.Add(st.at)
				got, events, err := s.apply(now, st.u, testLimits)
				if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
					t.Fatalf("step %d: err = %v, want %v", i, err, st.wantErr)
				}
				if err == nil {
					var gotURIs []string
					for _, c := range got {
						gotURIs = append(gotURIs, c.URI)
					}
					if !equalStrings(gotURIs, st.wantURIs) {
						t.Errorf("step %d: response contacts %v, want %v", i, gotURIs, st.wantURIs)
					}
				}
				var lookedUp []string
				for _, c := range s.lookup("1001", now) {
					lookedUp = append(lookedUp, c.URI)
				}
				if !equalStrings(lookedUp, st.wantURIs) {
					t.Errorf("step %d: lookup %v, want %v", i, lookedUp, st.wantURIs)
				}
				if !equalStrings(kinds(events), st.wantEvents) {
					t.Errorf("step %d: events %v, want %v", i, kinds(events), st.wantEvents)
				}
			}
		})
	}
}

func TestBindingsExpiryClamp(t *testing.T) {
	s := newBindings()
	got, _, err := s.apply(t0, upd("x", 1, ct("sip:a@h", 100000)), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(testLimits.max); len(got) != 1 || !got[0].Expires.Equal(want) {
		t.Fatalf("contacts %+v, want expiry clamped to %v", got, want)
	}
	var ie *intervalError
	_, _, err = s.apply(t0, upd("x", 2, ct("sip:a@h", 30)), testLimits)
	if !errors.As(err, &ie) || ie.min != testLimits.min {
		t.Fatalf("err = %v, want intervalError with min %v", err, testLimits.min)
	}
}

func TestBindingsRefreshKeepsRegistered(t *testing.T) {
	s := newBindings()
	u := upd("x", 1, ct("sip:a@h", 600))
	u.userAgent = "phone/1"
	if _, _, err := s.apply(t0, u, testLimits); err != nil {
		t.Fatal(err)
	}
	u = upd("x", 2, ct("sip:a@h", 600))
	u.source, u.userAgent = "127.0.0.1:6000", "phone/2"
	if _, _, err := s.apply(t0.Add(time.Minute), u, testLimits); err != nil {
		t.Fatal(err)
	}
	got := s.lookup("1001", t0.Add(time.Minute))
	if len(got) != 1 {
		t.Fatalf("lookup = %+v", got)
	}
	c := got[0]
	if !c.Registered.Equal(t0) || !c.Expires.Equal(t0.Add(11*time.Minute)) || c.CSeq != 2 ||
		c.Source != "127.0.0.1:6000" || c.UserAgent != "phone/2" || c.Transport != "UDP" || c.CallID != "x" {
		t.Errorf("refreshed contact = %+v", c)
	}
}

func TestBindingsSweep(t *testing.T) {
	s := newBindings()
	if _, _, err := s.apply(t0, upd("x", 1, ct("sip:a@h", 60), ct("sip:b@h", 120)), testLimits); err != nil {
		t.Fatal(err)
	}
	if ev := s.sweep(t0.Add(59 * time.Second)); len(ev) != 0 {
		t.Fatalf("early sweep: %v", kinds(ev))
	}
	// Lookup hides an expired binding before the sweep reports it.
	if got := s.lookup("1001", t0.Add(60*time.Second)); len(got) != 1 || got[0].URI != "sip:b@h" {
		t.Fatalf("lookup at expiry = %+v", got)
	}
	if ev := kinds(s.sweep(t0.Add(60 * time.Second))); !equalStrings(ev, []string{"unregistered:sip:a@h:expired"}) {
		t.Fatalf("sweep at 60 s: %v", ev)
	}
	if ev := kinds(s.sweep(t0.Add(60 * time.Second))); len(ev) != 0 {
		t.Fatalf("second sweep repeats events: %v", ev)
	}
	if ev := kinds(s.sweep(t0.Add(time.Hour))); !equalStrings(ev, []string{"unregistered:sip:b@h:expired"}) {
		t.Fatalf("sweep later: %v", ev)
	}
	if n := s.count(); n != 0 {
		t.Errorf("%d bindings left", n)
	}
}

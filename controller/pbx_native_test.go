package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/acd"
	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/sipdigest"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native"
	"hotline/mediacore/native/registrar"
)

// pbxCenter is the call path over the native core on loopback for the
// PBX tests: agents 1001..1004 of team "blue" (1004 of team "red") with
// SIP passwords, a queue "sales" of 1001 and the number 801 routed to it.
type pbxCenter struct {
	*nativeCenter
	ids map[string]string // extension -> agent id
}

func newPBXCenter(t *testing.T, opts ...harnessOpt) *pbxCenter {
	t.Helper()
	return newPBXCenterWith(t, nil, opts...)
}

// newPBXCenterWith is newPBXCenter with the native node's configuration
// changed by mutate.
func newPBXCenterWith(t *testing.T, mutate func(*native.Config), opts ...harnessOpt) *pbxCenter {
	t.Helper()
	ctx := t.Context()
	st := memstore.New(nil)
	cfg := native.Config{Listen: "127.0.0.1:0", MediaDir: t.TempDir(), AllowUnknownSources: true,
		Credentials: AgentCredentials{Agents: st.Agents()}, SetupTimeout: 30 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := native.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ccp atomic.Pointer[CallCenter]
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleMedia(ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ctl, err := New(ctx, Options{Store: st, Media: core, OnACDEvents: func(evs []acd.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleACD(evs)
		}
	}, ACDOptions: []acd.Option{acd.WithRand(rand.New(rand.NewPCG(1, 2)))}})
	if err != nil {
		t.Fatal(err)
	}
	n := &nativeCenter{t: t, b: b, core: core, st: st, ctl: ctl, j: &memJournal{}, recs: &memRecStore{}}
	o := CallCenterOptions{Controller: ctl, Media: core, Journal: n.j, Recordings: n.recs}
	for _, f := range opts {
		f(&o)
	}
	cc, err := NewCallCenter(o)
	if err != nil {
		t.Fatal(err)
	}
	ccp.Store(cc)
	n.cc = cc
	t.Cleanup(func() {
		cc.Close()
		_ = ctl.Close()
		_ = core.Close()
	})
	p := &pbxCenter{nativeCenter: n, ids: map[string]string{}}
	for _, ext := range []string{"1001", "1002", "1003", "1004"} {
		team := "blue"
		if ext == "1004" {
			team = "red"
		}
		ag := store.Agent{Name: "Agent " + ext, Extension: ext, Team: team,
			SIPHA1MD5:    sipdigest.HA1(sipdigest.MD5, ext, registrar.DefaultRealm, e2ePassword),
			SIPHA1SHA256: sipdigest.HA1(sipdigest.SHA256, ext, registrar.DefaultRealm, e2ePassword)}
		if err := ctl.Agents().Create(ctx, &ag); err != nil {
			t.Fatal(err)
		}
		p.ids[ext] = ag.ID
	}
	n.agent = p.ids["1001"]
	q := store.Queue{Name: "sales", Strategy: store.StrategyLongestIdle, RingTimeout: 20, WrapUp: 1,
		JoinWhenNoAgents: true, Members: []store.QueueMember{{AgentID: n.agent}}}
	if err := ctl.Queues().Create(ctx, &q); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Numbers().Create(ctx, &store.Number{Number: "801",
		Route: store.Target{Kind: store.TargetQueue, Value: q.ID}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// settings stores an extension's PBX settings (and mobile number).
func (p *pbxCenter) settings(ext, mobile string, s store.PBXSettings) {
	p.t.Helper()
	ctx := p.t.Context()
	a, err := p.ctl.Agents().Get(ctx, p.ids[ext])
	if err != nil {
		p.t.Fatal(err)
	}
	a.PBX, a.MobileNumber = &s, mobile
	if err := p.ctl.Agents().Update(ctx, &a); err != nil {
		p.t.Fatal(err)
	}
	// The live copy (storedAgent) follows the change feed.
	eventually(p.t, "settings applied", 5*time.Second, func() bool {
		got, ok, _ := p.ctl.storedAgent(ctx, p.ids[ext])
		return ok && got.PBX != nil && *got.PBX == s && got.MobileNumber == mobile
	})
}

// allEnded waits until the call path has ended every call: a phone sees
// its BYE answered before the controller has processed the hangup, and an
// extension still counted as talking is busy to the next call.
func (p *pbxCenter) allEnded(t *testing.T) {
	t.Helper()
	eventually(t, "every call ended", 10*time.Second, func() bool {
		calls, err := p.cc.Calls(t.Context(), admin)
		return err == nil && len(calls) == 0
	})
}

// phone starts a sippeer phone for ext, registered unless cfg says
// otherwise, and waits until the call path knows it registered.
func (p *pbxCenter) phone(ext string, register bool, cfg sippeer.Config) *sippeer.Phone {
	p.t.Helper()
	cfg.User = ext
	ph, err := sippeer.New(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(ph.Close)
	if register {
		ctx, cancel := context.WithTimeout(p.t.Context(), 10*time.Second)
		defer cancel()
		if code, err := ph.Register(ctx, p.b.Addr().String(), e2ePassword, 300); err != nil || code != 200 {
			p.t.Fatalf("register %s: %d, %v", ext, code, err)
		}
		eventually(p.t, ext+" registered", 5*time.Second, func() bool { return p.cc.registered(ext) })
	}
	return ph
}

// ringing never answers (the caller or the call path cancels first).
var ringing = sippeer.Config{AnswerDelay: time.Hour}

func incoming(t *testing.T, ph *sippeer.Phone, what string) *sippeer.Call {
	t.Helper()
	select {
	case c := <-ph.Incoming():
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no call answered", what)
		return nil
	}
}

// hears waits until call hears the tone.
func hears(t *testing.T, who string, c *sippeer.Call, freq float64) {
	t.Helper()
	eventually(t, who+" hears "+strconv.FormatFloat(freq, 'f', 0, 64)+" Hz", 10*time.Second, func() bool {
		return audio.HasTone(c.Heard(time.Second), audio.SampleRate, freq)
	})
}

// talkBoth checks that two connected phones hear each other's tones.
func talkBoth(t *testing.T, a, b *sippeer.Call, fa, fb float64) {
	t.Helper()
	a.SetTone(fa)
	b.SetTone(fb)
	hears(t, "a", a, fb)
	hears(t, "b", b, fa)
}

func (p *pbxCenter) cdrWhere(f func(store.CDR) bool) func() bool {
	return func() bool { return slices.ContainsFunc(p.j.CDRs(), f) }
}

func (p *pbxCenter) dial(ph *sippeer.Phone, number string) *sippeer.Call {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), 30*time.Second)
	defer cancel()
	c, err := ph.Dial(ctx, p.uri(number))
	if err != nil {
		p.t.Fatalf("dial %s: %v", number, err)
	}
	return c
}

// dialAsync dials without waiting for the answer.
func (p *pbxCenter) dialAsync(ph *sippeer.Phone, number string) <-chan sippeer.DialResult {
	return ph.DialAsync(p.t.Context(), p.uri(number))
}

// A registered phone dials another extension: it rings, answers, each
// hears the other; the CDR is an internal call answered by 1002.
func TestPBXExtensionCall(t *testing.T) {
	p := newPBXCenter(t)
	a := p.phone("1001", true, sippeer.Config{})
	b := p.phone("1002", true, sippeer.Config{})
	ca := p.dial(a, "1002")
	cb := incoming(t, b, "1002")
	if from := cb.HeaderValue("From"); !strings.Contains(from, "1001") {
		t.Errorf("1002 sees caller %q", from)
	}
	talkBoth(t, ca, cb, 600, 1400)
	if err := ca.Hangup(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-cb.Done()
	eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(c store.CDR) bool {
		return c.Direction == "internal" && c.Outcome == store.OutcomeAnswered && c.Extension == "1002" &&
			c.Caller == "1001" && c.Called == "1002" && c.HangupSide == store.SideCaller
	}))
}

// Forward and do-not-disturb: 1002's phone answers busy (486) and the
// call goes to its busy forward 1003; with DND 1002 does not ring at all
// (forwarded, or refused busy without a forward); forward always skips
// 1002; no answer after the timeout goes to the no-answer forward.
func TestPBXForwardAndDND(t *testing.T) {
	p := newPBXCenter(t)
	a := p.phone("1001", true, sippeer.Config{})
	var rung atomic.Int32 // INVITEs 1002's phone received
	p.phone("1002", true, sippeer.Config{Answer: func(*sip.Request) int { rung.Add(1); return 486 }})
	c := p.phone("1003", true, sippeer.Config{})

	t.Run("busy", func(t *testing.T) {
		p.settings("1002", "", store.PBXSettings{ForwardBusy: "1003"})
		ca := p.dial(a, "1002")
		cc := incoming(t, c, "1003")
		talkBoth(t, ca, cc, 700, 1300)
		_ = ca.Hangup(t.Context())
		<-cc.Done()
		p.allEnded(t)
		eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
			return r.Extension == "1003" && len(r.Transfers) == 1 && r.Transfers[0].Kind == "forward-busy" &&
				r.Transfers[0].From == "1002" && r.Transfers[0].Target == "1003"
		}))
	})
	t.Run("dnd refuses busy", func(t *testing.T) {
		p.settings("1002", "", store.PBXSettings{DND: true})
		before := rung.Load()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		_, err := a.Dial(ctx, p.uri("1002"))
		if err == nil || !strings.Contains(err.Error(), "486") {
			t.Fatalf("dial 1002 in DND: %v (want 486)", err)
		}
		if rung.Load() != before {
			t.Errorf("1002 in DND was rung")
		}
	})
	t.Run("dnd forwards", func(t *testing.T) {
		p.settings("1002", "", store.PBXSettings{DND: true, ForwardBusy: "1003"})
		ca := p.dial(a, "1002")
		cc := incoming(t, c, "1003")
		talkBoth(t, ca, cc, 700, 1300)
		_ = ca.Hangup(t.Context())
		<-cc.Done()
		p.allEnded(t)
	})
	t.Run("always", func(t *testing.T) {
		p.settings("1002", "", store.PBXSettings{ForwardAlways: "1003"})
		before := rung.Load()
		ca := p.dial(a, "1002")
		cc := incoming(t, c, "1003")
		talkBoth(t, ca, cc, 700, 1300)
		if rung.Load() != before {
			t.Errorf("1002 forwarded always was rung")
		}
		_ = ca.Hangup(t.Context())
		<-cc.Done()
		p.allEnded(t)
	})
	t.Run("no answer", func(t *testing.T) {
		p.phone("1004", true, ringing)
		p.settings("1004", "", store.PBXSettings{NoAnswerTimeout: 2, ForwardNoAnswer: "1003"})
		ca := p.dial(a, "1004")
		cc := incoming(t, c, "1003")
		talkBoth(t, ca, cc, 700, 1300)
		_ = ca.Hangup(t.Context())
		<-cc.Done()
		p.allEnded(t)
		eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
			return r.Extension == "1003" && len(r.Transfers) == 1 && r.Transfers[0].Kind == "forward-no-answer"
		}))
	})
}

// carrier is a sippeer phone playing the mobile network behind a stored
// trunk: calls to tel/ numbers reach it.
func (p *pbxCenter) carrier(cfg sippeer.Config) *sippeer.Phone {
	p.t.Helper()
	cfg.User = "carrier"
	ph, err := sippeer.New(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(ph.Close)
	host, port, _ := strings.Cut(ph.Addr(), ":")
	pn, _ := strconv.Atoi(port)
	tr := store.Trunk{Name: "mobile", Host: host, Port: pn, Transport: store.TransportUDP, Enabled: true}
	if err := p.ctl.Trunks().Create(p.t.Context(), &tr); err != nil {
		p.t.Fatal(err)
	}
	return ph
}

// Follow-me (R1.7): agent 1001's queue offer rings its mobile through a
// trunk (a sippeer "carrier"): only the mobile when the desk phone is not
// registered; desk and mobile together (the desk is cancelled when the
// mobile answers); or the desk first and the mobile after the delay.
func TestPBXFollowMe(t *testing.T) {
	const mobile = "+8613900000001"
	for _, tc := range []struct {
		name     string
		mode     string
		register bool
	}{
		{"desk unregistered rings only the mobile", store.FollowMeSimultaneous, false},
		{"simultaneous", store.FollowMeSimultaneous, true},
		{"sequential", store.FollowMeSequential, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPBXCenter(t)
			carrier := p.carrier(sippeer.Config{AnswerDelay: 300 * time.Millisecond})
			desk := p.phone("1001", tc.register, ringing)
			p.settings("1001", mobile, store.PBXSettings{FollowMe: tc.mode, FollowMeDelay: 1})
			if _, err := p.cc.SetAgentState(t.Context(), admin, p.agent, AgentStateRequest{State: "ready"}); err != nil {
				t.Fatal(err)
			}
			caller, err := sippeer.New(sippeer.Config{User: "13800000001"})
			if err != nil {
				t.Fatal(err)
			}
			defer caller.Close()
			cc := p.dial(caller, "801")
			cm := incoming(t, carrier, "mobile")
			if to := cm.Request.Recipient.User; to != mobile {
				t.Errorf("the carrier was asked for %q", to)
			}
			talkBoth(t, cc, cm, 600, 1400)
			if tc.register {
				eventually(t, "desk cancelled", 10*time.Second, func() bool { return desk.Cancelled() == 1 })
			}
			_ = cc.Hangup(t.Context())
			<-cm.Done()
			eventually(t, "CDR", 10*time.Second, func() bool { return len(p.j.CDRs()) == 1 })
			cdr := p.j.CDRs()[0]
			var roles []string
			var deskStart, mobileStart time.Time
			for _, l := range cdr.Legs[1:] {
				roles = append(roles, l.Role+" "+l.Endpoint)
				switch l.Role {
				case "agent":
					deskStart = l.Start
				case "agent-mobile":
					mobileStart = l.Start
				}
			}
			want := []string{"agent user/1001", "agent-mobile tel/" + mobile}
			if !tc.register {
				want = want[1:]
			}
			if !slices.Equal(roles, want) || cdr.Outcome != store.OutcomeAnswered || cdr.AgentID != p.agent {
				t.Errorf("CDR legs %q, outcome %s, agent %s", roles, cdr.Outcome, cdr.AgentID)
			}
			if tc.mode == store.FollowMeSequential && mobileStart.Sub(deskStart) < time.Second {
				t.Errorf("the mobile rang %v after the desk (want the 1 s follow-me delay)", mobileStart.Sub(deskStart))
			}
		})
	}
}

// Call pickup: 1001 calls 1002, whose phone rings; 1003 (same team)
// dials *8 and talks with 1001, 1002's ringing is cancelled; **1002 from
// 1004 (another team) picks up directly, while 1004's *8 finds nothing.
func TestPBXPickup(t *testing.T) {
	for _, tc := range []struct{ name, picker, code string }{
		{"group", "1003", "*8"},
		{"directed", "1004", "**1002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPBXCenter(t)
			a := p.phone("1001", true, sippeer.Config{})
			b := p.phone("1002", true, ringing)
			picker := p.phone(tc.picker, true, sippeer.Config{})
			res := p.dialAsync(a, "1002")
			eventually(t, "1002 rings", 10*time.Second, func() bool {
				me, _, _ := p.ctl.storedAgent(t.Context(), p.ids["1004"])
				return p.cc.findPickup(me, "1002") != nil
			})
			if tc.code == "**1002" {
				// 1004 is of team red: group pickup does not reach 1002.
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				_, err := picker.Dial(ctx, p.uri("*8"))
				cancel()
				if err == nil || !strings.Contains(err.Error(), "404") {
					t.Fatalf("*8 from another team: %v (want 404)", err)
				}
			}
			cp := p.dial(picker, tc.code)
			var ca *sippeer.Call
			select {
			case r := <-res:
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				ca = r.Call
			case <-time.After(10 * time.Second):
				t.Fatal("1001's call not answered by the pickup")
			}
			talkBoth(t, ca, cp, 600, 1400)
			eventually(t, "1002's ringing cancelled", 10*time.Second, func() bool { return b.Cancelled() == 1 })
			_ = ca.Hangup(t.Context())
			<-cp.Done()
			eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
				return r.Caller == "1001" && r.Outcome == store.OutcomeAnswered && r.Extension == tc.picker &&
					r.Variables["pickup_by"] == tc.picker
			}))
		})
	}
}

// Call parking: 1002 answers 1001 and transfers it to 700 (park on the
// first free slot): 1001 hears music; 1003 dials the slot and talks with
// 1001. Parked again and left there, the call rings back 1002 after the
// park timeout (5 s: long enough to hear the music first).
func TestPBXParkAndRetrieve(t *testing.T) {
	p := newPBXCenter(t, func(o *CallCenterOptions) { o.ParkTimeout = 5 * time.Second })
	a := p.phone("1001", true, sippeer.Config{})
	b := p.phone("1002", true, sippeer.Config{})
	c := p.phone("1003", true, sippeer.Config{})
	park := func() *sippeer.Call {
		t.Helper()
		ca := p.dial(a, "1002")
		cb := incoming(t, b, "1002")
		talkBoth(t, ca, cb, 600, 1400)
		if code, err := cb.Refer(t.Context(), p.uri(ParkAny)); err != nil || code != 202 {
			t.Fatalf("REFER to the park: %d, %v", code, err)
		}
		<-cb.Done()
		eventually(t, "parked", 10*time.Second, func() bool { return slices.Equal(p.cc.parkedSlots(), []string{"701"}) })
		// Music on hold: the chime's two notes.
		eventually(t, "music while parked", 10*time.Second, func() bool {
			h := ca.Heard(2 * time.Second)
			return audio.HasTone(h, audio.SampleRate, holdTone.Freqs[0]) && audio.HasTone(h, audio.SampleRate, holdTone.Freqs[1])
		})
		return ca
	}
	t.Run("retrieve", func(t *testing.T) {
		ca := park()
		cc := p.dial(c, "701")
		talkBoth(t, ca, cc, 700, 1300)
		if len(p.cc.parkedSlots()) != 0 {
			t.Errorf("slots still taken: %v", p.cc.parkedSlots())
		}
		_ = ca.Hangup(t.Context())
		<-cc.Done()
		eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
			return r.Variables["park_slot"] == "701" && r.Variables["retrieve_by"] == "1003" && r.Extension == "1003"
		}))
	})
	t.Run("timeout back to the parker", func(t *testing.T) {
		ca := park()
		cb := incoming(t, b, "1002 rung back")
		talkBoth(t, ca, cb, 800, 1200)
		_ = ca.Hangup(t.Context())
		<-cb.Done()
		eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
			return r.Variables["park_returned_to"] == "1002"
		}))
	})
}

// Ring groups: simultaneous rings 1002 and 1003 together (1003 answers,
// 1002 is cancelled); sequential rings 1002 for the ring time, then
// 1003. Reached by the group's number from a phone and as the route of a
// number from outside.
func TestPBXRingGroup(t *testing.T) {
	for _, strategy := range []string{store.RingSimultaneous, store.RingSequential} {
		t.Run(strategy, func(t *testing.T) {
			p := newPBXCenter(t)
			a := p.phone("1001", true, sippeer.Config{})
			b := p.phone("1002", true, ringing)
			c := p.phone("1003", true, sippeer.Config{AnswerDelay: 500 * time.Millisecond})
			g := store.RingGroup{Name: "support", Number: "600", Strategy: strategy, Members: []string{"1002", "1003"},
				RingTimeout: 2}
			if err := p.ctl.RingGroups().Create(t.Context(), &g); err != nil {
				t.Fatal(err)
			}
			if err := p.ctl.Numbers().Create(t.Context(), &store.Number{Number: "802",
				Route: store.Target{Kind: store.TargetRingGroup, Value: g.ID}}); err != nil {
				t.Fatal(err)
			}
			outside, err := sippeer.New(sippeer.Config{User: "13800000001"})
			if err != nil {
				t.Fatal(err)
			}
			defer outside.Close()
			for i, dial := range []func() *sippeer.Call{
				func() *sippeer.Call { return p.dial(a, "600") },
				func() *sippeer.Call { return p.dial(outside, "802") },
			} {
				ca := dial()
				cc := incoming(t, c, "1003")
				talkBoth(t, ca, cc, 600, 1400)
				eventually(t, "1002 cancelled", 10*time.Second, func() bool { return b.Cancelled() == i+1 })
				_ = ca.Hangup(t.Context())
				<-cc.Done()
				eventually(t, "CDR", 10*time.Second, func() bool { return len(p.j.CDRs()) == i+1 })
				cdr := p.j.CDRs()[i]
				var b2, c3 store.CDRLeg
				for _, l := range cdr.Legs {
					switch l.Endpoint {
					case "user/1002":
						b2 = l
					case "user/1003":
						c3 = l
					}
				}
				if cdr.Extension != "1003" || cdr.Variables["ring_group"] != "support" || b2.Role != "ring-group" {
					t.Errorf("CDR %+v", cdr)
				}
				// Simultaneous: 1003 rang before 1002 stopped; sequential: after.
				if together := c3.Start.Before(b2.End); together != (strategy == store.RingSimultaneous) {
					t.Errorf("1002 rang %v-%v, 1003 from %v", b2.Start, b2.End, c3.Start)
				}
			}
		})
	}
}

// Pickup and park over the live control (the REST surface's calls): 1001
// calls 1002, whose phone rings; PickUp for 1003 rings 1003's phone,
// which takes the call (1002 is cancelled; 1004 of another team may not);
// Park then parks 1001 on the first free slot, 1003's leg ends, 1001
// hears music, and 1002 dialling the slot talks with 1001.
func TestPBXLivePickupAndPark(t *testing.T) {
	p := newPBXCenter(t)
	a := p.phone("1001", true, sippeer.Config{})
	b := p.phone("1002", true, ringing)
	c := p.phone("1003", true, sippeer.Config{})
	// The team's CTI stream (its supervisor) sees the ringing call, with the
	// id a pickup over REST names.
	sub, err := p.cc.Events().Subscribe(func(e *cti.Event) bool {
		return e.Type == "call.ringing" && slices.Contains(e.Audience.Teams, "blue")
	}, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	res := p.dialAsync(a, "1002")
	var id string
	eventually(t, "1002 rings", 10*time.Second, func() bool {
		calls, _ := p.cc.Calls(t.Context(), admin)
		if len(calls) == 1 && calls[0].State == "ringing" {
			id = calls[0].ID
		}
		me, _, _ := p.ctl.storedAgent(t.Context(), p.ids["1003"])
		return id != "" && p.cc.findPickup(me, "1002") != nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	ev, err := sub.Next(ctx)
	cancel()
	if err != nil || ev.CallID != id || !strings.Contains(string(ev.Payload), `"extension":"1002"`) {
		t.Fatalf("call.ringing to the team: %+v, %v", ev, err)
	}
	red := Actor{UserID: "u4", Role: store.RoleAgent, AgentID: p.ids["1004"]}
	if err := p.cc.PickUp(t.Context(), red, id, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("pickup by another team: %v", err)
	}
	blue := Actor{UserID: "u3", Role: store.RoleAgent, AgentID: p.ids["1003"]}
	if err := p.cc.PickUp(t.Context(), blue, id, ""); err != nil {
		t.Fatal(err)
	}
	cc := incoming(t, c, "1003")
	r := <-res
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	ca := r.Call
	talkBoth(t, ca, cc, 600, 1400)
	eventually(t, "1002 cancelled", 10*time.Second, func() bool { return b.Cancelled() == 1 })
	if err := p.cc.PickUp(t.Context(), blue, id, ""); !errors.Is(err, ErrNothingToPickUp) {
		t.Errorf("pickup of a talking call: %v", err)
	}

	if _, err := p.cc.Park(t.Context(), red, id, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("park by another agent: %v", err)
	}
	if _, err := p.cc.Park(t.Context(), blue, id, "799"); !errors.Is(err, ErrInvalidSlot) {
		t.Fatalf("park on 799: %v", err)
	}
	slot, err := p.cc.Park(t.Context(), blue, id, "")
	if err != nil || slot != "701" {
		t.Fatalf("park: %q, %v", slot, err)
	}
	<-cc.Done()
	eventually(t, "music while parked", 10*time.Second, func() bool {
		h := ca.Heard(2 * time.Second)
		return audio.HasTone(h, audio.SampleRate, holdTone.Freqs[0]) && audio.HasTone(h, audio.SampleRate, holdTone.Freqs[1])
	})
	cb := p.dial(b, "701") // 1002 retrieves from its phone
	talkBoth(t, ca, cb, 700, 1300)
	_ = ca.Hangup(t.Context())
	<-cb.Done()
	eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
		return r.ID == id && r.Variables["pickup_by"] == "1003" && r.Variables["park_slot"] == "701" &&
			r.Variables["retrieve_by"] == "1002"
	}))
}

// toneTTS speaks every text as a 900 Hz tone of 1.5 s and remembers the
// texts: the announcement is heard as audio and its words are checked.
type toneTTS struct {
	dir   string
	mu    sync.Mutex
	texts []string
}

func (tt *toneTTS) Synthesize(_ context.Context, voice, text string) (string, error) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.texts = append(tt.texts, voice+":"+text)
	path := filepath.Join(tt.dir, fmt.Sprintf("tts-%d.wav", len(tt.texts)))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	w, err := audio.NewWAVWriter(f, 1, audio.SampleRate)
	if err != nil {
		return "", err
	}
	pcm := make([]int16, audio.SampleRate*3/2)
	for i := range pcm {
		pcm[i] = int16(0.3 * 32767 * math.Sin(2*math.Pi*900*float64(i)/audio.SampleRate))
	}
	if err := w.WriteFrame(pcm); err != nil {
		return "", err
	}
	return path, w.Close()
}

func (tt *toneTTS) said() []string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return slices.Clone(tt.texts)
}

// The work number announcement (座席工号播报): when agent 1001 answers a
// queue call, the caller hears "工号 1 2 3 4 为您服务" before the agent
// (the TTS plays a tone for it), and only then the two are bridged.
func TestPBXWorkNumberAnnouncement(t *testing.T) {
	tts := &toneTTS{dir: t.TempDir()}
	p := newPBXCenterWith(t, func(c *native.Config) { c.TTS = tts })
	desk := p.phone("1001", true, sippeer.Config{})
	p.settings("1001", "", store.PBXSettings{AnnounceWorkNumber: true, WorkNumber: "1234"})
	if _, err := p.cc.SetAgentState(t.Context(), admin, p.agent, AgentStateRequest{State: "ready"}); err != nil {
		t.Fatal(err)
	}
	caller, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	cc := p.dial(caller, "801")
	cc.SetTone(600)
	ca := incoming(t, desk, "1001")
	ca.SetTone(1400)
	eventually(t, "the caller hears the announcement", 10*time.Second, func() bool {
		return audio.HasTone(cc.Heard(300*time.Millisecond), audio.SampleRate, 900)
	})
	if audio.HasTone(ca.Heard(300*time.Millisecond), audio.SampleRate, 600) {
		t.Error("the agent hears the caller during the announcement")
	}
	hears(t, "the caller", cc, 1400)
	hears(t, "the agent", ca, 600)
	if said := tts.said(); !slices.Contains(said, "zh:工号 1 2 3 4 为您服务。") {
		t.Errorf("TTS said %q", said)
	}
	_ = cc.Hangup(t.Context())
	<-ca.Done()
	eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool { return r.Variables["work_number"] == "1234" }))
}

// Follow-me of an extension call: 1002's desk phone is not registered,
// so 1001 calling 1002 rings only 1002's mobile through the trunk.
func TestPBXFollowMeExtensionCall(t *testing.T) {
	const mobile = "+8613900000002"
	p := newPBXCenter(t)
	// The carrier on its own loopback address: the trunk is known by its
	// source address, and the phones' calls must not look like its.
	carrier := p.carrier(sippeer.Config{IP: "127.0.0.2"})
	a := p.phone("1001", true, sippeer.Config{})
	p.settings("1002", mobile, store.PBXSettings{FollowMe: store.FollowMeSequential, FollowMeDelay: 30})
	ca := p.dial(a, "1002")
	cm := incoming(t, carrier, "mobile")
	if to := cm.Request.Recipient.User; to != mobile {
		t.Errorf("the carrier was asked for %q", to)
	}
	talkBoth(t, ca, cm, 600, 1400)
	_ = ca.Hangup(t.Context())
	<-cm.Done()
	eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
		return r.Direction == "internal" && len(r.Legs) == 2 && r.Legs[1].Role == "mobile" &&
			r.Legs[1].Endpoint == "tel/"+mobile && r.Outcome == store.OutcomeAnswered
	}))
}

// A sequential ring group goes on to the next member at once when one
// refuses busy, rather than after its ring time (30 s here: the test
// would wait for 1003 in vain).
func TestPBXRingGroupSkipsABusyMember(t *testing.T) {
	p := newPBXCenter(t)
	a := p.phone("1001", true, sippeer.Config{})
	p.phone("1002", true, sippeer.Config{Answer: func(*sip.Request) int { return 486 }})
	c := p.phone("1003", true, sippeer.Config{})
	g := store.RingGroup{Name: "support", Number: "600", Strategy: store.RingSequential,
		Members: []string{"1002", "1003"}, RingTimeout: 30}
	if err := p.ctl.RingGroups().Create(t.Context(), &g); err != nil {
		t.Fatal(err)
	}
	ca := p.dial(a, "600")
	cc := incoming(t, c, "1003")
	talkBoth(t, ca, cc, 600, 1400)
	_ = ca.Hangup(t.Context())
	<-cc.Done()
	eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
		return r.Extension == "1003" && len(r.Legs) == 3 && r.Legs[1].Cause == "busy"
	}))
}

// Sequential follow-me of a queue offer whose desk phone refuses busy:
// the mobile rings at once instead of after the delay (30 s here: the
// test would wait for the carrier in vain), and the offer stands.
func TestPBXFollowMeDeskBusy(t *testing.T) {
	const mobile = "+8613900000003"
	p := newPBXCenter(t)
	carrier := p.carrier(sippeer.Config{IP: "127.0.0.2"})
	p.phone("1001", true, sippeer.Config{Answer: func(*sip.Request) int { return 486 }})
	p.settings("1001", mobile, store.PBXSettings{FollowMe: store.FollowMeSequential, FollowMeDelay: 30})
	if _, err := p.cc.SetAgentState(t.Context(), admin, p.agent, AgentStateRequest{State: "ready"}); err != nil {
		t.Fatal(err)
	}
	caller, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	cc := p.dial(caller, "801")
	cm := incoming(t, carrier, "mobile")
	talkBoth(t, cc, cm, 600, 1400)
	_ = cc.Hangup(t.Context())
	<-cm.Done()
	eventually(t, "CDR", 10*time.Second, func() bool { return len(p.j.CDRs()) == 1 })
	if cdr := p.j.CDRs()[0]; cdr.AgentID != p.agent || cdr.Outcome != store.OutcomeAnswered || len(cdr.Legs) != 3 ||
		cdr.Legs[1].Cause != "busy" || cdr.Legs[2].Role != "agent-mobile" {
		t.Errorf("CDR %+v", cdr)
	}
}

// Pickup of a ringing queue offer: queue "sales" offers a caller to 1001,
// whose phone rings; 1002 (same team, no member of the queue, not-ready)
// dials *8, or 1004 (another team) dials **1001, and talks with the
// caller. The ACD moved the offer: 1001 is cancelled and ready again with
// no no-answer counted, the picker is busy with the call and back to its
// not-ready reason after the wrap-up, the CDR names the picker as the
// agent who answered, and the CTI stream announces the pickup.
func TestPBXPickupQueueOffer(t *testing.T) {
	for _, tc := range []struct{ name, picker, code string }{
		{"group", "1002", "*8"},
		{"directed", "1004", "**1001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPBXCenter(t)
			desk := p.phone("1001", true, ringing)
			picker := p.phone(tc.picker, true, sippeer.Config{})
			pickerID := p.ids[tc.picker]
			sub, err := p.cc.Events().Subscribe(func(e *cti.Event) bool { return e.Type == "call.pickup" }, cti.Live)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			ctx := t.Context()
			if _, err := p.cc.SetAgentState(ctx, admin, p.agent, AgentStateRequest{State: "ready"}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.cc.SetAgentState(ctx, admin, pickerID, AgentStateRequest{State: "not-ready", Reason: "training"}); err != nil {
				t.Fatal(err)
			}
			caller, err := sippeer.New(sippeer.Config{User: "13800000001"})
			if err != nil {
				t.Fatal(err)
			}
			defer caller.Close()
			cc := p.dial(caller, "801")
			me, _, _ := p.ctl.storedAgent(ctx, pickerID)
			var id string
			eventually(t, "the offer rings 1001", 10*time.Second, func() bool {
				w := p.cc.findPickup(me, "1001")
				if w != nil {
					id = w.c.id
				}
				return w != nil
			})
			// Over REST a queue offer is not picked up (by phone only).
			if err := p.cc.PickUp(ctx, admin, id, pickerID); !errors.Is(err, ErrNothingToPickUp) {
				t.Fatalf("REST pickup of a queue offer: %v", err)
			}
			cp := p.dial(picker, tc.code)
			talkBoth(t, cc, cp, 600, 1400)
			eventually(t, "1001's ringing cancelled", 10*time.Second, func() bool { return desk.Cancelled() == 1 })
			eventually(t, "1001 ready again", 10*time.Second, func() bool {
				st, err := p.ctl.acd.Agent(ctx, acd.AgentID(p.agent))
				return err == nil && st.State == acd.StateReady
			})
			if st, _ := p.ctl.acd.Agent(ctx, acd.AgentID(p.agent)); st.NoAnswers != 0 {
				t.Errorf("1001 counted %d no-answers for a picked-up offer", st.NoAnswers)
			}
			if st, _ := p.ctl.acd.Agent(ctx, acd.AgentID(pickerID)); st.State != acd.StateBusy || string(st.Call) != id {
				t.Errorf("the picker: %+v (want busy with %s)", st, id)
			}
			ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
			ev, err := sub.Next(ectx)
			cancel()
			if err != nil || ev.CallID != id || ev.AgentID != pickerID ||
				!strings.Contains(string(ev.Payload), `"extension":"`+tc.picker+`"`) {
				t.Fatalf("call.pickup on the CTI stream: %+v, %v", ev, err)
			}
			_ = cc.Hangup(ctx)
			<-cp.Done()
			var cdr store.CDR
			eventually(t, "CDR", 10*time.Second, p.cdrWhere(func(r store.CDR) bool {
				if r.ID == id {
					cdr = r
				}
				return r.ID == id
			}))
			var roles []string
			for _, l := range cdr.Legs[1:] {
				roles = append(roles, l.Role+" "+l.AgentID)
			}
			if cdr.Outcome != store.OutcomeAnswered || cdr.AgentID != pickerID || cdr.Extension != tc.picker ||
				cdr.Variables["pickup_by"] != tc.picker || cdr.QueueName != "sales" ||
				!slices.Equal(roles, []string{"agent " + p.agent, "pickup " + pickerID}) {
				t.Errorf("CDR: outcome %s, agent %s, extension %s, vars %v, queue %s, legs %q", cdr.Outcome,
					cdr.AgentID, cdr.Extension, cdr.Variables, cdr.QueueName, roles)
			}
			eventually(t, "the picker back to its reason after the wrap-up", 10*time.Second, func() bool {
				st, err := p.ctl.acd.Agent(ctx, acd.AgentID(pickerID))
				return err == nil && st.State == acd.StateNotReady && st.Reason == "training"
			})
		})
	}
}

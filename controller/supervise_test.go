package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/internal/sipdigest"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediafake"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native/registrar"
)

// The tones of the supervision tests: each party sends its own, and what
// each hears is checked as audio (Goertzel).
const (
	supCallerTone = 600.0
	supAgentTone  = 1400.0
	supTone       = 2200.0
)

var supTones = []float64{supCallerTone, supAgentTone, supTone}

// supervised is a native call center with a caller talking to agent 1001
// (a sippeer phone at a fixed sip: device), and a supervisor's phone.
type supervised struct {
	n       *nativeCenter
	ctx     context.Context
	callID  string
	caller  *sippeer.Call
	agent   *sippeer.Call
	supPh   *sippeer.Phone
	supDev  string
	ctiMu   sync.Mutex
	ctiEvs  []cti.Event
	blueSup Actor
}

func newSupervised(t *testing.T, mutate func(n *nativeCenter)) *supervised {
	t.Helper()
	n := newNativeCenter(t, nil)
	if mutate != nil {
		mutate(n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	s := &supervised{n: n, ctx: ctx, blueSup: Actor{UserID: "u-sup-blue", Role: store.RoleSupervisor, Team: "blue"}}
	sub, err := n.cc.Events().Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := sub.Next(context.Background())
			if err != nil {
				return
			}
			s.ctiMu.Lock()
			s.ctiEvs = append(s.ctiEvs, ev)
			s.ctiMu.Unlock()
		}
	}()
	t.Cleanup(func() { sub.Close(); <-done })
	phone := func(user string) *sippeer.Phone {
		p, err := sippeer.New(sippeer.Config{User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	agentPh, callerPh := phone("1001"), phone("13800000001")
	s.supPh = phone("sup")
	s.supDev = "sip:sup@" + s.supPh.Addr()
	if _, err := n.cc.SetAgentState(ctx, admin, n.agent, AgentStateRequest{State: "ready",
		Device: "sip:1001@" + agentPh.Addr()}); err != nil {
		t.Fatal(err)
	}
	s.caller, err = callerPh.Dial(ctx, n.uri("800"))
	if err != nil {
		t.Fatal(err)
	}
	s.caller.SetTone(supCallerTone)
	s.caller.SendDTMF("1")
	select {
	case s.agent = <-agentPh.Incoming():
	case <-ctx.Done():
		t.Fatal("the agent's phone never rang")
	}
	s.agent.SetTone(supAgentTone)
	eventually(t, "talking", 15*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		if len(calls) == 1 && calls[0].State == "talking" {
			s.callID = calls[0].ID
			return true
		}
		return false
	})
	hearsExactly(t, "caller before supervision", s.caller, supAgentTone)
	hearsExactly(t, "agent before supervision", s.agent, supCallerTone)
	return s
}

func (s *supervised) events(typ string) []cti.Event {
	s.ctiMu.Lock()
	defer s.ctiMu.Unlock()
	var out []cti.Event
	for _, e := range s.ctiEvs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (s *supervised) waitCTI(t *testing.T, typ string, n int) cti.Event {
	t.Helper()
	eventually(t, fmt.Sprintf("%d %s event(s)", n, typ), 15*time.Second, func() bool { return len(s.events(typ)) >= n })
	return s.events(typ)[n-1]
}

// superviseAnswered starts a supervision in mode and returns the
// supervisor's answered call, sending supTone.
func (s *supervised) superviseAnswered(t *testing.T, by Actor, mode string) *sippeer.Call {
	t.Helper()
	joins := len(s.events("call.supervise_joined"))
	v, err := s.n.cc.Supervise(s.ctx, by, s.callID, SuperviseRequest{Mode: mode, Device: s.supDev})
	if err != nil {
		t.Fatalf("supervise %s: %v", mode, err)
	}
	if v.State != "ringing" || v.Mode != mode || v.UserID != by.UserID || v.AgentID != s.n.agent {
		t.Errorf("supervision view %+v", v)
	}
	var sc *sippeer.Call
	select {
	case sc = <-s.supPh.Incoming():
	case <-s.ctx.Done():
		t.Fatal("the supervisor's phone never rang")
	}
	sc.SetTone(supTone)
	joined := s.waitCTI(t, "call.supervise_joined", joins+1)
	if p := payload(t, joined); p["mode"] != mode || p["by"] != by.UserID || joined.CallID != s.callID {
		t.Errorf("supervise_joined %+v", p)
	}
	return sc
}

// hearsExactly waits until what c heard over the last 600 ms holds
// exactly the tones want among supTones (each wanted one strong, every
// other one absent), or fails after a generous deadline: a wrong mix
// never passes, a slow machine only waits longer.
func hearsExactly(t *testing.T, who string, c *sippeer.Call, want ...float64) {
	t.Helper()
	c.ClearHeard()
	const window = 600 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for {
		if s := c.Heard(window); len(s) >= int(window.Seconds()*audio.SampleRate) {
			if err = supToneMix(s, want); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("not enough audio")
			}
			t.Errorf("%s should hear exactly %v Hz: %v", who, want, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func supToneMix(s []int16, want []float64) error {
	var bad []string
	sum := 0.0
	for _, f := range supTones {
		r := audio.ToneRatio(s, audio.SampleRate, f)
		if slices.Contains(want, f) {
			sum += r
			if r < 0.6/float64(len(want)) {
				bad = append(bad, fmt.Sprintf("%v Hz too weak (%.2f)", f, r))
			}
		} else if r > 0.05 {
			bad = append(bad, fmt.Sprintf("%v Hz present (%.2f)", f, r))
		}
	}
	if len(want) > 0 && sum < 0.8 {
		bad = append(bad, fmt.Sprintf("the wanted tones hold only %.2f of the energy", sum))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// A supervisor of the agent's team listens (neither the caller nor the
// agent hears it; it hears both), whispers (only the agent hears it),
// barges (both do) and goes back to listening, all on one answered leg
// switched live; stopping hangs the supervisor's phone up and leaves the
// conversation as it was; then the supervisor forces the call's hangup,
// and the CDR says so.
func TestSuperviseListenWhisperBarge(t *testing.T) {
	s := newSupervised(t, nil)
	sup := s.blueSup
	sc := s.superviseAnswered(t, sup, SuperviseListen)
	check := func(mode string, caller, agent []float64) {
		t.Helper()
		hearsExactly(t, mode+": caller", s.caller, caller...)
		hearsExactly(t, mode+": agent", s.agent, agent...)
		hearsExactly(t, mode+": supervisor", sc, supCallerTone, supAgentTone)
	}
	check("listen", []float64{supAgentTone}, []float64{supCallerTone})
	if _, err := s.n.cc.Supervise(s.ctx, sup, s.callID, SuperviseRequest{Mode: SuperviseBarge, Device: s.supDev}); !errors.Is(err, ErrAlreadySupervising) {
		t.Errorf("supervise twice: %v", err)
	}
	for _, st := range []struct {
		mode          string
		caller, agent []float64
	}{
		{SuperviseWhisper, []float64{supAgentTone}, []float64{supCallerTone, supTone}},
		{SuperviseBarge, []float64{supAgentTone, supTone}, []float64{supCallerTone, supTone}},
		{SuperviseListen, []float64{supAgentTone}, []float64{supCallerTone}},
	} {
		v, err := s.n.cc.SetSuperviseMode(s.ctx, sup, s.callID, st.mode)
		if err != nil || v.Mode != st.mode || v.State != "active" {
			t.Fatalf("switch to %s: %+v, %v", st.mode, v, err)
		}
		check(st.mode, st.caller, st.agent)
	}
	if v, err := s.n.cc.Supervision(s.ctx, sup, s.callID); err != nil || v.Mode != SuperviseListen || v.State != "active" || v.Device != s.supDev {
		t.Errorf("supervision %+v, %v", v, err)
	}
	if _, err := s.n.cc.Supervision(s.ctx, admin, s.callID); !errors.Is(err, ErrNotSupervising) {
		t.Errorf("another user's supervision: %v", err)
	}
	if got := len(s.events("call.supervise_mode")); got != 3 {
		t.Errorf("%d supervise_mode events, want 3", got)
	}
	for _, e := range append(s.events("call.supervise_started"), s.events("call.supervise_joined")...) {
		// Supervisors of the team see it; the agent listened to does not.
		if !cti.ForPrincipal(cti.RoleSupervisor, "", []string{"blue"})(&e) || cti.ForPrincipal(cti.RoleAgent, s.n.agent, nil)(&e) {
			t.Errorf("%s audience %+v agent %q", e.Type, e.Audience, e.AgentID)
		}
	}

	if err := s.n.cc.StopSupervise(s.ctx, sup, s.callID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sc.Done():
	case <-s.ctx.Done():
		t.Fatal("the supervisor's phone was not hung up")
	}
	if p := payload(t, s.waitCTI(t, "call.supervise_ended", 1)); p["reason"] != "stopped" {
		t.Errorf("supervise_ended %+v", p)
	}
	if err := s.n.cc.StopSupervise(s.ctx, sup, s.callID); !errors.Is(err, ErrNotSupervising) {
		t.Errorf("stop twice: %v", err)
	}
	hearsExactly(t, "caller after supervision", s.caller, supAgentTone)
	hearsExactly(t, "agent after supervision", s.agent, supCallerTone)

	// Force hangup: both phones are hung up, the CDR names who.
	if err := s.n.cc.ForceHangup(s.ctx, sup, s.callID); err != nil {
		t.Fatal(err)
	}
	for who, c := range map[string]*sippeer.Call{"caller": s.caller, "agent": s.agent} {
		select {
		case <-c.Done():
		case <-s.ctx.Done():
			t.Fatalf("the %s's phone was not hung up", who)
		}
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(s.n.j.CDRs()) == 1 })
	cdr := s.n.j.CDRs()[0]
	if cdr.Variables["forced_hangup_by"] != sup.UserID || cdr.HangupSide != store.SideSystem ||
		cdr.Outcome != store.OutcomeAnswered || !slices.ContainsFunc(cdr.Legs, func(l store.CDRLeg) bool {
		return l.Role == "supervisor" && l.Endpoint == s.supDev && l.Answer != nil
	}) {
		t.Errorf("CDR = %+v", cdr)
	}
	if len(s.events("call.force_hangup")) != 1 {
		t.Error("no call.force_hangup event")
	}
}

// The supervisor sits at a registered extension (user/1009), and its leg
// ends with the conversation: when the caller hangs up while the
// supervisor barges in, its phone is hung up too.
func TestSuperviseEndsWithCall(t *testing.T) {
	s := newSupervised(t, nil)
	// 1009 is a seat of the team's supervisor (no queue rings it).
	seat := store.Agent{Name: "Supervisor desk", Extension: "1009", Team: "blue",
		SIPHA1MD5:    sipdigest.HA1(sipdigest.MD5, "1009", registrar.DefaultRealm, e2ePassword),
		SIPHA1SHA256: sipdigest.HA1(sipdigest.SHA256, "1009", registrar.DefaultRealm, e2ePassword)}
	if err := s.n.ctl.Agents().Create(s.ctx, &seat); err != nil {
		t.Fatal(err)
	}
	ph, err := sippeer.New(sippeer.Config{User: "1009"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ph.Close)
	if code, err := ph.Register(s.ctx, s.n.b.Addr().String(), e2ePassword, 300); err != nil || code != 200 {
		t.Fatalf("register: %d, %v", code, err)
	}
	s.supPh, s.supDev = ph, "user/1009"
	// The supervisor hangs up its own phone: the supervision ends, and
	// it may start another one.
	sc := s.superviseAnswered(t, admin, SuperviseListen)
	if err := sc.Hangup(s.ctx); err != nil {
		t.Fatal(err)
	}
	if p := payload(t, s.waitCTI(t, "call.supervise_ended", 1)); p["reason"] != "supervisor-hangup" {
		t.Errorf("supervise_ended %+v", p)
	}
	sc = s.superviseAnswered(t, admin, SuperviseBarge)
	hearsExactly(t, "caller hears the barging supervisor", s.caller, supAgentTone, supTone)
	if err := s.caller.Hangup(s.ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sc.Done():
	case <-s.ctx.Done():
		t.Fatal("the supervisor's phone was not hung up with the call")
	}
	if p := payload(t, s.waitCTI(t, "call.supervise_ended", 2)); p["reason"] != "conversation-ended" {
		t.Errorf("supervise_ended %+v", p)
	}
}

// Permissions on a live call: a supervisor of another team, an agent (even
// the call's own) and a reporter are refused every supervisor action; a
// supervisor of another team may not change the state of the agent
// either, while one of its team may. A recording is started on demand on
// a call whose queue records nothing.
func TestSupervisePermissionsAndRecordingOnDemand(t *testing.T) {
	s := newSupervised(t, func(n *nativeCenter) {
		ctx := n.t.Context()
		pg, err := n.ctl.Queues().List(ctx, store.ListOptions{Limit: 10})
		if err != nil || len(pg.Items) != 1 {
			n.t.Fatalf("queues %+v, %v", pg, err)
		}
		q := pg.Items[0]
		q.Recording = store.RecordingPolicy{Mode: store.RecordNone}
		if err := n.ctl.Queues().Update(ctx, &q); err != nil {
			n.t.Fatal(err)
		}
	})
	red := Actor{UserID: "u-sup-red", Role: store.RoleSupervisor, Team: "red"}
	noTeam := Actor{UserID: "u-sup-none", Role: store.RoleSupervisor}
	agent := Actor{UserID: "u-agent", Role: store.RoleAgent, AgentID: s.n.agent}
	reporter := Actor{UserID: "u-rep", Role: store.RoleReporter}
	req := SuperviseRequest{Mode: SuperviseListen, Device: s.supDev}
	for _, by := range []Actor{red, noTeam, agent, reporter} {
		t.Run(by.UserID, func(t *testing.T) {
			if _, err := s.n.cc.Supervise(s.ctx, by, s.callID, req); !errors.Is(err, ErrForbidden) {
				t.Errorf("supervise: %v", err)
			}
			if _, err := s.n.cc.SetSuperviseMode(s.ctx, by, s.callID, SuperviseBarge); !errors.Is(err, ErrForbidden) {
				t.Errorf("switch mode: %v", err)
			}
			if err := s.n.cc.StopSupervise(s.ctx, by, s.callID); !errors.Is(err, ErrForbidden) {
				t.Errorf("stop: %v", err)
			}
			if err := s.n.cc.ForceHangup(s.ctx, by, s.callID); !errors.Is(err, ErrForbidden) {
				t.Errorf("force hangup: %v", err)
			}
			if err := s.n.cc.StartRecording(s.ctx, by, s.callID); !errors.Is(err, ErrForbidden) {
				t.Errorf("start recording: %v", err)
			}
		})
	}
	for _, by := range []Actor{red, noTeam} {
		if _, err := s.n.cc.SetAgentState(s.ctx, by, s.n.agent, AgentStateRequest{State: "not-ready"}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s sets the agent's state: %v", by.UserID, err)
		}
	}
	// Bad requests and unknown calls.
	if _, err := s.n.cc.Supervise(s.ctx, s.blueSup, s.callID, SuperviseRequest{Mode: "spy", Device: s.supDev}); !errors.Is(err, ErrInvalidMode) {
		t.Errorf("bad mode: %v", err)
	}
	if _, err := s.n.cc.Supervise(s.ctx, s.blueSup, s.callID, SuperviseRequest{Mode: SuperviseListen, Device: "phone 7"}); !errors.Is(err, ErrInvalidDevice) {
		t.Errorf("bad device: %v", err)
	}
	if err := s.n.cc.ForceHangup(s.ctx, s.blueSup, "call-nope"); !errors.Is(err, ErrNoSuchCall) {
		t.Errorf("unknown call: %v", err)
	}
	if _, err := s.n.cc.Supervise(s.ctx, s.blueSup, s.callID, SuperviseRequest{Mode: SuperviseListen, Device: "user/1099"}); !errors.Is(err, ErrDeviceUnreachable) {
		t.Errorf("unregistered device: %v", err)
	}
	if _, err := s.n.cc.SetSuperviseMode(s.ctx, s.blueSup, s.callID, SuperviseBarge); !errors.Is(err, ErrNotSupervising) {
		t.Errorf("switch without supervising: %v", err)
	}
	// Nobody heard anything of it.
	hearsExactly(t, "caller", s.caller, supAgentTone)

	// A supervisor of the team starts the recording; the queue records
	// nothing by itself.
	if calls, _ := s.n.cc.Calls(s.ctx, admin); len(calls) != 1 || calls[0].Recording != "" {
		t.Fatalf("calls %+v", calls)
	}
	if err := s.n.cc.StartRecording(s.ctx, s.blueSup, s.callID); err != nil {
		t.Fatal(err)
	}
	if err := s.n.cc.StartRecording(s.ctx, s.blueSup, s.callID); err != nil {
		t.Errorf("start twice: %v", err)
	}
	s.waitCTI(t, "call.recording_started", 1)
	time.Sleep(time.Second) // a second of both tones for the recording
	if err := s.caller.Hangup(s.ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(s.n.j.CDRs()) == 1 })
	recs := s.n.j.Recordings()
	if len(recs) != 1 || !recs[0].Stereo || s.n.j.CDRs()[0].RecordingID != recs[0].ID {
		t.Fatalf("recordings %+v, CDR %+v", recs, s.n.j.CDRs()[0])
	}
	l, r, rate, ok := splitStereoRate(s.n.recs.get(recs[0].Path))
	if !ok {
		t.Fatal("the recording is not stereo")
	}
	l, r = l[len(l)/4:], r[len(r)/4:]
	if !audio.HasTone(l, rate, supCallerTone) || !audio.HasTone(r, rate, supAgentTone) {
		t.Errorf("recording: caller left %v, agent right %v", audio.HasTone(l, rate, supCallerTone), audio.HasTone(r, rate, supAgentTone))
	}
	// The team's supervisor may force the agent's state.
	eventually(t, "the agent leaves the call", 10*time.Second, func() bool {
		v, _ := s.n.cc.AgentState(s.ctx, admin, s.n.agent)
		return v.State == "wrap-up" || v.State == "ready"
	})
	v, err := s.n.cc.SetAgentState(s.ctx, s.blueSup, s.n.agent, AgentStateRequest{State: "logged-out"})
	if err != nil || v.State != "logged-out" {
		t.Fatalf("forced logout: %+v, %v", v, err)
	}
}

// A supervisor of the queue's team forces the hangup of a call still
// waiting in the queue (no agent ready); one of another team may not.
// The ACD forgets the call and the CDR says who ended it.
func TestForceHangupQueuedCall(t *testing.T) {
	h := newHarness(t)
	ch := h.fake.Inbound("13800000001", "800")
	h.until("queued", 5*time.Second, h.hasCTI("call.queued"))
	calls, err := h.cc.Calls(h.ctx, admin)
	if err != nil || len(calls) != 1 {
		t.Fatalf("calls %+v, %v", calls, err)
	}
	id := calls[0].ID
	red := Actor{UserID: "u-red", Role: store.RoleSupervisor, Team: "red"}
	if err := h.cc.ForceHangup(h.ctx, red, id); !errors.Is(err, ErrForbidden) {
		t.Errorf("another team: %v", err)
	}
	// Not connected to an agent: nothing to supervise or record yet.
	blue := Actor{UserID: "u-blue", Role: store.RoleSupervisor, Team: "blue"}
	if _, err := h.cc.Supervise(h.ctx, blue, id, SuperviseRequest{Mode: SuperviseListen, Device: "user/1009"}); !errors.Is(err, ErrNotConnected) {
		t.Errorf("supervise a queued call: %v", err)
	}
	if err := h.cc.StartRecording(h.ctx, blue, id); !errors.Is(err, ErrNotConnected) {
		t.Errorf("record a queued call: %v", err)
	}
	if err := h.cc.ForceHangup(h.ctx, blue, id); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", 5*time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if cdr.Variables["forced_hangup_by"] != "u-blue" || cdr.HangupSide != store.SideSystem {
		t.Errorf("CDR %+v", cdr)
	}
	if !slices.ContainsFunc(h.fake.CallsOf("hangup"), func(c mediafake.Call) bool { return c.ID == string(ch) }) {
		t.Errorf("the caller's channel was not hung up: %v", h.fake.CallsOf("hangup"))
	}
	if evs := h.ctiOf("call.force_hangup"); len(evs) != 1 || payload(t, evs[0])["by"] != "u-blue" {
		t.Errorf("force_hangup events %+v", evs)
	}
	if err := h.cc.ForceHangup(h.ctx, blue, id); !errors.Is(err, ErrNoSuchCall) {
		t.Errorf("force hangup of an ended call: %v", err)
	}
}

// On a media node without native snoop, supervision falls back to the
// conversation bridge's roles; without whisper members, whisper is
// refused when switching (ErrModeNotSupported) and ends a supervision
// that asked for it at answer, while listen and barge work.
func TestSuperviseBridgeRolesFallback(t *testing.T) {
	caps := mediafake.AllCaps()
	caps.Snooper, caps.Whisperer = false, false
	h := newHarnessWith(t, harnessConfig{caps: &caps})
	h.ready("1001")
	h.fake.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	calls, _ := h.cc.Calls(h.ctx, admin)
	id := calls[0].ID
	// role is the supervisor leg's (the call's second leg) role in the
	// conversation bridge.
	role := func() mediacore.Role {
		bs, err := h.fake.Bridges(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			for ch, m := range b.Members {
				if strings.HasSuffix(string(ch), id+"-2") {
					return m.Role
				}
			}
		}
		return 0
	}
	v, err := h.cc.Supervise(h.ctx, admin, id, SuperviseRequest{Mode: SuperviseListen, Device: "sip:sup@10.1.2.3:5060"})
	if err != nil {
		t.Fatal(err)
	}
	h.until("joined", 5*time.Second, h.hasCTI("call.supervise_joined"))
	if r := role(); r != mediacore.RoleListen {
		t.Errorf("listening supervisor's role %v", r)
	}
	if _, err := h.cc.SetSuperviseMode(h.ctx, admin, id, SuperviseWhisper); !errors.Is(err, ErrModeNotSupported) {
		t.Errorf("whisper without whisper members: %v", err)
	}
	if v, err = h.cc.SetSuperviseMode(h.ctx, admin, id, SuperviseBarge); err != nil || v.Mode != SuperviseBarge {
		t.Errorf("barge: %+v, %v", v, err)
	}
	if r := role(); r != mediacore.RoleSpeak {
		t.Errorf("barging supervisor's role %v", r)
	}
	if err := h.cc.StopSupervise(h.ctx, admin, id); err != nil {
		t.Fatal(err)
	}
	// Asked for at the start, whisper fails at answer: the supervision
	// ends and the supervisor's leg is hung up.
	if _, err := h.cc.Supervise(h.ctx, admin, id, SuperviseRequest{Mode: SuperviseWhisper, Device: "sip:sup@10.1.2.3:5060"}); err != nil {
		t.Fatal(err)
	}
	h.until("ended", 5*time.Second, func() bool {
		evs := h.ctiOf("call.supervise_ended")
		return len(evs) == 2 && payload(t, evs[1])["reason"] == "failed"
	})
	if _, err := h.cc.Supervision(h.ctx, admin, id); !errors.Is(err, ErrNotSupervising) {
		t.Errorf("after the failure: %v", err)
	}
}

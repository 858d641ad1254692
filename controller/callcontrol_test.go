package controller

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// The tones of the parties: each phone sends its own, so what a phone
// hears says who it hears.
const (
	toneCaller  = 900.0
	toneAgentA  = 1400.0
	toneAgentB  = 1800.0
	toneCarrier = 2200.0
)

// ctlCenter is the native call path with two agents seated at sippeer
// phones (fixed sip: devices), a queue "support" (top-down: agent A
// first; wrap-up 120 s) on number 801, and a trunk to a sippeer
// "carrier" that presents caller id 4008001234.
type ctlCenter struct {
	*nativeCenter
	ctx      context.Context
	a, b     string // agent ids
	phoneA   *sippeer.Phone
	phoneB   *sippeer.Phone
	carrier  *sippeer.Phone
	callerPh *sippeer.Phone

	mu  sync.Mutex
	cti []cti.Event
}

func newCtlCenter(t *testing.T) *ctlCenter {
	t.Helper()
	n := newNativeCenter(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	e := &ctlCenter{nativeCenter: n, ctx: ctx, a: n.agent}
	agB := store.Agent{Name: "Li Wei", Extension: "1002", Team: "blue"}
	if err := n.ctl.Agents().Create(ctx, &agB); err != nil {
		t.Fatal(err)
	}
	e.b = agB.ID
	q := store.Queue{Name: "support", Strategy: store.StrategyTopDown, RingTimeout: 15, WrapUp: 120,
		JoinWhenNoAgents: true, Members: []store.QueueMember{{AgentID: e.a}, {AgentID: e.b, Penalty: 1}}}
	if err := n.ctl.Queues().Create(ctx, &q); err != nil {
		t.Fatal(err)
	}
	if err := n.ctl.Numbers().Create(ctx, &store.Number{Number: "801",
		Route: store.Target{Kind: store.TargetQueue, Value: q.ID}}); err != nil {
		t.Fatal(err)
	}
	e.phoneA, e.phoneB = e.newPhone("1001"), e.newPhone("1002")
	e.carrier = e.newPhone("carrier")
	e.callerPh = e.newPhone("13800000001")
	host, port, _ := strings.Cut(e.carrier.Addr(), ":")
	pn, _ := strconv.Atoi(port)
	tr := store.Trunk{Name: "carrier", Host: host, Port: pn, Transport: store.TransportUDP, Enabled: true,
		CallerID: "4008001234"}
	if err := n.ctl.Trunks().Create(ctx, &tr); err != nil {
		t.Fatal(err)
	}
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
			e.mu.Lock()
			e.cti = append(e.cti, ev)
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		sub.Close()
		<-done
	})
	return e
}

func (e *ctlCenter) newPhone(user string) *sippeer.Phone {
	e.t.Helper()
	p, err := sippeer.New(sippeer.Config{User: user})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	return p
}

// seat makes an agent ready at its phone.
func (e *ctlCenter) seat(agentID string, p *sippeer.Phone, ext string) {
	e.t.Helper()
	if _, err := e.cc.SetAgentState(e.ctx, admin, agentID, AgentStateRequest{State: "ready",
		Device: "sip:" + ext + "@" + p.Addr()}); err != nil {
		e.t.Fatal(err)
	}
}

func agentActor(id string) Actor { return Actor{UserID: "u-" + id, Role: store.RoleAgent, AgentID: id} }

// ring waits for a phone's next incoming call and makes it send tone.
func (e *ctlCenter) ring(p *sippeer.Phone, tone float64, who string) *sippeer.Call {
	e.t.Helper()
	select {
	case c := <-p.Incoming():
		c.SetTone(tone)
		return c
	case <-e.ctx.Done():
		e.t.Fatalf("%s's phone never rang", who)
		return nil
	}
}

// connect brings a caller (dialling 801) to agent A and waits until each
// hears the other. It returns the caller's call, the agent's and the id.
func (e *ctlCenter) connect() (caller, agent *sippeer.Call, id string) {
	e.t.Helper()
	e.seat(e.a, e.phoneA, "1001")
	caller, err := e.callerPh.Dial(e.ctx, e.uri("801"))
	if err != nil {
		e.t.Fatal(err)
	}
	caller.SetTone(toneCaller)
	agent = e.ring(e.phoneA, toneAgentA, "agent A")
	e.waitHears(caller, "caller hears agent A", toneAgentA)
	e.waitHears(agent, "agent A hears the caller", toneCaller)
	calls, err := e.cc.Calls(e.ctx, admin)
	if err != nil || len(calls) != 1 || calls[0].State != "talking" || calls[0].AgentID != e.a {
		e.t.Fatalf("calls = %+v, %v", calls, err)
	}
	return caller, agent, calls[0].ID
}

func (e *ctlCenter) do(by Actor, id string, req CallControlRequest) LiveCall {
	e.t.Helper()
	v, err := e.cc.ControlCall(e.ctx, by, id, req)
	if err != nil {
		e.t.Fatalf("%s: %v", req.Action, err)
	}
	return v
}

const heardWindow = time.Second

func (e *ctlCenter) waitHears(c *sippeer.Call, what string, freqs ...float64) {
	e.t.Helper()
	eventually(e.t, what, 10*time.Second, func() bool {
		h := c.Heard(heardWindow)
		for _, f := range freqs {
			if !audio.HasTone(h, audio.SampleRate, f) {
				return false
			}
		}
		return true
	})
}

// waitHearsOnly waits until c hears every tone of want and none of not
// in a full window of audio received after the call.
func (e *ctlCenter) waitHearsOnly(c *sippeer.Call, what string, want, not []float64) {
	e.t.Helper()
	c.ClearHeard()
	eventually(e.t, what, 15*time.Second, func() bool {
		h := c.Heard(heardWindow)
		if len(h) < int(heardWindow/(time.Second/audio.SampleRate)) {
			return false
		}
		for _, f := range want {
			if !audio.HasTone(h, audio.SampleRate, f) {
				return false
			}
		}
		for _, f := range not {
			if audio.ToneRatio(h, audio.SampleRate, f) >= 0.05 {
				return false
			}
		}
		return true
	})
}

func (e *ctlCenter) events(typ string) []cti.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []cti.Event
	for _, ev := range e.cti {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (e *ctlCenter) waitCTI(typ string, match func(cti.Event, map[string]any) bool) cti.Event {
	e.t.Helper()
	var got cti.Event
	eventually(e.t, "CTI "+typ, 10*time.Second, func() bool {
		for _, ev := range e.events(typ) {
			var p map[string]any
			_ = json.Unmarshal(ev.Payload, &p)
			if match == nil || match(ev, p) {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

func (e *ctlCenter) cdr() store.CDR {
	e.t.Helper()
	eventually(e.t, "the CDR", 20*time.Second, func() bool { return len(e.j.CDRs()) >= 1 })
	return e.j.CDRs()[0]
}

func waitDone(t *testing.T, ctx context.Context, c *sippeer.Call, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatalf("%s: the call did not end", what)
	}
}

var holdNotes = holdTone.Freqs

// Hold: the caller hears the music on hold and nothing of the agent; the
// agent hears neither the music nor the caller. Retrieve brings both
// back. The hold time is in the CDR; held and retrieved are on the CTI
// stream; another agent may not touch the call.
func TestCallControlHoldRetrieve(t *testing.T) {
	e := newCtlCenter(t)
	caller, agent, id := e.connect()
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.b), id, CallControlRequest{Action: ActionHold}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("agent B holds agent A's call: %v", err)
	}
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), "call-nope", CallControlRequest{Action: ActionHold}); !errors.Is(err, ErrNoSuchCall) {
		t.Fatalf("unknown call: %v", err)
	}
	if v := e.do(agentActor(e.a), id, CallControlRequest{Action: ActionHold}); v.State != "held" && v.State != "talking" {
		t.Errorf("view after hold = %+v", v)
	}
	e.waitHearsOnly(caller, "the held caller hears the music and not the agent", holdNotes, []float64{toneAgentA})
	e.waitHearsOnly(agent, "the agent hears nothing of the held caller or the music", nil,
		[]float64{toneCaller, holdNotes[0], holdNotes[1]})
	e.waitCTI("call.held", func(ev cti.Event, _ map[string]any) bool { return ev.CallID == id && ev.AgentID == e.a })
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionHold}); !errors.Is(err, ErrCallState) {
		t.Errorf("hold twice: %v", err)
	}
	time.Sleep(time.Second) // a measurable stretch on hold
	// A supervisor acts on the calls of its team only.
	red := Actor{UserID: "u-sup-red", Role: store.RoleSupervisor, Team: "red"}
	if _, err := e.cc.ControlCall(e.ctx, red, id, CallControlRequest{Action: ActionRetrieve}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("another team's supervisor retrieves: %v", err)
	}
	e.do(Actor{UserID: "u-sup-blue", Role: store.RoleSupervisor, Team: "blue"}, id, CallControlRequest{Action: ActionRetrieve})
	e.waitHearsOnly(caller, "the retrieved caller hears the agent, no music", []float64{toneAgentA}, holdNotes)
	e.waitHears(agent, "the agent hears the caller again", toneCaller)
	e.waitCTI("call.retrieved", func(ev cti.Event, _ map[string]any) bool { return ev.CallID == id })
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	cdr := e.cdr()
	if cdr.HoldSeconds < 1 || cdr.HoldSeconds > cdr.TalkSeconds || cdr.Outcome != store.OutcomeAnswered {
		t.Errorf("CDR hold %.2f s talk %.2f s outcome %s", cdr.HoldSeconds, cdr.TalkSeconds, cdr.Outcome)
	}
}

// Hangup by the agent over the live control ends both sides; the CDR says
// the agent hung up. DTMF goes to the caller; mute takes the agent out of
// what the caller hears.
func TestCallControlHangupDTMFMute(t *testing.T) {
	e := newCtlCenter(t)
	caller, agent, id := e.connect()
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionDTMF, Digits: "5#"})
	eventually(t, "the caller receives the digits", 10*time.Second, func() bool {
		d := caller.DTMFEnds()
		return slices.Contains(d, 5) && slices.Contains(d, 11)
	})
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionDTMF, Digits: "x"}); !errors.Is(err, ErrInvalidDigits) {
		t.Errorf("bad digits: %v", err)
	}
	e.waitCTI("call.dtmf-sent", func(ev cti.Event, _ map[string]any) bool { return ev.CallID == id })
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionMute})
	e.waitCTI("call.muted", func(ev cti.Event, _ map[string]any) bool { return ev.CallID == id && ev.AgentID == e.a })
	e.waitHearsOnly(caller, "the caller does not hear the muted agent", nil, []float64{toneAgentA})
	e.waitHears(agent, "the muted agent still hears the caller", toneCaller)
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionUnmute})
	e.waitCTI("call.unmuted", func(ev cti.Event, _ map[string]any) bool { return ev.CallID == id && ev.AgentID == e.a })
	e.waitHears(caller, "the caller hears the unmuted agent", toneAgentA)
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionHangup})
	waitDone(t, e.ctx, caller, "caller")
	waitDone(t, e.ctx, agent, "agent")
	cdr := e.cdr()
	if cdr.HangupSide != store.SideAgent || cdr.Outcome != store.OutcomeAnswered {
		t.Errorf("CDR = %+v", cdr)
	}
}

// Blind transfer to another agent: its phone rings with the screen pop
// (call.offered to it, with the call's variables and customer), it
// answers and talks with the caller; agent A's leg ends and A goes to
// wrap-up; the CDR names the transfer.
func TestCallControlBlindTransferToAgent(t *testing.T) {
	e := newCtlCenter(t)
	caller, agentA, id := e.connect()
	// Agent B is not logged in yet: the transfer is refused and nothing changes.
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionTransfer,
		Target: TransferTarget{Kind: TransferAgent, Value: e.b}}); !errors.Is(err, ErrTargetUnavailable) {
		t.Fatalf("transfer to a logged-out agent: %v", err)
	}
	e.seat(e.b, e.phoneB, "1002")
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionTransfer, Target: TransferTarget{Kind: TransferAgent, Value: e.b}})
	agentB := e.ring(e.phoneB, toneAgentB, "agent B")
	waitDone(t, e.ctx, agentA, "agent A")
	e.waitHearsOnly(caller, "the caller hears agent B", []float64{toneAgentB}, []float64{toneAgentA})
	e.waitHears(agentB, "agent B hears the caller", toneCaller)
	e.waitCTI("call.offered", func(ev cti.Event, p map[string]any) bool {
		return ev.AgentID == e.b && p["transfer_from"] == e.a && p["vars"] != nil
	})
	e.waitCTI("call.transferred", func(ev cti.Event, p map[string]any) bool {
		return ev.CallID == id && ev.AgentID == e.a && p["kind"] == "blind" && p["target"] == e.b
	})
	eventually(t, "agent A in wrap-up", 10*time.Second, func() bool {
		v, _ := e.cc.AgentState(e.ctx, admin, e.a)
		return v.State == "wrap-up"
	})
	// The call is agent B's now: A may no longer act on it, B may.
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionHold}); !errors.Is(err, ErrForbidden) {
		t.Errorf("agent A after the transfer: %v", err)
	}
	e.do(agentActor(e.b), id, CallControlRequest{Action: ActionHangup})
	waitDone(t, e.ctx, caller, "caller")
	cdr := e.cdr()
	if len(cdr.Transfers) != 1 || cdr.Transfers[0].Kind != "blind" || cdr.Transfers[0].Target != "agent:"+e.b ||
		cdr.Transfers[0].From != e.a || cdr.AgentID != e.b {
		t.Errorf("CDR transfers %+v agent %s", cdr.Transfers, cdr.AgentID)
	}
	eventually(t, "agent B ready after its internal call", 10*time.Second, func() bool {
		v, _ := e.cc.AgentState(e.ctx, admin, e.b)
		return v.State == "ready"
	})
}

// Blind transfer to an external number, forced by the agent's team's
// supervisor (another team's gets 403): out through the trunk to the
// carrier, who talks with the caller; the CTI event and the CDR name the
// supervisor.
func TestCallControlBlindTransferExternal(t *testing.T) {
	e := newCtlCenter(t)
	caller, agentA, id := e.connect()
	transfer := CallControlRequest{Action: ActionTransfer, Target: TransferTarget{Kind: TransferExternal, Value: "+8613900000000"}}
	red := Actor{UserID: "u-sup-red", Role: store.RoleSupervisor, Team: "red"}
	if _, err := e.cc.ControlCall(e.ctx, red, id, transfer); !errors.Is(err, ErrForbidden) {
		t.Fatalf("forced transfer by another team's supervisor: %v", err)
	}
	e.do(Actor{UserID: "u-sup-blue", Role: store.RoleSupervisor, Team: "blue"}, id, transfer)
	ext := e.ring(e.carrier, toneCarrier, "the external number")
	if to := ext.HeaderValue("To"); !strings.Contains(to, "+8613900000000") {
		t.Errorf("the carrier was asked for %q", to)
	}
	waitDone(t, e.ctx, agentA, "agent A")
	e.waitHearsOnly(caller, "the caller hears the external party", []float64{toneCarrier}, []float64{toneAgentA})
	e.waitHears(ext, "the external party hears the caller", toneCaller)
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, e.ctx, ext, "external")
	e.waitCTI("call.transferred", func(ev cti.Event, p map[string]any) bool {
		return ev.CallID == id && p["kind"] == "blind" && p["target_kind"] == TransferExternal && p["target"] == "+8613900000000" &&
			p["by"] == "u-sup-blue"
	})
	cdr := e.cdr()
	if len(cdr.Transfers) != 1 || !slices.ContainsFunc(cdr.Transfers, func(x store.CDRTransfer) bool {
		return x.Kind == "blind" && x.Target == "external:+8613900000000" && x.From == e.a && x.By == "u-sup-blue"
	}) {
		t.Errorf("CDR transfers %+v", cdr.Transfers)
	}
}

// Consultation then completion: the caller hears music while agent A
// and agent B talk (neither hears the caller, the caller hears neither);
// on completion A leaves and the caller talks with B.
func TestCallControlConsultComplete(t *testing.T) {
	e := newCtlCenter(t)
	caller, agentA, id := e.connect()
	e.seat(e.b, e.phoneB, "1002")
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionConsult, Target: TransferTarget{Kind: TransferAgent, Value: e.b}})
	agentB := e.ring(e.phoneB, toneAgentB, "agent B")
	e.waitHearsOnly(agentA, "A hears B, not the caller", []float64{toneAgentB}, []float64{toneCaller})
	e.waitHearsOnly(agentB, "B hears A, not the caller", []float64{toneAgentA}, []float64{toneCaller})
	e.waitHearsOnly(caller, "the caller hears only music", holdNotes, []float64{toneAgentA, toneAgentB})
	e.waitCTI("call.offered", func(ev cti.Event, p map[string]any) bool { return ev.AgentID == e.b && p["transfer_from"] == e.a })
	e.waitCTI("call.consult", func(ev cti.Event, p map[string]any) bool {
		return ev.CallID == id && p["target_kind"] == TransferAgent && p["target"] == e.b
	})
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionConsultComplete})
	e.waitCTI("call.transferred", func(ev cti.Event, p map[string]any) bool {
		return ev.CallID == id && p["kind"] == "attended" && p["target_agent"] == e.b
	})
	waitDone(t, e.ctx, agentA, "agent A")
	e.waitHearsOnly(caller, "the caller hears B", []float64{toneAgentB}, []float64{holdNotes[0], holdNotes[1], toneAgentA})
	e.waitHears(agentB, "B hears the caller", toneCaller)
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, e.ctx, agentB, "agent B")
	cdr := e.cdr()
	if !slices.ContainsFunc(cdr.Transfers, func(x store.CDRTransfer) bool { return x.Kind == "attended" && x.From == e.a }) ||
		cdr.AgentID != e.b || cdr.HoldSeconds <= 0 {
		t.Errorf("CDR transfers %+v agent %s hold %.2f", cdr.Transfers, cdr.AgentID, cdr.HoldSeconds)
	}
}

// Consultation of an external number, cancelled: the external leg ends
// and the caller is back with agent A.
func TestCallControlConsultCancel(t *testing.T) {
	e := newCtlCenter(t)
	caller, agentA, id := e.connect()
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionConsult,
		Target: TransferTarget{Kind: TransferExternal, Value: "+8613900000000"}})
	ext := e.ring(e.carrier, toneCarrier, "the external number")
	e.waitHearsOnly(agentA, "A hears the consulted party", []float64{toneCarrier}, []float64{toneCaller})
	e.waitHearsOnly(caller, "the caller hears only music", holdNotes, []float64{toneAgentA, toneCarrier})
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionRetrieve}); !errors.Is(err, ErrCallState) {
		t.Errorf("retrieve during a consultation: %v", err)
	}
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionConsultCancel})
	waitDone(t, e.ctx, ext, "the consulted party")
	e.waitHearsOnly(caller, "the caller hears A again", []float64{toneAgentA}, []float64{holdNotes[0], holdNotes[1], toneCarrier})
	e.waitHearsOnly(agentA, "A hears the caller again", []float64{toneCaller}, []float64{toneCarrier})
	e.waitCTI("call.consult", func(ev cti.Event, p map[string]any) bool {
		return ev.CallID == id && p["target_kind"] == TransferExternal
	})
	e.waitCTI("call.consult-ended", func(ev cti.Event, p map[string]any) bool { return p["reason"] == "cancelled" })
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	cdr := e.cdr()
	if !slices.ContainsFunc(cdr.Transfers, func(x store.CDRTransfer) bool { return x.Kind == "consult-cancelled" }) ||
		cdr.AgentID != e.a {
		t.Errorf("CDR transfers %+v agent %s", cdr.Transfers, cdr.AgentID)
	}
}

// Three-way conference: after a consultation is joined, each party hears
// the two others and never itself. When agent A leaves, the caller and B
// stay together.
func TestCallControlConference(t *testing.T) {
	e := newCtlCenter(t)
	caller, agentA, id := e.connect()
	e.seat(e.b, e.phoneB, "1002")
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionConsult, Target: TransferTarget{Kind: TransferAgent, Value: e.b}})
	agentB := e.ring(e.phoneB, toneAgentB, "agent B")
	e.waitHears(agentA, "A hears B", toneAgentB)
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionConference})
	e.waitHearsOnly(caller, "the caller hears A and B, not itself", []float64{toneAgentA, toneAgentB},
		[]float64{toneCaller, holdNotes[0], holdNotes[1]})
	e.waitHearsOnly(agentA, "A hears the caller and B, not itself", []float64{toneCaller, toneAgentB}, []float64{toneAgentA})
	e.waitHearsOnly(agentB, "B hears the caller and A, not itself", []float64{toneCaller, toneAgentA}, []float64{toneAgentB})
	e.waitCTI("call.conferenced", func(ev cti.Event, _ map[string]any) bool { return ev.CallID == id })
	if err := agentA.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.waitHearsOnly(caller, "the caller stays with B", []float64{toneAgentB}, []float64{toneAgentA})
	e.waitHears(agentB, "B stays with the caller", toneCaller)
	if err := agentB.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, e.ctx, caller, "caller")
	cdr := e.cdr()
	if !slices.ContainsFunc(cdr.Transfers, func(x store.CDRTransfer) bool { return x.Kind == "conference" }) {
		t.Errorf("CDR transfers %+v", cdr.Transfers)
	}
}

// Click-to-dial: the agent's phone rings first (the number as caller id),
// then the number through the trunk with the trunk's caller id; they talk.
func TestCallControlClickToDial(t *testing.T) {
	e := newCtlCenter(t)
	e.seat(e.a, e.phoneA, "1001")
	if _, err := e.cc.ClickToDial(e.ctx, agentActor(e.b), ClickToDialRequest{AgentID: e.a, Number: "+8613900000000"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("agent B dials for agent A: %v", err)
	}
	if _, err := e.cc.ClickToDial(e.ctx, agentActor(e.a), ClickToDialRequest{Number: "+86 bad"}); !errors.Is(err, ErrInvalidNumber) {
		t.Fatalf("bad number: %v", err)
	}
	v, err := e.cc.ClickToDial(e.ctx, agentActor(e.a), ClickToDialRequest{Number: "+8613900000000"})
	if err != nil {
		t.Fatal(err)
	}
	agent := e.ring(e.phoneA, toneAgentA, "agent A")
	if from := agent.HeaderValue("From"); !strings.Contains(from, "+8613900000000") {
		t.Errorf("the agent's phone shows %q", from)
	}
	ext := e.ring(e.carrier, toneCarrier, "the dialled number")
	if from := ext.HeaderValue("From"); !strings.Contains(from, "4008001234") {
		t.Errorf("the number sees caller id %q", from)
	}
	e.waitHears(agent, "the agent hears the number", toneCarrier)
	e.waitHears(ext, "the number hears the agent", toneAgentA)
	// It is the agent's call: hold works on it too.
	e.do(agentActor(e.a), v.ID, CallControlRequest{Action: ActionHold})
	e.waitHearsOnly(ext, "the held number hears music", holdNotes, []float64{toneAgentA})
	e.do(agentActor(e.a), v.ID, CallControlRequest{Action: ActionRetrieve})
	e.waitHears(ext, "retrieved", toneAgentA)
	if err := ext.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, e.ctx, agent, "agent")
	cdr := e.cdr()
	if cdr.ID != v.ID || cdr.Direction != "outbound" || cdr.Outcome != store.OutcomeAnswered || cdr.AgentID != e.a ||
		cdr.Called != "+8613900000000" || cdr.TalkSeconds <= 0 {
		t.Errorf("CDR = %+v", cdr)
	}
	eventually(t, "agent A ready again", 10*time.Second, func() bool {
		v, _ := e.cc.AgentState(e.ctx, admin, e.a)
		return v.State == "ready"
	})
}

// Disposition and notes given during the call are on the CDR; given again
// during wrap-up (the call has ended) they replace it, and end_wrap_up
// makes the agent ready at once.
func TestCallControlDisposition(t *testing.T) {
	e := newCtlCenter(t)
	caller, _, id := e.connect()
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionDisposition,
		Disposition: DispositionRequest{Disposition: "sale", Notes: "wants the blue one"}})
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.waitCTI("call.disposition", func(ev cti.Event, p map[string]any) bool { return ev.CallID == id && p["disposition"] == "sale" })
	cdr := e.cdr()
	if cdr.Disposition != "sale" || cdr.Notes != "wants the blue one" {
		t.Fatalf("CDR disposition %q notes %q", cdr.Disposition, cdr.Notes)
	}
	eventually(t, "wrap-up", 10*time.Second, func() bool {
		v, _ := e.cc.AgentState(e.ctx, admin, e.a)
		return v.State == "wrap-up"
	})
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.b), id, CallControlRequest{Action: ActionDisposition,
		Disposition: DispositionRequest{Disposition: "x"}}); !errors.Is(err, ErrForbidden) {
		t.Errorf("agent B disposes of A's call: %v", err)
	}
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionDisposition,
		Disposition: DispositionRequest{Disposition: "callback", Notes: "call on Monday", EndWrapUp: true}}); err != nil {
		t.Fatal(err)
	}
	cdrs := e.j.CDRs()
	if last := cdrs[len(cdrs)-1]; len(cdrs) != 2 || last.ID != id || last.Disposition != "callback" || last.Notes != "call on Monday" ||
		last.TalkSeconds != cdr.TalkSeconds {
		t.Errorf("journaled CDRs %+v", cdrs)
	}
	if v, _ := e.cc.AgentState(e.ctx, admin, e.a); v.State != "ready" {
		t.Errorf("after end_wrap_up the agent is %s", v.State)
	}
}

// Blind transfer to a queue: agent A leaves (wrap-up), the caller waits
// in the queue "billing" and the ACD offers it to agent B with the screen
// pop; B talks with the caller. The CDR keeps the first answer and names
// the transfer.
func TestCallControlBlindTransferToQueue(t *testing.T) {
	e := newCtlCenter(t)
	billing := store.Queue{Name: "billing", Strategy: store.StrategyTopDown, RingTimeout: 15, WrapUp: 5,
		JoinWhenNoAgents: true, Members: []store.QueueMember{{AgentID: e.b}}}
	if err := e.ctl.Queues().Create(e.ctx, &billing); err != nil {
		t.Fatal(err)
	}
	caller, agentA, id := e.connect()
	e.seat(e.b, e.phoneB, "1002")
	if _, err := e.cc.ControlCall(e.ctx, agentActor(e.a), id, CallControlRequest{Action: ActionTransfer,
		Target: TransferTarget{Kind: TransferQueue, Value: "nope"}}); !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("transfer to an unknown queue: %v", err)
	}
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionTransfer, Target: TransferTarget{Kind: TransferQueue, Value: "billing"}})
	waitDone(t, e.ctx, agentA, "agent A")
	agentB := e.ring(e.phoneB, toneAgentB, "agent B")
	e.waitHearsOnly(caller, "the caller hears agent B", []float64{toneAgentB}, []float64{toneAgentA})
	e.waitHears(agentB, "agent B hears the caller", toneCaller)
	e.waitCTI("call.offered", func(ev cti.Event, p map[string]any) bool {
		return ev.AgentID == e.b && p["queue"] == billing.ID && p["customer"] != nil || ev.AgentID == e.b && p["queue"] == billing.ID && p["vars"] != nil
	})
	first := e.j.CDRs()
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	cdr := e.cdr()
	if len(first) != 0 || cdr.AgentID != e.b || cdr.Queue != billing.ID || len(cdr.Transfers) != 1 ||
		cdr.Transfers[0].Target != "queue:billing" || cdr.Answer == nil || cdr.Answer.After(cdr.Transfers[0].At) {
		t.Errorf("CDR agent %s queue %s transfers %+v answer %v", cdr.AgentID, cdr.Queue, cdr.Transfers, cdr.Answer)
	}
}

// Blind transfer to an IVR flow: the caller runs the demo menu, presses
// 1 and waits in the sales queue.
func TestCallControlBlindTransferToIVR(t *testing.T) {
	e := newCtlCenter(t)
	caller, agentA, id := e.connect()
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionTransfer, Target: TransferTarget{Kind: TransferIVR, Value: "demo-800"}})
	waitDone(t, e.ctx, agentA, "agent A")
	caller.SendDTMF("1")
	eventually(t, "queued in sales after the menu", 15*time.Second, func() bool {
		calls, _ := e.cc.Calls(e.ctx, admin)
		return len(calls) == 1 && calls[0].State == "queued" && calls[0].ID == id
	})
	e.waitHearsOnly(caller, "music while queued", holdNotes, []float64{toneAgentA})
	if err := caller.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	cdr := e.cdr()
	var path []string
	for _, s := range cdr.IVRPath {
		path = append(path, s.Node)
	}
	if !slices.Equal(path, []string{"welcome", "sales"}) || len(cdr.Transfers) != 1 || cdr.Transfers[0].Target != "ivr:demo-800" {
		t.Errorf("CDR path %v transfers %+v", path, cdr.Transfers)
	}
}

// A queue with keep_entered_at takes a transferred call at the time it
// first entered queueing: the caller transferred from agent A goes ahead
// of a caller who joined "billing" directly after it had first queued.
func TestCallControlTransferKeepsEntryTime(t *testing.T) {
	e := newCtlCenter(t)
	billing := store.Queue{Name: "billing", Strategy: store.StrategyTopDown, RingTimeout: 15, WrapUp: 5,
		JoinWhenNoAgents: true, KeepEnteredAt: true, Members: []store.QueueMember{{AgentID: e.b}}}
	if err := e.ctl.Queues().Create(e.ctx, &billing); err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.Numbers().Create(e.ctx, &store.Number{Number: "802",
		Route: store.Target{Kind: store.TargetQueue, Value: billing.ID}}); err != nil {
		t.Fatal(err)
	}
	first, agentA, id := e.connect()
	other := e.newPhone("13800000002")
	second, err := other.Dial(e.ctx, e.uri("802"))
	if err != nil {
		t.Fatal(err)
	}
	second.SetTone(700)
	eventually(t, "the second caller waits in billing", 10*time.Second, func() bool {
		calls, _ := e.cc.Calls(e.ctx, admin)
		return slices.ContainsFunc(calls, func(c LiveCall) bool { return c.Queue == billing.ID && c.State == "queued" })
	})
	e.do(agentActor(e.a), id, CallControlRequest{Action: ActionTransfer, Target: TransferTarget{Kind: TransferQueue, Value: billing.ID}})
	waitDone(t, e.ctx, agentA, "agent A")
	eventually(t, "both wait in billing", 10*time.Second, func() bool {
		calls, _ := e.cc.Calls(e.ctx, admin)
		n := 0
		for _, c := range calls {
			if c.Queue == billing.ID && c.State == "queued" {
				n++
			}
		}
		return n == 2
	})
	e.seat(e.b, e.phoneB, "1002")
	agentB := e.ring(e.phoneB, toneAgentB, "agent B")
	e.waitHears(agentB, "agent B takes the transferred caller first", toneCaller)
	e.waitHears(first, "the transferred caller hears agent B", toneAgentB)
	if err := second.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// A supervisor calls an agent of its team (R5.2 "call any agent"): the
// supervisor's phone rings first, then the agent's; each hears the other;
// the agent is busy for the ACD meanwhile and ready again after. Agents
// and another team's supervisor may not.
func TestSupervisorCallsAgent(t *testing.T) {
	const toneSup = 2600.0
	e := newCtlCenter(t)
	e.seat(e.a, e.phoneA, "1001")
	supPhone, err := sippeer.New(sippeer.Config{User: "sup"})
	if err != nil {
		t.Fatal(err)
	}
	defer supPhone.Close()
	dev := "sip:sup@" + supPhone.Addr()
	if _, err := e.cc.ClickToDial(e.ctx, agentActor(e.a), ClickToDialRequest{AgentID: e.a, Device: dev}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent rings a device: %v", err)
	}
	red := Actor{UserID: "u-red", Role: store.RoleSupervisor, Team: "red"}
	if _, err := e.cc.ClickToDial(e.ctx, red, ClickToDialRequest{AgentID: e.a, Device: dev}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("another team's supervisor calls agent A: %v", err)
	}
	blue := Actor{UserID: "u-blue", Role: store.RoleSupervisor, Team: "blue"}
	v, err := e.cc.ClickToDial(e.ctx, blue, ClickToDialRequest{AgentID: e.a, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	sup := e.ring(supPhone, toneSup, "the supervisor")
	agent := e.ring(e.phoneA, toneAgentA, "agent A")
	e.waitHears(agent, "the agent hears the supervisor", toneSup)
	e.waitHears(sup, "the supervisor hears the agent", toneAgentA)
	if s, _ := e.cc.AgentState(e.ctx, admin, e.a); s.State == "ready" {
		t.Errorf("agent A is %s while the supervisor talks to it", s.State)
	}
	if err := sup.Hangup(e.ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, e.ctx, agent, "agent")
	cdr := e.cdr()
	if cdr.ID != v.ID || cdr.Direction != "internal" || cdr.Outcome != store.OutcomeAnswered || cdr.AgentID != e.a ||
		cdr.Called != "1001" {
		t.Errorf("CDR = %+v", cdr)
	}
	eventually(t, "agent A ready again", 10*time.Second, func() bool {
		s, _ := e.cc.AgentState(e.ctx, admin, e.a)
		return s.State == "ready"
	})
}

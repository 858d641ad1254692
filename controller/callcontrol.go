package controller

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"hotline/acd"
	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore"
)

// Agent call control (R4.3, R4.5): what an agent's desktop does to its
// own live call, carried out by the call's actor (each action is a cmdMsg
// in its mailbox, so it is ordered with the call's media events and never
// races the actor):
//
//   - hangup; hold and retrieve (Core.Hold: the caller hears the music,
//     the agent nothing; the time on hold goes into the CDR); DTMF towards
//     the far end; mute (the agent's bridge role becomes listen: the caller
//     no longer hears it);
//   - blind transfer to an agent (reserved at once with the ACD's
//     BeginInternal, so a busy or logged-out agent is refused before the
//     first agent lets go), a queue, an IVR flow, an extension or an
//     external number (through a trunk); the agent's part ends (wrap-up)
//     and the caller goes on from the same actor;
//   - consultation: the caller is held with music, a consult leg rings the
//     target and joins the agent's bridge when it answers; then complete
//     (the agent leaves, caller and target talk), cancel (the consult leg
//     is hung up, the caller is retrieved) or conference (the caller is
//     retrieved into the same bridge: three speakers, and the mix-minus
//     bridge never sends anyone its own voice). The agent hanging up during
//     an answered consultation or a conference completes the transfer;
//   - disposition and notes (during the call or after it, during wrap-up:
//     the CDR is journaled again, and the store's Put replaces it), and the
//     end of the agent's wrap-up;
//   - click-to-dial (ClickToDial): the agent's device rings first, then the
//     number, with the trunk's configured caller id.
//
// The screen pop (call variables, customer record) is published again as
// call.offered to every agent a transfer or consultation rings.

// Call-control actions (CallControlRequest.Action).
const (
	ActionHangup          = "hangup"
	ActionHold            = "hold"
	ActionRetrieve        = "retrieve"
	ActionDTMF            = "dtmf"
	ActionMute            = "mute"
	ActionUnmute          = "unmute"
	ActionTransfer        = "transfer"
	ActionConsult         = "consult"
	ActionConsultComplete = "consult-complete"
	ActionConsultCancel   = "consult-cancel"
	ActionConference      = "conference"
	ActionDisposition     = "disposition"
	// ActionAnswer: click-to-answer of the agent's own ringing queue
	// offer (answer.go).
	ActionAnswer = "answer"
)

// Transfer target kinds (TransferTarget.Kind).
const (
	TransferAgent     = "agent"
	TransferQueue     = "queue"
	TransferIVR       = "ivr"
	TransferExtension = "extension"
	TransferExternal  = "external"
)

// Errors of call control.
var (
	// ErrCallState: the action does not fit the call's state now, e.g.
	// hold before an agent answered, complete without an answered
	// consultation (409).
	ErrCallState = errors.New("controller: action not possible in the call's state")
	// ErrInvalidTarget: a transfer or consult target that is malformed or
	// names nothing (400, field "target").
	ErrInvalidTarget = errors.New("controller: invalid transfer target")
	// ErrTargetUnavailable: the target agent cannot take a call now (not
	// logged in, or busy) (409).
	ErrTargetUnavailable = errors.New("controller: transfer target unavailable")
	// ErrInvalidDigits: DTMF digits outside 0-9 * # A-D, or too many (400).
	ErrInvalidDigits = errors.New("controller: invalid DTMF digits")
	// ErrInvalidNumber: a click-to-dial number that is not a phone number
	// or extension (400, field "number").
	ErrInvalidNumber = errors.New("controller: invalid number")
)

// TransferTarget is where a transfer or consultation goes: kind agent
// (value: the agent id), queue (id or name), ivr (flow id), extension or
// external (a phone number, dialled through a trunk).
type TransferTarget struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// DTMFRequest is the body of POST /api/v1/calls/{id}/dtmf.
type DTMFRequest struct {
	Digits string `json:"digits"`
}

// DispositionRequest is the body of POST /api/v1/calls/{id}/disposition
// (R4.5): stored on the call's CDR. EndWrapUp also ends the agent's
// wrap-up (it becomes ready).
type DispositionRequest struct {
	Disposition string `json:"disposition"`
	Notes       string `json:"notes,omitempty"`
	EndWrapUp   bool   `json:"end_wrap_up,omitempty"`
}

// CallControlRequest is one action on a live call (LiveControl.ControlCall).
type CallControlRequest struct {
	Action      string
	Digits      string             // dtmf
	Target      TransferTarget     // transfer, consult
	Disposition DispositionRequest // disposition
}

// ClickToDialRequest is the body of POST /api/v1/calls: ring the agent's
// device, then Number. AgentID may be empty for an agent (itself).
//
// With Device instead of Number, a supervisor (of the agent's team) or an
// admin calls the agent: Device (the supervisor's phone, a neutral
// endpoint) rings first, then the agent's device; the agent is busy for
// the ACD meanwhile.
type ClickToDialRequest struct {
	AgentID string `json:"agent_id,omitempty"`
	Number  string `json:"number,omitempty"`
	Device  string `json:"device,omitempty"`
}

// Internal route target kinds: a transfer to an agent (reserved), and the
// continuation of a call with a leg it already has (a completed
// consultation).
const (
	targetAgent store.TargetKind = "agent"
	targetLeg   store.TargetKind = "leg"
	targetDial  store.TargetKind = "dial" // an extension or number the transfer noted itself
)

// callCtl is the live-control state of one call (owned by its actor).
type callCtl struct {
	next    *store.Target // where the caller goes when the agent's part ends
	consult *leg          // the consultation leg, until it ends or becomes the talk leg
	conf    bool          // the consultation joined the caller (3-way)
	holding bool          // the controller holds the caller (hold or consult)
	muted   *leg          // the agent leg muted in the bridge
	disp    *DispositionRequest
}

// wakeMsg makes an actor's loop look at its state again after a command
// (next runs commands itself and returns only other messages).
type wakeMsg struct{}

var dtmfDigits = regexp.MustCompile(`^[0-9*#A-D]{1,32}$`)

// recentCDRs keeps the last CDR of each agent's calls so a disposition
// given during wrap-up (after the actor is gone) can amend it.
type recentCDRs struct {
	// mu guards byCall and byAgent.
	mu      sync.Mutex
	byCall  map[string]store.CDR
	byAgent map[string]string // agent -> its last call id
}

func (r *recentCDRs) remember(cdr store.CDR) {
	if cdr.AgentID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byCall == nil {
		r.byCall, r.byAgent = map[string]store.CDR{}, map[string]string{}
	}
	if old, ok := r.byAgent[cdr.AgentID]; ok {
		delete(r.byCall, old)
	}
	r.byAgent[cdr.AgentID] = cdr.ID
	r.byCall[cdr.ID] = cdr
}

func (r *recentCDRs) get(id string) (store.CDR, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.byCall[id]
	return c, ok
}

func (r *recentCDRs) put(cdr store.CDR) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byCall[cdr.ID]; ok {
		r.byCall[cdr.ID] = cdr
	}
}

// mayControl: an agent acts on the calls it talks on; a supervisor or an
// admin on any call (the actor narrows a supervisor to its team's calls:
// control).
func mayControl(by Actor, agentID, callID string) error {
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor:
		return nil
	case store.RoleAgent:
		if by.AgentID != "" && by.AgentID == agentID {
			return nil
		}
		return fmt.Errorf("%w: not the agent of call %q", ErrForbidden, callID)
	}
	return fmt.Errorf("%w: %s may not control calls", ErrForbidden, by.Role)
}

// ControlCall implements LiveControl: one action on a live call (a
// disposition also on a call that ended, from its CDR).
func (cc *CallCenter) ControlCall(ctx context.Context, by Actor, callID string, req CallControlRequest) (LiveCall, error) {
	if err := checkControl(req); err != nil {
		return LiveCall{}, err
	}
	if req.Action == ActionDisposition {
		return LiveCall{}, cc.dispose(ctx, by, callID, req.Disposition)
	}
	c := cc.call(callID)
	if c == nil {
		return LiveCall{}, fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	return c.command(ctx, by, req)
}

// command runs one action on the call's actor and waits for it.
func (c *call) command(ctx context.Context, by Actor, req CallControlRequest) (LiveCall, error) {
	callID := c.id
	v := c.snapshot()
	// Click-to-answer is decided by the call (ctlAnswer): the agent it
	// rings is not yet its agent, and one it rang a moment ago (the view
	// no longer names it) gets a conflict, not a refusal.
	if req.Action != ActionAnswer || by.Role != store.RoleAgent {
		if err := mayControl(by, v.AgentID, callID); err != nil {
			return LiveCall{}, err
		}
	}
	done := make(chan error, 1)
	if !c.box.put(cmdMsg(func(c *call) {
		err := c.control(by, req)
		c.box.put(wakeMsg{})
		done <- err
	})) {
		return LiveCall{}, fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	select {
	case err := <-done:
		if err != nil {
			return LiveCall{}, err
		}
		return c.snapshot(), nil
	case <-c.ctx.Done():
		if req.Action == ActionHangup {
			return c.snapshot(), nil
		}
		return LiveCall{}, fmt.Errorf("%w: %q ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		return LiveCall{}, ctx.Err()
	}
}

// checkControl validates a request before it reaches a call.
func checkControl(req CallControlRequest) error {
	switch req.Action {
	case ActionHangup, ActionHold, ActionRetrieve, ActionMute, ActionUnmute, ActionConsultComplete,
		ActionConsultCancel, ActionConference, ActionDisposition, ActionAnswer:
	case ActionDTMF:
		if !dtmfDigits.MatchString(req.Digits) {
			return fmt.Errorf("%w: %q (1-32 of 0-9 * # A-D)", ErrInvalidDigits, req.Digits)
		}
	case ActionTransfer, ActionConsult:
		t := req.Target
		kinds := []string{TransferAgent, TransferQueue, TransferIVR, TransferExtension, TransferExternal}
		if req.Action == ActionConsult {
			// One can consult a person, not a queue or a menu.
			kinds = []string{TransferAgent, TransferExtension, TransferExternal}
		}
		ok := false
		for _, k := range kinds {
			ok = ok || t.Kind == k
		}
		if !ok || t.Value == "" {
			return fmt.Errorf("%w: kind %q value %q (kind one of %s)", ErrInvalidTarget, t.Kind, t.Value, strings.Join(kinds, ", "))
		}
		if _, err := targetEndpoint(t); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown action %q", ErrCallState, req.Action)
	}
	return nil
}

// targetEndpoint is where an extension or external target is dialled.
func targetEndpoint(t TransferTarget) (string, error) {
	var ep string
	switch t.Kind {
	case TransferExtension:
		ep = "user/" + strings.TrimPrefix(t.Value, "user/")
	case TransferExternal:
		ep = "tel/" + strings.TrimPrefix(t.Value, "tel/")
	default:
		return "", nil
	}
	if _, err := mediacore.ParseEndpoint(ep); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidTarget, err)
	}
	return ep, nil
}

// control runs one action on the actor.
func (c *call) control(by Actor, req CallControlRequest) error {
	if by.Role == store.RoleSupervisor {
		// A supervisor's action (a forced transfer or hangup, ...) is for
		// the calls of its team (supervise.go).
		if err := c.mayActOnCall(by); err != nil {
			return err
		}
	}
	x := &c.cctl
	switch req.Action {
	case ActionDisposition:
		d := req.Disposition
		x.disp = &d
		c.publish("call.disposition", c.viewAgent(), nil, map[string]any{"disposition": d.Disposition,
			"notes": d.Notes, "by": by.UserID})
		return nil
	case ActionHangup:
		return c.ctlHangup(by)
	case ActionAnswer:
		return c.ctlAnswer(by)
	}
	l := c.talkLeg()
	if l == nil {
		return fmt.Errorf("%w: %s needs a conversation", ErrCallState, req.Action)
	}
	switch req.Action {
	case ActionHold:
		if x.holding || x.consult != nil {
			return fmt.Errorf("%w: already on hold", ErrCallState)
		}
		if err := c.holdCaller(); err != nil {
			return err
		}
		c.publish("call.held", l.agent, nil, map[string]any{"by": by.UserID})
	case ActionRetrieve:
		if !x.holding || x.consult != nil {
			return fmt.Errorf("%w: not on hold (a consultation ends with complete, cancel or conference)", ErrCallState)
		}
		if err := c.retrieveCaller(); err != nil {
			return err
		}
		c.publish("call.retrieved", l.agent, nil, map[string]any{"by": by.UserID})
	case ActionDTMF:
		ctx, cancel := c.io()
		defer cancel()
		if err := c.cc.media.SendDTMF(ctx, c.ch, req.Digits); err != nil {
			return fmt.Errorf("send dtmf: %w", err)
		}
		c.publish("call.dtmf-sent", l.agent, nil, map[string]any{"digits": len(req.Digits), "by": by.UserID})
	case ActionMute, ActionUnmute:
		mute := req.Action == ActionMute
		role := mediacore.RoleSpeak
		if mute {
			role = mediacore.RoleListen
		}
		ctx, cancel := c.io()
		defer cancel()
		if err := c.cc.media.SetMemberRole(ctx, c.bridge, l.ch, mediacore.Member{Role: role}); err != nil {
			return fmt.Errorf("%s: %w", req.Action, err)
		}
		x.muted = nil
		if mute {
			x.muted = l
		}
		c.publish("call."+req.Action+"d", l.agent, nil, map[string]any{"by": by.UserID})
	case ActionTransfer:
		return c.ctlTransfer(by, l, req.Target)
	case ActionConsult:
		return c.ctlConsult(by, l, req.Target)
	case ActionConsultCancel:
		if x.consult == nil || x.conf {
			return fmt.Errorf("%w: no consultation", ErrCallState)
		}
		cl := x.consult
		c.hangupLeg(cl, mediacore.CauseNormal)
		c.consultEnded(cl, "cancelled", by.UserID)
	case ActionConsultComplete, ActionConference:
		cl := x.consult
		if cl == nil || !cl.answered || cl.ended || x.conf {
			return fmt.Errorf("%w: no answered consultation", ErrCallState)
		}
		if req.Action == ActionConference {
			if err := c.retrieveCaller(); err != nil {
				return err
			}
			x.conf = true
			c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "conference",
				From: l.agent, Target: c.cdr.Legs[cl.idx].Endpoint, By: by.UserID})
			c.publish("call.conferenced", l.agent, c.consultAudience(l, cl), map[string]any{"target": c.cdr.Legs[cl.idx].Endpoint,
				"target_agent": cl.agent, "by": by.UserID})
			return nil
		}
		c.completeConsult(l, by.UserID)
	}
	return nil
}

// viewAgent is the agent the call's view names.
func (c *call) viewAgent() string {
	c.viewMu.Lock()
	defer c.viewMu.Unlock()
	return c.view.AgentID
}

// talkLeg is the leg the caller is in conversation with (bridged), not
// the consultation's.
func (c *call) talkLeg() *leg {
	if c.bridge == "" || c.gone {
		return nil
	}
	for _, l := range c.legs {
		if l.answered && !l.ended && !l.offerLive && l != c.cctl.consult {
			return l
		}
	}
	return nil
}

func (c *call) holdMusic() mediacore.Media {
	if c.queue != nil && c.queue.MusicOnHold != "" {
		return mediacore.File(c.queue.MusicOnHold)
	}
	return mediacore.ToneFor(holdTone, 0)
}

// holdCaller puts the caller on hold with music: the node stops taking
// its audio into the bridge and plays it only the music (the EventHold
// that follows starts the CDR's hold time, observe).
func (c *call) holdCaller() error {
	if c.cctl.holding {
		return nil
	}
	m := c.holdMusic()
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.Hold(ctx, c.ch, &m); err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	c.cctl.holding = true
	return nil
}

func (c *call) retrieveCaller() error {
	if !c.cctl.holding {
		return nil
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.Unhold(ctx, c.ch); err != nil && !errors.Is(err, mediacore.ErrNoSuchChannel) {
		return fmt.Errorf("retrieve: %w", err)
	}
	c.cctl.holding = false
	return nil
}

// ctlHangup ends the call: in conversation, the agent's leg (talk then
// ends the caller, the hangup side is the agent's); otherwise the caller.
func (c *call) ctlHangup(by Actor) error {
	side := store.SideAgent
	if by.Role != store.RoleAgent {
		side = store.SideSystem
	}
	if c.cdr.HangupSide == "" {
		c.cdr.HangupSide, c.cdr.HangupCause = side, mediacore.CauseNormal.String()
	}
	c.publish("call.hangup-requested", c.viewAgent(), nil, map[string]any{"by": by.UserID})
	if l := c.talkLeg(); l != nil {
		c.hangupLeg(l, mediacore.CauseNormal)
		return nil
	}
	c.hangupCaller(mediacore.CauseNormal, side)
	return nil
}

// reserveAgent marks a target agent busy (internal) with the ACD so it is
// offered nothing else; refused when it is not logged in or busy.
func (c *call) reserveAgent(by Actor, agentID string) (store.Agent, error) {
	ctx, cancel := c.io()
	defer cancel()
	a, ok, err := c.cc.ctl.storedAgent(ctx, agentID)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, fmt.Errorf("%w: no agent %q", ErrInvalidTarget, agentID)
	}
	err = c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		return e.BeginInternal(acd.AgentID(agentID), originOf(by, agentID))
	})
	if err != nil {
		return a, fmt.Errorf("%w: agent %q: %w", ErrTargetUnavailable, agentID, err)
	}
	return a, nil
}

// releaseAgent ends an agent's internal call (back to ready or its
// not-ready reason).
func (c *call) releaseAgent(agentID string) {
	if agentID == "" {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		return e.EndInternal(acd.AgentID(agentID), acd.Origin{Kind: acd.BySystem})
	}); err != nil {
		c.log.Debug("end internal call", "agent_id", agentID, "err", err)
	}
}

// ctlTransfer validates a blind transfer's target and arms it: talk ends
// the agent's part (controlTalk) and the call goes on to the target.
func (c *call) ctlTransfer(by Actor, l *leg, t TransferTarget) error {
	x := &c.cctl
	if x.consult != nil {
		return fmt.Errorf("%w: a consultation is in progress", ErrCallState)
	}
	var next store.Target
	switch t.Kind {
	case TransferAgent:
		if t.Value == l.agent {
			return fmt.Errorf("%w: the call is already with agent %q", ErrInvalidTarget, t.Value)
		}
		if _, err := c.reserveAgent(by, t.Value); err != nil {
			return err
		}
		next = store.Target{Kind: targetAgent, Value: t.Value}
	case TransferQueue:
		ctx, cancel := c.io()
		q, _, ok, err := c.cc.ctl.storedQueue(ctx, t.Value)
		cancel()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no queue %q", ErrInvalidTarget, t.Value)
		}
		next = store.Target{Kind: store.TargetQueue, Value: q.ID}
	case TransferIVR:
		ctx, cancel := c.io()
		_, err := c.cc.flow(ctx, t.Value)
		cancel()
		if err != nil {
			return fmt.Errorf("%w: IVR flow %q: %w", ErrInvalidTarget, t.Value, err)
		}
		next = store.Target{Kind: store.TargetIVR, Value: t.Value}
	case TransferExtension, TransferExternal:
		ep, _ := targetEndpoint(t)
		next = store.Target{Kind: targetDial, Value: ep}
	}
	if err := c.retrieveCaller(); err != nil {
		c.log.Warn("transfer: caller still held", "err", err)
	}
	c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "blind", From: l.agent,
		Target: t.Kind + ":" + t.Value, By: by.UserID})
	x.next = &next
	c.publish("call.transferred", l.agent, nil, map[string]any{"kind": "blind", "target_kind": t.Kind,
		"target": t.Value, "by": by.UserID})
	return nil
}

// ctlConsult holds the caller and rings the consultation target.
func (c *call) ctlConsult(by Actor, l *leg, t TransferTarget) error {
	x := &c.cctl
	if x.consult != nil {
		return fmt.Errorf("%w: a consultation is in progress", ErrCallState)
	}
	ep, _ := targetEndpoint(t)
	agent := ""
	if t.Kind == TransferAgent {
		if t.Value == l.agent {
			return fmt.Errorf("%w: agent %q is on the call", ErrInvalidTarget, t.Value)
		}
		a, err := c.reserveAgent(by, t.Value)
		if err != nil {
			return err
		}
		agent, ep = a.ID, c.cc.agents.deviceOf(a.ID, a.Extension)
	}
	if err := c.holdCaller(); err != nil {
		c.releaseAgent(agent)
		return err
	}
	cl := c.newLeg("consult", ep, agent)
	x.consult = cl
	if agent != "" {
		c.screenPop(agent, ep, l.agent)
	}
	if err := c.originate(cl, ep, 0); err != nil {
		c.consultEnded(cl, "failed", by.UserID)
		return fmt.Errorf("%w: %w", ErrTargetUnavailable, err)
	}
	c.publish("call.consult", l.agent, c.consultAudience(l, cl), map[string]any{"target_kind": t.Kind, "target": t.Value,
		"endpoint": ep, "by": by.UserID})
	return nil
}

// consultAudience adds the consulted agent to the call's audience.
func (c *call) consultAudience(l, cl *leg) *cti.Audience {
	a := c.audience(l.agent)
	if cl.agent != "" {
		a.Agents = appendUnique(append([]string(nil), a.Agents...), cl.agent)
	}
	return &a
}

// screenPop publishes the call's screen pop to an agent a transfer or
// consultation rings: the same call.offered an ACD offer publishes.
func (c *call) screenPop(agent, dev, from string) {
	cu := c.lookupCustomer()
	p := map[string]any{"caller": c.in.Caller, "caller_name": c.in.CallerName, "called": c.in.Called,
		"number": c.cdr.Number, "vars": c.vars, "customer": cu, "device": dev, "transfer_from": from}
	if c.queue != nil {
		p["queue"], p["queue_name"] = c.queue.ID, c.queue.Name
	}
	aud := c.audience(agent)
	c.publish("call.offered", agent, &aud, p)
}

// consultEnded ends a consultation that did not become the conversation:
// the target's agent is released and the caller retrieved.
func (c *call) consultEnded(cl *leg, why, by string) {
	x := &c.cctl
	if x.consult != cl {
		return
	}
	x.consult = nil
	c.releaseAgent(cl.agent)
	wasConf := x.conf
	x.conf = false
	if !wasConf {
		if err := c.retrieveCaller(); err != nil {
			c.log.Warn("retrieve after the consultation", "err", err)
		}
	}
	c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "consult-" + why,
		Target: c.cdr.Legs[cl.idx].Endpoint, By: by})
	c.publish("call.consult-ended", c.viewAgent(), nil, map[string]any{"reason": why, "conference": wasConf,
		"target_agent": cl.agent})
}

// completeConsult hands the caller to the consulted party: the agent's
// leg ends, the caller is retrieved into the bridge it shares with the
// target, and the call goes on with the consult leg.
func (c *call) completeConsult(l *leg, by string) {
	x := &c.cctl
	cl := x.consult
	c.hangupLeg(l, mediacore.CauseNormal)
	if err := c.retrieveCaller(); err != nil {
		c.log.Warn("retrieve on completion", "err", err)
	}
	x.consult, x.conf = nil, false
	c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "attended", From: l.agent,
		Target: c.cdr.Legs[cl.idx].Endpoint, By: by})
	x.next = &store.Target{Kind: targetLeg, Value: string(cl.ch)}
	c.publish("call.transferred", l.agent, c.consultAudience(l, cl), map[string]any{"kind": "attended",
		"target": c.cdr.Legs[cl.idx].Endpoint, "target_agent": cl.agent, "by": by})
}

// controlTalk is talk's hook for live control, called with every message
// the conversation's loop takes; true ends the agent's part (talk returns
// with no REFER target and the call goes on to cctl.next).
func (c *call) controlTalk(l *leg, m any) bool {
	x := &c.cctl
	if ev, ok := m.(mediacore.Event); ok && x.consult != nil && ev.Channel == x.consult.ch {
		switch ev.Type {
		case mediacore.EventAnswered:
			ctx, cancel := c.io()
			if err := c.cc.media.AddToBridge(ctx, c.bridge, ev.Channel, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
				c.log.Warn("consult leg not bridged", "err", err)
			}
			if err := c.cc.media.SetDTMFDetection(ctx, ev.Channel, false); err != nil {
				c.log.Debug("dtmf detection off", "channel", ev.Channel, "err", err)
			}
			cancel()
			c.publish("call.consult-answered", l.agent, c.consultAudience(l, x.consult), map[string]any{
				"target_agent": x.consult.agent})
		case mediacore.EventHangup:
			c.consultEnded(x.consult, "target-hangup", "")
		}
	}
	if l.ended && !c.gone && x.next == nil && x.consult != nil && x.consult.answered && !x.consult.ended {
		// The agent left an answered consultation or a conference: the
		// caller and the target stay together.
		c.completeConsult(l, l.agent)
	}
	if x.next == nil {
		return false
	}
	if x.next.Kind != targetLeg {
		c.hangupLeg(l, mediacore.CauseNormal)
		c.destroyBridge()
	}
	x.muted = nil
	// The agent's part is over: a queue may offer the call again.
	c.agent = nil
	c.setView(func(v *LiveCall) { v.State, v.AgentID = "transferring", "" })
	return true
}

// takeNext returns (once) where the call goes after its agent's part.
func (c *call) takeNext() *store.Target {
	t := c.cctl.next
	c.cctl.next = nil
	if c.gone {
		return nil
	}
	return t
}

// executeControl carries the call to an agent a blind transfer reserved,
// to an extension or number, or on with the leg of a completed
// consultation.
func (c *call) executeControl(t store.Target) *store.Target {
	var l *leg
	switch t.Kind {
	case targetDial:
		return c.dial(t.Value, "blind")
	case targetAgent:
		l = c.ringAgent(t.Value)
		if l == nil {
			c.releaseAgent(t.Value)
			if c.gone {
				return nil
			}
			if c.queue != nil {
				// Nobody took it: back to the queue it came from.
				return &store.Target{Kind: store.TargetQueue, Value: c.queue.ID}
			}
			c.cdr.Outcome = store.OutcomeFailed
			c.hangupCaller(mediacore.CauseUnavailable, store.SideSystem)
			return nil
		}
		if err := c.connectLeg(l); err != nil {
			c.log.Warn("connect the transfer's agent", "err", err)
		}
	case targetLeg:
		l = c.legs[mediacore.ChannelID(t.Value)]
		if l == nil || l.ended {
			c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
			return nil
		}
	}
	if l.agent != "" {
		c.agent = l
		ctx, cancel := c.io()
		c.agentRec, _, _ = c.cc.ctl.storedAgent(ctx, l.agent)
		cancel()
		c.cdr.AgentID, c.cdr.AgentName, c.cdr.Extension = l.agent, c.agentRec.Name, c.agentRec.Extension
	}
	c.setView(func(v *LiveCall) { v.State, v.AgentID = "talking", l.agent })
	c.publish("call.answered", l.agent, nil, map[string]any{"agent_id": l.agent, "transfer": true,
		"recording_id": c.recID()})
	to := c.talk(l)
	c.releaseAgent(l.agent)
	if to != "" {
		return c.dial(to, "blind")
	}
	return c.takeNext()
}

// ringAgent rings a reserved agent's device (screen pop first) and waits
// for its answer; nil when it does not answer or the caller leaves.
func (c *call) ringAgent(agentID string) *leg {
	ctx, cancel := c.io()
	a, _, _ := c.cc.ctl.storedAgent(ctx, agentID)
	cancel()
	dev := c.cc.agents.deviceOf(agentID, a.Extension)
	c.screenPop(agentID, dev, c.cdr.AgentID)
	l := c.newLeg("agent", dev, agentID)
	c.setView(func(v *LiveCall) { v.State = "ringing" })
	timeout := 30 * time.Second
	if c.queue != nil && c.queue.RingTimeout > 0 {
		timeout = time.Duration(c.queue.RingTimeout) * time.Second
	}
	if err := c.originate(l, dev, timeout); err != nil {
		c.log.Warn("transfer: agent device unreachable", "agent_id", agentID, "err", err)
		return nil
	}
	for !c.gone && !l.ended && !l.answered {
		if _, ok := c.next(); !ok {
			return nil
		}
	}
	if c.gone || l.ended {
		c.hangupLeg(l, mediacore.CauseCancelled)
		return nil
	}
	return l
}

// controlCDR completes the CDR with what live control gathered, and
// keeps it for a disposition during wrap-up (finish, before journaling).
// An agent a consultation still reserved (the caller left meanwhile) is
// released.
func (c *call) controlCDR() {
	if cl := c.cctl.consult; cl != nil {
		c.cctl.consult = nil
		c.releaseAgent(cl.agent)
	}
	if d := c.cctl.disp; d != nil {
		c.cdr.Disposition, c.cdr.Notes = d.Disposition, d.Notes
	}
	c.cc.recent.remember(c.cdr)
}

// dispose sets a call's disposition and notes: a live call's actor puts
// them on the CDR it will write; once the call has ended (or ends before
// the actor takes the command) the CDR is amended. EndWrapUp then makes
// the call's agent ready (409 when it is not in wrap-up: the disposition
// is kept).
func (cc *CallCenter) dispose(ctx context.Context, by Actor, callID string, d DispositionRequest) error {
	if c := cc.call(callID); c != nil {
		live := d
		live.EndWrapUp = false
		v, err := c.command(ctx, by, CallControlRequest{Action: ActionDisposition, Disposition: live})
		switch {
		case err == nil:
			if !d.EndWrapUp {
				return nil
			}
			return cc.endWrapUp(ctx, by, v.AgentID)
		case !errors.Is(err, ErrNoSuchCall):
			return err
		}
	}
	return cc.disposeEnded(ctx, by, callID, d)
}

// endWrapUp makes an agent in wrap-up ready.
func (cc *CallCenter) endWrapUp(ctx context.Context, by Actor, agentID string) error {
	if agentID == "" {
		return fmt.Errorf("%w: the call has no agent", ErrCallState)
	}
	err := cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		st, err := e.Agent(acd.AgentID(agentID))
		if err != nil {
			return nil, err
		}
		if st.State != acd.StateWrapUp {
			return nil, fmt.Errorf("%w: agent %q is %s, not in wrap-up", ErrCallState, agentID, st.State)
		}
		return e.SetReady(acd.AgentID(agentID), originOf(by, agentID))
	})
	if err != nil && isIllegal(err) {
		return fmt.Errorf("%w: %w", ErrIllegalTransition, err)
	}
	return err
}

// disposeEnded sets the disposition of a call that has ended: its CDR
// (the recent copy, or the stored one) is journaled again with it.
func (cc *CallCenter) disposeEnded(ctx context.Context, by Actor, callID string, d DispositionRequest) error {
	cdr, ok := cc.recent.get(callID)
	if !ok {
		var err error
		if cdr, err = cc.ctl.st.CDRs().Get(ctx, callID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
			}
			return err
		}
	}
	if err := mayControl(by, cdr.AgentID, callID); err != nil {
		return err
	}
	cdr.Disposition, cdr.Notes = d.Disposition, d.Notes
	cc.recent.put(cdr)
	cc.opt.Journal.CallEnded(cdr)
	aud := cti.Audience{Agents: []string{cdr.AgentID}}
	cc.publish("call.disposition", callID, cdr.AgentID, cdr.Queue, cc.clk.Now(), aud,
		map[string]any{"disposition": d.Disposition, "notes": d.Notes, "by": by.UserID})
	if !d.EndWrapUp {
		return nil
	}
	return cc.endWrapUp(ctx, by, cdr.AgentID)
}

// ClickToDial implements LiveControl: the agent's device rings first
// (the number as caller id); when it answers, the number is dialled
// (tel/<number> through a trunk, with the trunk's configured caller id,
// or user/<extension> for a short internal number) and bridged. The call
// is the agent's internal call for the ACD (offered nothing meanwhile).
func (cc *CallCenter) ClickToDial(ctx context.Context, by Actor, req ClickToDialRequest) (LiveCall, error) {
	if req.AgentID == "" && by.Role == store.RoleAgent {
		req.AgentID = by.AgentID
	}
	if err := mayActOn(by, req.AgentID); err != nil {
		return LiveCall{}, err
	}
	callAgent := req.Device != ""
	ep := callbackEndpoint(req.Number)
	if callAgent {
		if by.Role != store.RoleAdmin && by.Role != store.RoleSupervisor {
			return LiveCall{}, fmt.Errorf("%w: %s may not call an agent from a device", ErrForbidden, by.Role)
		}
		if _, err := mediacore.ParseEndpoint(req.Device); err != nil {
			return LiveCall{}, fmt.Errorf("%w: device %q: %w", ErrInvalidDevice, req.Device, err)
		}
	} else if _, err := mediacore.ParseEndpoint(ep); err != nil || req.Number == "" {
		return LiveCall{}, fmt.Errorf("%w: %q", ErrInvalidNumber, req.Number)
	}
	a, ok, err := cc.ctl.storedAgent(ctx, req.AgentID)
	if err != nil {
		return LiveCall{}, err
	}
	if !ok {
		return LiveCall{}, fmt.Errorf("%w: agent %q", store.ErrNotFound, req.AgentID)
	}
	if callAgent {
		if err := mayActOnTeam(by, a); err != nil {
			return LiveCall{}, err
		}
		// The agent's phone is the second leg, its extension the number.
		ep, req.Number = cc.agents.deviceOf(a.ID, a.Extension), a.Extension
	}
	if err := cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		return e.BeginInternal(acd.AgentID(a.ID), originOf(by, a.ID))
	}); err != nil {
		return LiveCall{}, fmt.Errorf("%w: agent %q: %w", ErrTargetUnavailable, a.ID, err)
	}
	cc.mu.Lock()
	if cc.closed {
		cc.mu.Unlock()
		return LiveCall{}, ErrClosed
	}
	c := cc.spawn(mediacore.NewID("call"))
	c.start = cc.clk.Now()
	c.setView(func(v *LiveCall) {
		*v = LiveCall{ID: c.id, Direction: "outbound", Caller: a.Extension, Called: req.Number, State: "ringing",
			AgentID: a.ID, Start: c.start}
	})
	cc.wg.Add(1)
	cc.mu.Unlock()
	go c.runClickToDial(a, req.Device, ep, req.Number, by)
	return c.snapshot(), nil
}

// runClickToDial rings first (the agent's device when empty; a
// supervisor's calling the agent), then ep.
func (c *call) runClickToDial(a store.Agent, first, ep, number string, by Actor) {
	defer c.cc.wg.Done()
	c.agentRec = a
	c.in = mediacore.Event{Caller: a.Extension, Called: number}
	c.ch = mediacore.ChannelID(c.id + "-cust")
	c.cdr = store.CDR{ID: c.id, Direction: "outbound", Caller: a.Extension, Called: number, Start: c.start,
		AgentID: a.ID, AgentName: a.Name, Extension: a.Extension,
		IVRPath: []store.IVRStep{}, Transfers: []store.CDRTransfer{},
		Legs: []store.CDRLeg{{Channel: string(c.ch), Role: "callee", Endpoint: ep}}}
	c.vars["click_to_dial"], c.vars["dialled_by"] = "true", by.UserID
	c.gone = true // no customer on the line until it is dialled
	c.publish("call.dialing", a.ID, nil, map[string]any{"number": number, "agent_id": a.ID, "by": by.UserID})
	dev, role, legAgent := c.cc.agents.deviceOf(a.ID, a.Extension), "agent", a.ID
	if first != "" {
		dev, role, legAgent = first, "supervisor", ""
		c.vars["call_agent"] = a.ID
		c.cdr.Direction = "internal"
		c.cdr.Legs[0].Role = "agent"
	}
	agent := c.newLeg(role, dev, legAgent)
	ctx, cancel := c.io()
	_, err := c.cc.media.Originate(ctx, mediacore.OriginateRequest{ChannelID: agent.ch, Endpoint: dev,
		CallerIDNumber: number, Timeout: 30 * time.Second})
	cancel()
	if node, ok := c.cc.media.NodeOf(agent.ch); ok {
		c.cdr.Legs[agent.idx].Node, c.cdr.Node = node, node
	}
	if err != nil {
		c.log.Warn("click-to-dial: agent device unreachable", "device", dev, "err", err)
		agent.ended = true
	}
	for !agent.ended && !agent.answered {
		if _, ok := c.next(); !ok {
			break
		}
	}
	c.agent = agent
	if agent.answered && !agent.ended {
		c.dialCustomer(agent, ep)
	}
	c.releaseAgent(a.ID)
	if c.cdr.Outcome == "" {
		c.cdr.Outcome = store.OutcomeFailed
		if c.cdr.Answer == nil && agent.answered {
			c.cdr.Outcome = store.OutcomeAbandoned
		}
	}
	for t := c.takeNext(); t != nil && !c.gone; {
		t = c.execute(*t, 0)
	}
	c.finish()
}

// dialCustomer dials the number from the agent's answered leg (ringback
// to the agent meanwhile) and talks.
func (c *call) dialCustomer(agent *leg, ep string) {
	c.gone = false
	c.cc.bind(c.ch, c)
	c.cdr.Legs[0].Start = c.now()
	ctx, cancel := c.io()
	rb, _ := c.cc.media.Play(ctx, mediacore.ChannelTarget(agent.ch),
		mediacore.PlayRequest{Media: []mediacore.Media{mediacore.ToneFor(mediacore.ToneRingback, 0)}, Loop: true})
	// An empty caller id lets the trunk present its configured one.
	_, err := c.cc.media.Originate(ctx, mediacore.OriginateRequest{ChannelID: c.ch, Endpoint: ep, Near: agent.ch})
	cancel()
	if err != nil {
		c.log.Warn("click-to-dial: number not dialled", "endpoint", ep, "err", err)
		c.gone = true
		c.cdr.Legs[0].End, c.cdr.Legs[0].Cause = c.now(), mediacore.CauseFailure.String()
	}
	for !c.gone && !c.answered && !agent.ended {
		if _, ok := c.next(); !ok {
			break
		}
	}
	c.stopPlayback(rb)
	if !c.answered || agent.ended || c.gone {
		if c.cdr.Legs[0].Cause != "" {
			c.vars["dial_result"] = c.cdr.Legs[0].Cause
		}
		return
	}
	if err := c.connectLeg(agent); err != nil {
		c.log.Warn("click-to-dial: bridge", "err", err)
	}
	t := c.now()
	if a := c.cdr.Legs[0].Answer; a != nil {
		t = *a
	}
	c.cdr.Answer = &t
	c.cdr.Outcome = store.OutcomeAnswered
	c.setView(func(v *LiveCall) { v.State, v.Answer = "talking", &t })
	c.publish("call.answered", agent.agent, nil, map[string]any{"agent_id": agent.agent, "click_to_dial": true})
	if to := c.talk(agent); to != "" {
		c.cctl.next = &store.Target{Kind: store.TargetExternal, Value: to}
	}
}

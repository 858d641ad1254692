package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"hotline/acd"
	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore"
)

// PBX features (R1.6, R1.7): calls between registered extensions, call
// forward and do-not-disturb, follow-me, ring groups, call pickup, call
// parking and the work number announcement. They run in the call actors
// like the rest of the call path; pbxState is the little they share (who
// is registered, what rings, what is parked).

// Feature codes and defaults of the PBX.
const (
	// CodeGroupPickup, dialled, answers a call ringing an extension of
	// the dialler's team (pickup group = team).
	CodeGroupPickup = "*8"
	// CodeDirectedPickup followed by an extension ("**1002") answers the
	// call ringing that extension.
	CodeDirectedPickup = "**"
	// ParkAny, as a blind transfer target, parks the call on the first
	// free slot; ParkFirst..ParkLast are the slots: a transfer to one
	// parks there, dialling one retrieves what is parked there.
	ParkAny   = "700"
	ParkFirst = 701
	ParkLast  = 719
	// DefaultParkTimeout is how long a call stays parked before it rings
	// back the one who parked it.
	DefaultParkTimeout = 60 * time.Second
	// DefaultNoAnswerTimeout is how long an extension rings before its
	// no-answer forward (or the end of the call).
	DefaultNoAnswerTimeout = 20 * time.Second
	// DefaultFollowMeDelay is how long the desk rings alone in sequential
	// follow-me.
	DefaultFollowMeDelay = 10 * time.Second
	// DefaultRingGroupTimeout is a ring group's ring time when it sets
	// none.
	DefaultRingGroupTimeout = 20 * time.Second
	// pbxHandoffWait bounds how long a pickup or retrieve waits for the
	// target call's actor to take the channel.
	pbxHandoffWait = 5 * time.Second
)

// Errors of the PBX features.
var (
	// ErrNothingToPickUp: no call rings that the actor may pick up (404).
	ErrNothingToPickUp = errors.New("controller: no ringing call to pick up")
	// ErrSlotTaken: the park slot holds a call already, or none is free
	// (409).
	ErrSlotTaken = errors.New("controller: park slot taken")
	// ErrInvalidSlot: not a park slot (400).
	ErrInvalidSlot = errors.New("controller: invalid park slot")
	// ErrNotTalking: the call is in no conversation to park (409).
	ErrNotTalking = errors.New("controller: call is not talking")
)

// pbxState is what the call actors share about the PBX. mu guards every
// map; the *pbxWait values' unexported actor fields belong to the actor of
// their call.
type pbxState struct {
	mu      sync.Mutex
	regs    map[string]int      // extension -> registered contacts
	waits   map[string]*pbxWait // call id -> what the call waits for (ringing, parked)
	slots   map[string]*pbxWait // park slot -> the parked call
	fmTimer map[fmKey]fmPending // sequential follow-me timers of queue offers
	talking map[string]int      // extension -> extension calls it talks on
}

type fmKey struct {
	c  *call
	id uint64 // the call's timer
}

// pbxWait is a call that rings extensions or sits parked: another phone
// may take it (pickup, retrieve).
type pbxWait struct {
	c      *call
	since  time.Time
	exts   map[string]string // ringing extension -> its agent's team
	slot   string            // parked on
	parker string            // agent who parked it
	// queue: a queued call whose ACD offer rings exts; a pickup moves
	// the offer to the picker (acd.Engine.PickUp) before it connects.
	queue bool
	// Owned by c's actor.
	taken *leg       // the channel of the phone that took the call
	add   []ringDest // destinations added while ringing (REST pickup)
}

type fmPending struct {
	c     *call
	agent string
	dest  string
}

// pbxWake tells a waiting actor that its pbxWait changed (cmdMsg runs
// inside next, which returns only for a message).
type pbxWake struct{}

func (s *pbxState) lockedInit() {
	if s.regs == nil {
		s.regs = map[string]int{}
		s.waits = map[string]*pbxWait{}
		s.slots = map[string]*pbxWait{}
		s.fmTimer = map[fmKey]fmPending{}
		s.talking = map[string]int{}
	}
}

// pbxRegistration follows the registrar: an extension is registered while
// it has a contact.
func (cc *CallCenter) pbxRegistration(ev mediacore.Event) {
	user, ok := strings.CutPrefix(ev.Endpoint, "user/")
	if !ok {
		return
	}
	s := &cc.pbx
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lockedInit()
	switch ev.Type {
	case mediacore.EventEndpointRegistered:
		s.regs[user]++
	case mediacore.EventEndpointUnregistered:
		if s.regs[user]--; s.regs[user] <= 0 {
			delete(s.regs, user)
		}
	}
}

// registered reports whether an extension's phone is registered (as far
// as the events since the call center started tell).
func (cc *CallCenter) registered(ext string) bool {
	cc.pbx.mu.Lock()
	defer cc.pbx.mu.Unlock()
	return cc.pbx.regs[ext] > 0
}

// agentByExtension reads an agent by extension from the store.
func (c *call) agentByExtension(ext string) (store.Agent, bool) {
	if ext == "" {
		return store.Agent{}, false
	}
	ctx, cancel := c.io()
	defer cancel()
	a, err := c.cc.ctl.st.Agents().GetByExtension(ctx, ext)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.Warn("extension lookup", "extension", ext, "err", err)
		}
		return store.Agent{}, false
	}
	return a, !a.Disabled
}

// pbxRoute routes a call whose called number is no configured number: a
// registered phone (no trunk, its caller an extension) dialling a feature
// code, a park slot, a ring group or another extension. done is false for
// anything else (the call is refused as an unknown number).
func (c *call) pbxRoute() (t *store.Target, done bool) {
	if c.in.Trunk != "" {
		return nil, false
	}
	me, ok := c.agentByExtension(c.in.Caller)
	if !ok {
		return nil, false
	}
	called := c.in.Called
	internal := func() {
		c.cdr.Direction = "internal"
		c.setView(func(v *LiveCall) { v.Direction = "internal" })
	}
	switch {
	case called == CodeGroupPickup:
		internal()
		c.pickupByPhone(me, "")
		return nil, true
	case strings.HasPrefix(called, CodeDirectedPickup) && len(called) > len(CodeDirectedPickup):
		internal()
		c.pickupByPhone(me, called[len(CodeDirectedPickup):])
		return nil, true
	case isParkSlot(called):
		internal()
		c.retrieve(me, called)
		return nil, true
	}
	ctx, cancel := c.io()
	g, err := c.cc.ctl.st.RingGroups().GetByNumber(ctx, called)
	cancel()
	if err == nil {
		internal()
		return &store.Target{Kind: store.TargetRingGroup, Value: g.ID}, true
	}
	if _, ok := c.agentByExtension(called); ok {
		internal()
		return &store.Target{Kind: store.TargetExtension, Value: called}, true
	}
	return nil, false
}

func isParkSlot(s string) bool {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return false
	}
	return n >= ParkFirst && n <= ParkLast
}

// pbxDial takes over dial for the PBX's own destinations: an extension of
// an agent (forward, DND, follow-me apply) and the park codes (a blind
// transfer to 700 or a slot parks the call). done is false for anything
// else, which dial connects as before.
func (c *call) pbxDial(endpoint, kind string) (*store.Target, bool) {
	user, ok := strings.CutPrefix(endpoint, "user/")
	if !ok {
		return nil, false
	}
	if user == ParkAny || isParkSlot(user) {
		return c.park(user), true
	}
	a, ok := c.agentByExtension(user)
	if !ok {
		return nil, false
	}
	if kind == "extension" && c.cdr.Direction != "internal" {
		c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: kind, Target: endpoint})
	}
	return c.dialExtension(a, 0), true
}

// maxForwards bounds a chain of forwards (1001 -> 1002 -> 1001 ...).
const maxForwards = 5

// dialExtension rings an agent's extension by its PBX settings: forward
// always, DND and busy (the agent on a call, or its phone answering busy)
// go to the busy forward or refuse the caller busy; the desk (and the
// mobile with follow-me) rings for the no-answer timeout, then the
// no-answer forward takes the call or it ends.
func (c *call) dialExtension(a store.Agent, hops int) *store.Target {
	s := store.PBXSettings{}
	if a.PBX != nil {
		s = *a.PBX
	}
	log := c.log.With("extension", a.Extension)
	if s.ForwardAlways != "" && hops < maxForwards {
		return c.forward(a, s.ForwardAlways, "always", hops)
	}
	busy := s.DND || c.cc.extensionBusy(a)
	if busy {
		log.Info("extension busy", "dnd", s.DND)
		return c.busy(a, s, hops)
	}
	timeout := DefaultNoAnswerTimeout
	if s.NoAnswerTimeout > 0 {
		timeout = time.Duration(s.NoAnswerTimeout) * time.Second
	}
	dests := c.extensionDests(a, s, timeout)
	c.setView(func(v *LiveCall) { v.State = "ringing" })
	c.ringingCaller()
	r := c.ring(dests)
	switch {
	case r.leg != nil:
		return c.connectExtension(r.leg)
	case c.gone:
		c.cdr.Outcome = store.OutcomeAbandoned
		return nil
	case r.busy:
		return c.busy(a, s, hops)
	}
	if s.ForwardNoAnswer != "" && hops < maxForwards {
		return c.forward(a, s.ForwardNoAnswer, "no-answer", hops)
	}
	// Without a forward, the agent's voicemail box takes the call.
	if t := c.noAnswerVoicemail("user/"+a.Extension, "extension"); t != nil {
		return t
	}
	c.cdr.Outcome = store.OutcomeAbandoned
	c.hangupCaller(mediacore.CauseNoAnswer, store.SideSystem)
	return nil
}

// busy forwards on busy or refuses the caller busy (486).
func (c *call) busy(a store.Agent, s store.PBXSettings, hops int) *store.Target {
	if s.ForwardBusy != "" && hops < maxForwards {
		return c.forward(a, s.ForwardBusy, "busy", hops)
	}
	// Without a forward, the agent's voicemail box takes the call (as on
	// no answer; DND counts as busy).
	if t := c.noAnswerVoicemail("user/"+a.Extension, "extension"); t != nil {
		c.vars["voicemail_reason"] = "busy"
		return t
	}
	c.cdr.Outcome = store.OutcomeRejected
	c.vars["extension_busy"] = a.Extension
	c.hangupCaller(mediacore.CauseBusy, store.SideSystem)
	return nil
}

// forward sends the call on: to another extension (whose own settings
// apply) or to a number through a trunk.
func (c *call) forward(from store.Agent, to, why string, hops int) *store.Target {
	c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "forward-" + why,
		From: from.Extension, Target: to})
	c.publish("call.forwarded", from.ID, nil, map[string]any{"extension": from.Extension, "target": to, "reason": why})
	if a, ok := c.agentByExtension(to); ok {
		return c.dialExtension(a, hops+1)
	}
	ep := to
	if _, err := mediacore.ParseEndpoint(ep); err != nil {
		ep = "tel/" + to
	}
	return c.dial(ep, "forward")
}

// extensionBusy: the agent is on a call (a queue call, or an extension
// call it answered).
func (cc *CallCenter) extensionBusy(a store.Agent) bool {
	s := cc.agents.session(a.ID, cc.clk.Now())
	if s.state == acd.StateBusy || s.state == acd.StateReserved {
		return true
	}
	cc.pbx.mu.Lock()
	defer cc.pbx.mu.Unlock()
	return cc.pbx.talking[a.Extension] > 0
}

// extensionDests is where an extension call rings: the agent's device
// (its session's, or its registered phone), and with follow-me its mobile
// through a trunk, together or after FollowMeDelay. A desk phone known to
// be unregistered does not ring when there is a mobile to ring.
func (c *call) extensionDests(a store.Agent, s store.PBXSettings, timeout time.Duration) []ringDest {
	dev := c.cc.agents.deviceOf(a.ID, a.Extension)
	desk := ringDest{endpoint: dev, ext: a.Extension, agent: a.ID, team: a.Team, stop: timeout, role: "extension"}
	mobile, ok := followMe(a, s)
	if !ok {
		return []ringDest{desk}
	}
	m := ringDest{endpoint: mobile, agent: a.ID, team: a.Team, stop: timeout, role: "mobile"}
	if dev == "user/"+a.Extension && !c.cc.registered(a.Extension) {
		return []ringDest{m}
	}
	if s.FollowMe == store.FollowMeSequential {
		m.start = followMeDelay(s)
		m.stop = max(timeout, m.start+timeout/2)
	}
	return []ringDest{desk, m}
}

// followMe returns the mobile endpoint when follow-me is on.
func followMe(a store.Agent, s store.PBXSettings) (string, bool) {
	if s.FollowMe == store.FollowMeOff || a.MobileNumber == "" {
		return "", false
	}
	ep := "tel/" + strings.ReplaceAll(a.MobileNumber, " ", "")
	if _, err := mediacore.ParseEndpoint(ep); err != nil {
		return "", false
	}
	return ep, true
}

func followMeDelay(s store.PBXSettings) time.Duration {
	if s.FollowMeDelay > 0 {
		return time.Duration(s.FollowMeDelay) * time.Second
	}
	return DefaultFollowMeDelay
}

// ringingCaller tells an unanswered caller its call rings (180): the
// caller is answered only when someone answers.
func (c *call) ringingCaller() {
	if c.answered || c.gone {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.Ring(ctx, c.ch); err != nil {
		c.log.Debug("ring the caller", "err", err)
	}
}

// connectExtension bridges the caller with the extension (or mobile, or
// picker) that answered and talks; a blind transfer from that phone goes
// on from here.
func (c *call) connectExtension(l *leg) *store.Target {
	if err := c.answer(); err != nil {
		c.log.Warn("answer", "err", err)
	}
	if err := c.connectLeg(l); err != nil {
		c.log.Warn("connect extension", "err", err)
	}
	t := c.now()
	if a := c.cdr.Legs[l.idx].Answer; a != nil {
		t = *a
	}
	if c.cdr.Answer == nil {
		c.cdr.Answer = &t
	}
	ext := ""
	if a, ok, _ := c.cc.ctl.storedAgent(c.ctx, l.agent); ok {
		ext = a.Extension
		c.cdr.Extension, c.cdr.AgentName = a.Extension, a.Name
	}
	c.cdr.Outcome = store.OutcomeAnswered
	c.setView(func(v *LiveCall) { v.State, v.Answer, v.AgentID = "talking", c.cdr.Answer, l.agent })
	c.publish("call.answered", l.agent, nil, map[string]any{"agent_id": l.agent, "extension": ext,
		"endpoint": c.cdr.Legs[l.idx].Endpoint})
	c.talking(ext, 1)
	to := c.talk(l)
	c.talking(ext, -1)
	if to != "" {
		return c.dial(to, "blind")
	}
	return nil
}

// ringbackTone is what an answered caller hears while an extension rings
// (450 Hz, 1 s on, 4 s off: the Chinese ringback cadence).
var ringbackTone = mediacore.Tone{Freqs: []float64{450}, On: time.Second, Off: 4 * time.Second}

// talking counts an extension's extension calls in progress (busy).
func (c *call) talking(ext string, d int) {
	if ext == "" {
		return
	}
	c.cc.pbx.mu.Lock()
	defer c.cc.pbx.mu.Unlock()
	c.cc.pbx.lockedInit()
	if c.cc.pbx.talking[ext] += d; c.cc.pbx.talking[ext] <= 0 {
		delete(c.cc.pbx.talking, ext)
	}
}

// ringDest is one phone a ring rings: from start to stop after the ring
// began.
type ringDest struct {
	endpoint    string
	ext         string // the extension, for pickup ("" for a mobile)
	agent       string
	team        string
	role        string // the CDR leg's role
	start, stop time.Duration
}

type ringResult struct {
	leg  *leg // answered (or taken by a pickup)
	busy bool // every phone that ended said busy
}

// ring rings dests on their schedule until one answers (or a pickup takes
// the call), all have ended or stopped, or the caller leaves. The
// extensions ringing can be picked up meanwhile.
func (c *call) ring(dests []ringDest) ringResult {
	w := &pbxWait{c: c, since: c.now(), exts: map[string]string{}}
	c.cc.pbx.mu.Lock()
	c.cc.pbx.lockedInit()
	c.cc.pbx.waits[c.id] = w
	c.cc.pbx.mu.Unlock()
	defer func() {
		c.cc.pbx.mu.Lock()
		delete(c.cc.pbx.waits, c.id)
		c.cc.pbx.mu.Unlock()
	}()
	if c.answered && !c.gone {
		// An answered caller (after an IVR, a park) hears no 180: it
		// hears a ringback tone until someone answers.
		rb, err := c.play([]mediacore.Media{mediacore.ToneFor(ringbackTone, 0)}, true)
		if err != nil {
			c.log.Debug("ringback", "err", err)
		}
		defer c.stopPlayback(rb)
	}
	start := c.now()
	legs := make([]*leg, len(dests))
	over := make([]bool, len(dests))
	busy, ended := 0, 0
	var tid uint64
	hangAll := func(cause mediacore.Cause, except *leg) {
		for _, l := range legs {
			if l != nil && l != except && !l.ended {
				c.hangupLeg(l, cause)
			}
		}
	}
	for {
		dests = append(dests, w.add...)
		for range w.add {
			legs, over = append(legs, nil), append(over, false)
		}
		w.add = nil
		if w.taken != nil {
			c.stop(tid)
			hangAll(mediacore.CauseCancelled, nil)
			return ringResult{leg: w.taken}
		}
		if c.gone {
			c.stop(tid)
			hangAll(mediacore.CauseCancelled, nil)
			return ringResult{}
		}
		el := c.now().Sub(start)
		next := time.Duration(-1)
		soon := func(d time.Duration) {
			if d > el && (next < 0 || d < next) {
				next = d
			}
		}
		for i, d := range dests {
			switch {
			case over[i]:
			case legs[i] == nil && el >= d.start:
				l := c.newLeg(cmp.Or(d.role, "extension"), d.endpoint, d.agent)
				legs[i] = l
				if err := c.originate(l, d.endpoint, d.stop-el+2*time.Second); err != nil {
					c.log.Info("ring destination unreachable", "endpoint", d.endpoint, "err", err)
					over[i] = true
					ended++
					continue
				}
				c.ringExt(w, d, true)
				// The team sees it too (its supervisor; a pickup over REST
				// names the call).
				aud := cti.Audience{Agents: []string{d.agent}}
				if d.team != "" {
					aud.Teams = []string{d.team}
				}
				c.publish("call.ringing", d.agent, &aud, map[string]any{"caller": c.in.Caller,
					"caller_name": c.in.CallerName, "endpoint": d.endpoint, "extension": d.ext, "role": d.role})
				soon(d.stop)
			case legs[i] == nil:
				soon(d.start)
			case legs[i].ended:
				over[i] = true
				ended++
				c.ringExt(w, d, false)
				if cause := c.cdr.Legs[legs[i].idx].Cause; cause == mediacore.CauseBusy.String() {
					busy++
				}
			case el >= d.stop:
				c.hangupLeg(legs[i], mediacore.CauseNoAnswer)
				over[i] = true
				ended++
				c.ringExt(w, d, false)
			default:
				soon(d.stop)
			}
		}
		if ended == len(dests) {
			return ringResult{busy: busy > 0 && busy == ended}
		}
		if pullForward(dests, legs, over, el) {
			// Nothing rings now (the last phone refused or is
			// unreachable): the next ones start at once rather than
			// leaving the caller in silence until their turn.
			continue
		}
		c.stop(tid)
		tid = 0
		if next >= 0 {
			tid = c.after(next-el, "ring")
		}
		m, ok := c.next()
		if !ok {
			hangAll(mediacore.CauseNormal, nil)
			return ringResult{}
		}
		if ev, isEv := m.(mediacore.Event); isEv && ev.Type == mediacore.EventAnswered {
			for _, l := range legs {
				if l != nil && l.ch == ev.Channel && !l.ended {
					c.stop(tid)
					hangAll(mediacore.CauseCancelled, l)
					return ringResult{leg: l}
				}
			}
		}
	}
}

// pullForward moves the schedule of the destinations not started yet
// earlier, so that the first of them starts now, when none rings (all
// started ones are over). It reports whether it moved anything.
func pullForward(dests []ringDest, legs []*leg, over []bool, el time.Duration) bool {
	first := time.Duration(-1)
	for i, d := range dests {
		switch {
		case legs[i] != nil && !over[i]:
			return false // one rings
		case legs[i] == nil && !over[i] && (first < 0 || d.start < first):
			first = d.start
		}
	}
	if first <= el {
		return false
	}
	shift := first - el
	for i := range dests {
		if legs[i] == nil && !over[i] {
			dests[i].start -= shift
			dests[i].stop -= shift
		}
	}
	return true
}

// ringExt notes an extension that starts or stops ringing for pickup.
func (c *call) ringExt(w *pbxWait, d ringDest, on bool) {
	if d.ext == "" {
		return
	}
	c.cc.pbx.mu.Lock()
	defer c.cc.pbx.mu.Unlock()
	if on {
		w.exts[d.ext] = d.team
	} else {
		delete(w.exts, d.ext)
	}
}

// ringGroup rings a ring group's members, all together or one after the
// other, and connects the first to answer; nobody answering sends the
// call to the group's no-answer target.
func (c *call) ringGroup(id string) *store.Target {
	ctx, cancel := c.io()
	g, err := c.cc.ctl.st.RingGroups().Get(ctx, id)
	cancel()
	if err != nil {
		c.log.Error("ring group unusable", "ring_group", id, "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
		return nil
	}
	c.vars["ring_group"] = g.Name
	timeout := DefaultRingGroupTimeout
	if g.RingTimeout > 0 {
		timeout = time.Duration(g.RingTimeout) * time.Second
	}
	var dests []ringDest
	for _, ext := range g.Members {
		a, ok := c.agentByExtension(ext)
		if !ok {
			continue
		}
		var s store.PBXSettings
		if a.PBX != nil {
			s = *a.PBX
		}
		if s.DND || c.cc.extensionBusy(a) {
			continue
		}
		d := ringDest{endpoint: c.cc.agents.deviceOf(a.ID, a.Extension), ext: a.Extension, agent: a.ID,
			team: a.Team, role: "ring-group", stop: timeout}
		if g.Strategy == store.RingSequential {
			d.start = time.Duration(len(dests)) * timeout
			d.stop = d.start + timeout
		}
		dests = append(dests, d)
	}
	c.setView(func(v *LiveCall) { v.State = "ringing" })
	c.ringingCaller()
	if len(dests) > 0 {
		r := c.ring(dests)
		if r.leg != nil {
			return c.connectExtension(r.leg)
		}
	}
	if c.gone {
		c.cdr.Outcome = store.OutcomeAbandoned
		return nil
	}
	if g.NoAnswer != nil {
		t := *g.NoAnswer
		return &t
	}
	c.cdr.Outcome = store.OutcomeAbandoned
	c.hangupCaller(mediacore.CauseNoAnswer, store.SideSystem)
	return nil
}

// queuePickup makes a queued call pickable while the ACD's offers ring
// its agents' extensions (gap: "a ringing offer picked up by another
// agent of the group"); done unregisters it.
func (c *call) queuePickup() (w *pbxWait, done func()) {
	w = &pbxWait{c: c, since: c.now(), exts: map[string]string{}, queue: true}
	c.cc.pbx.mu.Lock()
	c.cc.pbx.lockedInit()
	c.cc.pbx.waits[c.id] = w
	c.cc.pbx.mu.Unlock()
	return w, func() {
		c.cc.pbx.mu.Lock()
		if c.cc.pbx.waits[c.id] == w {
			delete(c.cc.pbx.waits, c.id)
		}
		c.cc.pbx.mu.Unlock()
	}
}

// syncQueuePickup sets the extensions a queued call's offers ring now
// (offered: the agents offered the call, by id).
func (c *call) syncQueuePickup(w *pbxWait, offered map[string]store.Agent) {
	exts := map[string]string{}
	for _, l := range c.legs {
		if a, ok := offered[l.agent]; ok && l.offerLive && !l.ended && a.Extension != "" {
			exts[a.Extension] = a.Team
		}
	}
	c.cc.pbx.mu.Lock()
	w.exts = exts
	c.cc.pbx.mu.Unlock()
}

// findPickup finds the oldest ringing call the agent may pick up: the
// one ringing ext, or (ext "") one ringing an extension of the agent's
// team other than its own.
func (cc *CallCenter) findPickup(me store.Agent, ext string) *pbxWait {
	cc.pbx.mu.Lock()
	defer cc.pbx.mu.Unlock()
	var best *pbxWait
	for _, w := range cc.pbx.waits {
		if w.slot != "" || w.c.id == "" {
			continue
		}
		ok := false
		for e, team := range w.exts {
			switch {
			case ext != "":
				ok = ok || e == ext
			default:
				ok = ok || e != me.Extension && team != "" && team == me.Team
			}
		}
		if ok && (best == nil || w.since.Before(best.since)) {
			best = w
		}
	}
	return best
}

// pickupByPhone: the caller's phone dialled a pickup code; its channel
// joins the ringing call, whose actor connects it (this call ends
// without hanging the channel up).
func (c *call) pickupByPhone(me store.Agent, ext string) {
	w := c.cc.findPickup(me, ext)
	if w == nil {
		c.log.Info("nothing to pick up", "extension", ext)
		c.cdr.Outcome = store.OutcomeRejected
		c.hangupCaller(mediacore.CauseUnallocated, store.SideSystem)
		return
	}
	c.handOff(w, me, "pickup")
}

// retrieve: the caller's phone dialled a park slot; its channel joins the
// parked call.
func (c *call) retrieve(me store.Agent, slot string) {
	c.cc.pbx.mu.Lock()
	c.cc.pbx.lockedInit()
	w := c.cc.pbx.slots[slot]
	c.cc.pbx.mu.Unlock()
	if w == nil {
		c.log.Info("nothing parked", "slot", slot)
		c.cdr.Outcome = store.OutcomeRejected
		c.hangupCaller(mediacore.CauseUnallocated, store.SideSystem)
		return
	}
	c.handOff(w, me, "retrieve")
}

// handOff gives this call's channel to the waiting call w: w's actor
// binds it, answers it and connects it to its caller. This call's actor
// then ends without hanging the channel up.
func (c *call) handOff(w *pbxWait, me store.Agent, role string) {
	done := make(chan error, 1)
	ch, in := c.ch, c.in
	ok := w.c.box.put(cmdMsg(func(t *call) {
		if t.gone || w.taken != nil {
			done <- ErrNothingToPickUp
			return
		}
		t.cc.pbx.mu.Lock()
		live := t.cc.pbx.waits[t.id] == w
		t.cc.pbx.mu.Unlock()
		if !live {
			done <- ErrNothingToPickUp
			return
		}
		if w.queue {
			// The ACD moves the offer first: if it no longer rings
			// (answered, timed out meanwhile), nothing is touched.
			ctx, cancel := t.io()
			err := t.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
				return e.PickUp(acd.CallID(t.id), acd.AgentID(me.ID), acd.Origin{Kind: acd.ByAgent, By: me.ID})
			})
			cancel()
			if err != nil {
				done <- fmt.Errorf("%w: %w", ErrNothingToPickUp, err)
				return
			}
		}
		t.cc.bind(ch, t)
		l := &leg{ch: ch, agent: me.ID, idx: len(t.cdr.Legs)}
		t.legs[ch] = l
		t.cdr.Legs = append(t.cdr.Legs, store.CDRLeg{Channel: string(ch), Role: role, Endpoint: "user/" + in.Caller,
			AgentID: me.ID, Start: t.now()})
		ctx, cancel := t.io()
		err := t.cc.media.Answer(ctx, ch)
		cancel()
		if err != nil {
			done <- err
			l.ended = true
			if w.queue {
				// The ACD connected the picker already: the call goes
				// on to its (ended) leg, which ends it and the
				// picker's ACD call.
				w.taken = l
				t.box.put(pbxWake{})
			}
			return
		}
		l.answered = true
		at := t.now()
		t.cdr.Legs[l.idx].Answer = &at
		t.vars[role+"_by"] = me.Extension
		t.publish("call."+role, me.ID, nil, map[string]any{"extension": me.Extension, "slot": w.slot})
		w.taken = l
		t.box.put(pbxWake{})
		done <- nil
	}))
	var err error
	if !ok {
		err = ErrNothingToPickUp
	} else {
		select {
		case err = <-done:
		case <-w.c.ctx.Done():
			err = ErrNothingToPickUp
		case <-time.After(pbxHandoffWait):
			err = ErrNothingToPickUp
		}
	}
	if err != nil {
		c.log.Info(role+" failed", "err", err)
		c.cdr.Outcome = store.OutcomeRejected
		c.hangupCaller(mediacore.CauseUnallocated, store.SideSystem)
		return
	}
	// The channel lives on in the other call: this one ends quietly.
	c.vars[role+"_of"] = w.c.id
	c.cdr.Outcome = store.OutcomeAnswered
	c.gone = true
	c.cdr.HangupSide = store.SideSystem
}

// PickUp implements the REST pickup (POST /api/v1/calls/{id}/pickup): the
// agent's device rings as one more destination of the ringing call and
// takes it on answer. An agent picks up for itself, calls ringing its
// team; a supervisor or admin names the agent.
func (cc *CallCenter) PickUp(ctx context.Context, by Actor, callID, agentID string) error {
	if agentID == "" {
		agentID = by.AgentID
	}
	if err := mayActOn(by, agentID); err != nil {
		return err
	}
	a, ok, err := cc.ctl.storedAgent(ctx, agentID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: agent %q", store.ErrNotFound, agentID)
	}
	c := cc.call(callID)
	if c == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	cc.pbx.mu.Lock()
	w := cc.pbx.waits[callID]
	mayPick := w != nil && w.slot == ""
	if mayPick && by.Role == store.RoleAgent {
		mayPick = false
		for e, team := range w.exts {
			mayPick = mayPick || e != a.Extension && team != "" && team == a.Team
		}
	}
	cc.pbx.mu.Unlock()
	if w == nil || w.slot != "" {
		return fmt.Errorf("%w: call %q", ErrNothingToPickUp, callID)
	}
	if w.queue {
		// A ringing queue offer is picked up from a phone (*8, **ext):
		// ringing the picker's device first would hold the ACD's offer
		// in between.
		return fmt.Errorf("%w: call %q rings a queue offer: pick it up by phone", ErrNothingToPickUp, callID)
	}
	if !mayPick {
		return fmt.Errorf("%w: call %q does not ring the agent's group", ErrForbidden, callID)
	}
	done := make(chan error, 1)
	if !c.box.put(cmdMsg(func(t *call) {
		t.cc.pbx.mu.Lock()
		live := t.cc.pbx.waits[t.id] == w
		t.cc.pbx.mu.Unlock()
		if !live || w.taken != nil {
			done <- fmt.Errorf("%w: call %q", ErrNothingToPickUp, callID)
			return
		}
		w.add = append(w.add, ringDest{endpoint: t.cc.agents.deviceOf(a.ID, a.Extension), agent: a.ID,
			role: "pickup", start: 0, stop: t.now().Sub(w.since) + DefaultNoAnswerTimeout})
		t.vars["pickup_by"] = a.Extension
		t.box.put(pbxWake{})
		done <- nil
	})) {
		return fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	select {
	case err := <-done:
		return err
	case <-c.ctx.Done():
		return fmt.Errorf("%w: %q ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// park holds the caller on a slot with music until a phone dials the
// slot (retrieve), or the park timeout rings back the agent who parked
// it (the last one the call was connected to).
func (c *call) park(want string) *store.Target {
	parker := ""
	for _, l := range c.legs {
		if l.answered && l.agent != "" {
			parker = l.agent
		}
	}
	if n := len(c.cdr.Transfers); n > 0 && c.cdr.Transfers[n-1].By != "" {
		parker = c.cdr.Transfers[n-1].By
	}
	w := &pbxWait{c: c, since: c.now(), parker: parker}
	c.cc.pbx.mu.Lock()
	c.cc.pbx.lockedInit()
	slot := ""
	if want != ParkAny {
		if c.cc.pbx.slotFreeLocked(want, c) {
			slot = want
		}
	} else {
		slot = c.cc.pbx.freeSlotLocked(c)
	}
	if slot != "" {
		w.slot = slot
		c.cc.pbx.slots[slot] = w
		c.cc.pbx.waits[c.id] = w
	}
	c.cc.pbx.mu.Unlock()
	if slot == "" {
		c.log.Warn("no park slot free", "wanted", want)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseCongestion, store.SideSystem)
		return nil
	}
	unpark := func() {
		c.cc.pbx.mu.Lock()
		if c.cc.pbx.slots[slot] == w {
			delete(c.cc.pbx.slots, slot)
		}
		if c.cc.pbx.waits[c.id] == w {
			delete(c.cc.pbx.waits, c.id)
		}
		c.cc.pbx.mu.Unlock()
	}
	defer unpark()
	if err := c.answer(); err != nil {
		c.log.Warn("answer", "err", err)
	}
	c.vars["park_slot"] = slot
	c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "park", From: parker, Target: slot,
		By: parker})
	c.setView(func(v *LiveCall) { v.State = "parked" })
	c.publish("call.parked", parker, nil, map[string]any{"slot": slot, "by": parker})
	moh, err := c.play([]mediacore.Media{mediacore.ToneFor(holdTone, 0)}, true)
	if err != nil {
		c.log.Warn("music while parked", "err", err)
	}
	c.moh = moh
	timeout := c.cc.opt.ParkTimeout
	if timeout <= 0 {
		timeout = DefaultParkTimeout
	}
	tid := c.after(timeout, "park")
	for !c.gone && w.taken == nil {
		m, ok := c.next()
		if !ok {
			return nil
		}
		if tm, isT := m.(timerMsg); isT && tm.id == tid {
			break
		}
	}
	c.stop(tid)
	c.stopPlayback(c.moh)
	c.moh = ""
	switch {
	case c.gone:
		c.cdr.Outcome = store.OutcomeAbandoned
		return nil
	case w.taken != nil:
		unpark()
		return c.connectExtension(w.taken)
	}
	unpark()
	c.publish("call.park_timeout", parker, nil, map[string]any{"slot": slot, "by": parker})
	a, ok, _ := c.cc.ctl.storedAgent(c.ctx, parker)
	if !ok {
		c.cdr.Outcome = store.OutcomeAbandoned
		c.hangupCaller(mediacore.CauseNoAnswer, store.SideSystem)
		return nil
	}
	c.vars["park_returned_to"] = a.Extension
	r := c.ring([]ringDest{{endpoint: c.cc.agents.deviceOf(a.ID, a.Extension), ext: a.Extension, agent: a.ID,
		team: a.Team, role: "park-return", stop: DefaultNoAnswerTimeout}})
	if r.leg != nil {
		return c.connectExtension(r.leg)
	}
	if !c.gone {
		c.hangupCaller(mediacore.CauseNoAnswer, store.SideSystem)
	}
	c.cdr.Outcome = store.OutcomeAbandoned
	return nil
}

// pbxOffer rings a queue offer by the agent's follow-me: its desk and its
// mobile together, or the mobile after FollowMeDelay, or only the mobile
// when the desk phone is unregistered. It reports false (and does
// nothing) when follow-me is off, for the usual single leg.
func (c *call) pbxOffer(ev acd.Event, a store.Agent, dev string) bool {
	var s store.PBXSettings
	if a.PBX != nil {
		s = *a.PBX
	}
	mobile, ok := followMe(a, s)
	if !ok {
		return false
	}
	agent := string(ev.Agent)
	timeout := max(ev.Until.Sub(c.now())+time.Second, time.Second)
	c.setView(func(v *LiveCall) { v.State, v.AgentID = "ringing", agent })
	rang := 0
	ring := func(role, ep string) {
		l := c.newLeg(role, ep, agent)
		l.offerLive, l.offerUntil = true, ev.Until
		if err := c.originate(l, ep, timeout); err != nil {
			c.log.Warn("agent device unreachable", "agent_id", agent, "device", ep, "err", err)
			l.offerLive = false
			return
		}
		rang++
	}
	deskUp := dev != "user/"+a.Extension || c.cc.registered(a.Extension)
	if deskUp {
		ring("agent", dev)
		deskUp = rang > 0
	}
	switch {
	case !deskUp || s.FollowMe == store.FollowMeSimultaneous:
		ring("agent-mobile", mobile)
	default:
		id := c.after(followMeDelay(s), "followme")
		c.cc.pbx.mu.Lock()
		c.cc.pbx.lockedInit()
		for k := range c.cc.pbx.fmTimer {
			if k.c.ctx.Err() != nil {
				delete(c.cc.pbx.fmTimer, k) // its call ended before the timer
			}
		}
		c.cc.pbx.fmTimer[fmKey{c, id}] = fmPending{c: c, agent: agent, dest: mobile}
		c.cc.pbx.mu.Unlock()
		rang++
	}
	if rang == 0 {
		ctx, cancel := c.io()
		defer cancel()
		if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			return e.OfferFailed(acd.CallID(c.id), ev.Agent, "unreachable")
		}); err != nil {
			c.log.Debug("offer failure not taken", "err", err)
		}
	}
	return true
}

// offerLive reports whether an offer to the agent still rings a leg.
func (c *call) offerRinging(agent string) bool {
	for _, l := range c.legs {
		if l.agent == agent && l.offerLive && !l.ended {
			return true
		}
	}
	return false
}

// takeFollowMe removes and returns this call's pending sequential
// follow-me for the agent (any timer id when id is 0).
func (c *call) takeFollowMe(id uint64, agent string) (fmPending, uint64, bool) {
	c.cc.pbx.mu.Lock()
	defer c.cc.pbx.mu.Unlock()
	for k, p := range c.cc.pbx.fmTimer {
		if k.c == c && (k.id == id || id == 0 && p.agent == agent) {
			delete(c.cc.pbx.fmTimer, k)
			return p, k.id, true
		}
	}
	return fmPending{}, 0, false
}

// pbxQueueTimer runs a sequential follow-me's second step while queued:
// the mobile rings too, if the offer still stands.
func (c *call) pbxQueueTimer(tm timerMsg) {
	if tm.kind != "followme" {
		return
	}
	p, _, ok := c.takeFollowMe(tm.id, "")
	if !ok || !c.offerRinging(p.agent) || c.agent != nil {
		return
	}
	c.ringMobile(p)
}

func (c *call) ringMobile(p fmPending) {
	timeout := DefaultNoAnswerTimeout
	l := c.newLeg("agent-mobile", p.dest, p.agent)
	l.offerLive = true
	if err := c.originate(l, p.dest, timeout); err != nil {
		c.log.Warn("mobile unreachable", "agent_id", p.agent, "device", p.dest, "err", err)
		l.offerLive = false
	}
}

// pbxOfferLegEnded is called when one leg of a queue offer ended: with
// follow-me another leg of the same agent may still ring (or a pending
// mobile rings now), and the offer stands (true).
func (c *call) pbxOfferLegEnded(l *leg) bool {
	if c.offerRinging(l.agent) {
		return true
	}
	if p, tid, ok := c.takeFollowMe(0, l.agent); ok {
		c.stop(tid)
		c.ringMobile(p)
		return c.offerRinging(l.agent)
	}
	return false
}

// pbxAnnounce tells the caller the agent's work number (座席工号播报)
// when the agent answered and has it configured, before they are
// bridged.
func (c *call) pbxAnnounce(a store.Agent) {
	if a.PBX == nil || !a.PBX.AnnounceWorkNumber || c.gone {
		return
	}
	num := cmp.Or(a.PBX.WorkNumber, a.Extension)
	c.vars["work_number"] = num
	c.sayAndWait([]mediacore.Media{mediacore.TTS(c.voice(), workNumberText(c.voice(), num))})
}

// workNumberText is the announcement: digits said one by one.
func workNumberText(lang, num string) string {
	spaced := strings.Join(strings.Split(num, ""), " ")
	if lang == "en" {
		return "Agent number " + spaced + " is at your service."
	}
	return "工号 " + spaced + " 为您服务。"
}

// parkedSlots lists the occupied park slots (for tests and the API).
func (cc *CallCenter) parkedSlots() []string {
	cc.pbx.mu.Lock()
	defer cc.pbx.mu.Unlock()
	out := make([]string, 0, len(cc.pbx.slots))
	for s := range cc.pbx.slots {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// slotFreeLocked: nothing is parked on slot, or only a reservation of c
// (Park), or what is there belongs to an ended call (pbx.mu held).
func (s *pbxState) slotFreeLocked(slot string, c *call) bool {
	w := s.slots[slot]
	return w == nil || w.c == c || w.c.ctx.Err() != nil
}

// freeSlotLocked returns the first free park slot, "" when all are taken
// (pbx.mu held).
func (s *pbxState) freeSlotLocked(c *call) string {
	for n := ParkFirst; n <= ParkLast; n++ {
		if slot := fmt.Sprint(n); s.slotFreeLocked(slot, c) {
			return slot
		}
	}
	return ""
}

// Park implements LiveControl (POST /api/v1/calls/{id}/park): the slot is
// reserved, then the call's actor carries the park out as a blind
// transfer of the agent's leg to the slot (the same path as a phone's
// transfer to 700). An agent parks its own call; a supervisor or admin
// any.
func (cc *CallCenter) Park(ctx context.Context, by Actor, callID, slot string) (string, error) {
	if slot != "" && !isParkSlot(slot) {
		return "", fmt.Errorf("%w: %q (want %d-%d)", ErrInvalidSlot, slot, ParkFirst, ParkLast)
	}
	c := cc.call(callID)
	if c == nil {
		return "", fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	v := c.snapshot()
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor:
	case store.RoleAgent:
		if by.AgentID == "" || v.AgentID != by.AgentID {
			return "", fmt.Errorf("%w: not the agent of call %q", ErrForbidden, callID)
		}
	default:
		return "", fmt.Errorf("%w: %s may not park calls", ErrForbidden, by.Role)
	}
	cc.pbx.mu.Lock()
	cc.pbx.lockedInit()
	switch {
	case slot == "":
		slot = cc.pbx.freeSlotLocked(c)
	case !cc.pbx.slotFreeLocked(slot, c):
		slot = ""
	}
	if slot != "" {
		cc.pbx.slots[slot] = &pbxWait{c: c, since: cc.clk.Now(), slot: slot}
	}
	cc.pbx.mu.Unlock()
	if slot == "" {
		return "", fmt.Errorf("%w: no free slot", ErrSlotTaken)
	}
	release := func() {
		cc.pbx.mu.Lock()
		if w := cc.pbx.slots[slot]; w != nil && w.c == c && cc.pbx.waits[c.id] != w {
			delete(cc.pbx.slots, slot)
		}
		cc.pbx.mu.Unlock()
	}
	done := make(chan error, 1)
	if !c.box.put(cmdMsg(func(t *call) {
		var l *leg
		for _, x := range t.legs {
			if x.answered && !x.ended && (l == nil || x.agent == by.AgentID) {
				l = x
			}
		}
		if t.gone || t.bridge == "" || l == nil {
			done <- fmt.Errorf("%w: %q", ErrNotTalking, callID)
			return
		}
		// talk takes it like a phone's blind transfer to the slot.
		t.box.put(mediacore.Event{Type: mediacore.EventTransferRequested, Channel: l.ch, ReferTo: "user/" + slot,
			Time: t.now()})
		done <- nil
	})) {
		release()
		return "", fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	select {
	case err := <-done:
		if err != nil {
			release()
			return "", err
		}
		return slot, nil
	case <-c.ctx.Done():
		release()
		return "", fmt.Errorf("%w: %q ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/internal/clock"
	"hotline/mediacore"
)

// call is one call's actor: a goroutine that owns everything about the
// call (its legs, its place in the queue, its recording, its CDR) and
// reads, in order, one mailbox fed with the media events of its channels,
// the ACD's decisions about it, its timers and the commands of the live
// control. Nothing else touches its fields except view (under viewMu),
// which the API reads.
type call struct {
	cc     *CallCenter
	id     string
	key    string // its key in CallCenter.calls (guarded by CallCenter.mu)
	box    *mailbox
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger

	// Owned by the actor goroutine.
	in       mediacore.Event // the caller's ChannelCreated
	ch       mediacore.ChannelID
	start    time.Time
	answered bool // the caller's channel is answered
	gone     bool // the caller's channel ended
	cdr      store.CDR
	legs     map[mediacore.ChannelID]*leg
	nLegs    int
	vars     map[string]string
	lang     string
	customer *Customer
	looked   bool
	queue    *store.Queue
	teams    []string
	agent    *leg
	agentRec store.Agent
	bridge   mediacore.BridgeID
	rec      *recState
	timers   map[uint64]clock.Timer
	tseq     uint64
	moh      mediacore.PlaybackID
	talkEnd  time.Time
	held     map[mediacore.ChannelID]bool // legs on hold now (either side's phone)
	holdFrom time.Time                    // when the conversation went on hold
	holdSum  time.Duration
	sup      map[string]*supervision // supervisors' legs by user id (supervise.go)
	cctl     callCtl                 // live call control (callcontrol.go)
	// surveyDue: the agent hung up and the caller waits for the survey
	// (survey.go).
	surveyDue bool
	// queueing: the actor serves the call in a queue (runQueue), where
	// the answered offer legs are taken (queueMedia).
	queueing bool

	viewMu  sync.Mutex
	view    LiveCall
	viewEnq time.Time // when the call joined its first queue (under viewMu)
}

// journalSyncer is a Journal that can wait until what it was handed is on
// disk (SpoolJournal).
type journalSyncer interface {
	Sync(ctx context.Context) error
}

// journalSyncWait bounds that wait.
const journalSyncWait = 5 * time.Second

// leg is one channel of the call besides the caller's (an agent offer, a
// transfer or voicemail target).
type leg struct {
	ch        mediacore.ChannelID
	idx       int // in cdr.Legs
	agent     string
	answered  bool
	ended     bool
	offerLive bool // an ACD offer rings on it
	// autoAnswer asks the device to answer by itself (the agent's
	// auto_answer setting, or a click-to-answer: answer.go).
	autoAnswer bool
	// offerUntil is when the ACD's offer ringing on the leg times out.
	offerUntil time.Time
}

// recState is the call's recording (a conversation or a voicemail).
type recState struct {
	id        mediacore.RecordingID
	kind      string // "call" or "voicemail"
	start     time.Time
	stereo    bool
	pauses    []store.RecordPause
	pausedAt  time.Time
	paused    bool
	done      bool
	onDemand  bool
	activated bool
	meta      *store.Recording // as journaled, once finished (voicemail reads it)
}

type timerMsg struct {
	id   uint64
	kind string
}

// cmdMsg runs on the actor goroutine (live control: pause, resume).
type cmdMsg func(*call)

// newCall starts the actor of a new inbound channel (cc.mu held).
func (cc *CallCenter) newCall(ev mediacore.Event) *call {
	c := cc.spawn(mediacore.NewID("call"))
	c.in, c.ch = ev, ev.Channel
	cc.byChan[ev.Channel] = c
	cc.m.inbound.Inc()
	cc.wg.Add(1)
	go c.run()
	return c
}

// spawn makes a call actor's shell (cc.mu held).
func (cc *CallCenter) spawn(id string) *call {
	ctx, cancel := context.WithCancel(context.Background())
	c := &call{
		cc: cc, id: id, key: id, box: newMailbox(), ctx: ctx, cancel: cancel,
		log:  cc.log.With("call_id", id),
		legs: map[mediacore.ChannelID]*leg{}, vars: map[string]string{}, timers: map[uint64]clock.Timer{},
	}
	cc.calls[id] = c
	return c
}

func (c *call) now() time.Time { return c.cc.clk.Now() }

// io returns a context bounding one command of the actor.
func (c *call) io() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.ctx), ioTimeout)
}

func (c *call) run() {
	defer c.cc.wg.Done()
	c.begin()
	t, prio := c.route()
	for t != nil && !c.gone {
		t = c.execute(*t, prio)
	}
	c.finish()
}

// begin fills what the CDR knows from the first event.
func (c *call) begin() {
	c.start = c.now()
	node, _ := c.cc.media.NodeOf(c.ch)
	if node == "" {
		node = c.in.Node
	}
	c.cdr = store.CDR{ID: c.id, Direction: "inbound", Caller: c.in.Caller, CallerName: c.in.CallerName,
		Called: c.in.Called, Trunk: c.in.Trunk, Node: node, Start: c.start,
		IVRPath: []store.IVRStep{}, Transfers: []store.CDRTransfer{}, Legs: []store.CDRLeg{}}
	c.cdr.Legs = append(c.cdr.Legs, store.CDRLeg{Channel: string(c.ch), Node: node, Role: "caller",
		Endpoint: c.in.Caller, Start: c.start})
	c.vars["caller"], c.vars["called"] = c.in.Caller, c.in.Called
	c.setView(func(v *LiveCall) {
		*v = LiveCall{ID: c.id, Direction: "inbound", Caller: c.in.Caller, Called: c.in.Called, Node: node,
			State: "routing", Start: c.start}
	})
	c.publish("call.incoming", "", nil, map[string]any{"caller": c.in.Caller, "caller_name": c.in.CallerName,
		"called": c.in.Called, "trunk": c.in.Trunk, "node": node})
}

// next returns the actor's next message. It runs commands itself, keeps
// the legs' and the caller's state from media events (observe) and drops
// stale timers. ok is false when the actor is cancelled.
func (c *call) next() (any, bool) {
	for {
		m, ok := c.box.take()
		if !ok {
			select {
			case <-c.box.sig:
				continue
			case <-c.ctx.Done():
				return nil, false
			}
		}
		switch v := m.(type) {
		case cmdMsg:
			v(c)
			continue
		case mediacore.Event:
			c.observe(v)
			c.superviseEvent(v)
		case timerMsg:
			if _, live := c.timers[v.id]; !live {
				continue
			}
			delete(c.timers, v.id)
		}
		return m, true
	}
}

// observe keeps the legs and the caller's channel up to date. Times are
// the media node's (Event.Time), so a busy actor does not skew a CDR.
func (c *call) observe(ev mediacore.Event) {
	at := ev.Time
	if at.IsZero() {
		at = c.now()
	}
	switch ev.Type {
	case mediacore.EventAnswered:
		if l := c.legs[ev.Channel]; l != nil && !l.answered {
			l.answered = true
			c.cdr.Legs[l.idx].Answer = &at
		}
		if ev.Channel == c.ch && !c.answered {
			c.answered = true
			c.cdr.Legs[0].Answer = &at
		}
	case mediacore.EventHangup:
		cl := &c.cdr.Legs[0]
		if l := c.legs[ev.Channel]; l != nil {
			l.ended = true
			cl = &c.cdr.Legs[l.idx]
		} else if ev.Channel == c.ch {
			if !c.gone && c.cdr.HangupSide == "" {
				c.cdr.HangupSide, c.cdr.HangupCause = store.SideCaller, ev.Cause.String()
			}
			c.gone = true
		} else {
			return
		}
		if cl.End.IsZero() || cl.End.After(at) {
			cl.End = at
		}
		cl.Cause, cl.SIPCode, cl.Q850 = ev.Cause.String(), ev.SIPCode, ev.Q850
	case mediacore.EventRecordingFinished:
		c.recordingFinished(ev)
	case mediacore.EventHold, mediacore.EventUnhold:
		c.hold(ev.Channel, ev.Type == mediacore.EventHold)
	}
}

// hold counts the time the answered conversation spends on hold (either
// side's phone holding the other, or the controller's soft hold): from
// the first leg held to the last one resumed.
func (c *call) hold(ch mediacore.ChannelID, on bool) {
	if c.cdr.Answer == nil || !c.talkEnd.IsZero() {
		return
	}
	if c.held == nil {
		c.held = map[mediacore.ChannelID]bool{}
	}
	was := len(c.held) > 0
	if on {
		c.held[ch] = true
	} else {
		delete(c.held, ch)
	}
	switch now := len(c.held) > 0; {
	case now && !was:
		c.holdFrom = c.now()
		c.setView(func(v *LiveCall) { v.State = "held" })
	case !now && was:
		c.holdSum += c.now().Sub(c.holdFrom)
		c.setView(func(v *LiveCall) { v.State = "talking" })
	}
}

// after arms a timer that posts kind to the mailbox; the returned id
// cancels it (stop).
func (c *call) after(d time.Duration, kind string) uint64 {
	c.tseq++
	id := c.tseq
	c.timers[id] = c.cc.clk.AfterFunc(d, func() { c.box.put(timerMsg{id: id, kind: kind}) })
	return id
}

func (c *call) stop(id uint64) {
	if t, ok := c.timers[id]; ok {
		t.Stop()
		delete(c.timers, id)
	}
}

func (c *call) setView(f func(*LiveCall)) {
	c.viewMu.Lock()
	f(&c.view)
	c.viewMu.Unlock()
}

func (c *call) snapshot() LiveCall {
	c.viewMu.Lock()
	defer c.viewMu.Unlock()
	v := c.view
	now := c.now()
	switch {
	case v.Answer != nil && v.State != "ending":
		v.TalkSeconds = now.Sub(*v.Answer).Seconds()
	case v.State == "queued" || v.State == "ringing":
		from := c.viewEnq
		if from.IsZero() {
			from = v.Start
		}
		v.WaitSeconds = now.Sub(from).Seconds()
	}
	if v.Answer != nil && !c.viewEnq.IsZero() {
		v.WaitSeconds = v.Answer.Sub(c.viewEnq).Seconds()
	}
	return v
}

// audience is who sees this call's CTI events: the agents it involves and
// the teams owning its queue.
func (c *call) audience(agent string) cti.Audience {
	a := cti.Audience{Teams: c.teams}
	if agent != "" {
		a.Agents = []string{agent}
	}
	if c.agentRec.Team != "" {
		a.Teams = appendUnique(append([]string(nil), a.Teams...), c.agentRec.Team)
	}
	return a
}

func (c *call) publish(typ, agent string, aud *cti.Audience, payload any) {
	q := ""
	if c.queue != nil {
		q = c.queue.ID
	}
	a := c.audience(agent)
	if aud != nil {
		a = *aud
	}
	c.cc.publish(typ, c.id, agent, q, c.now(), a, payload)
}

// hangupCaller ends the caller's channel, saying who ended the call.
func (c *call) hangupCaller(cause mediacore.Cause, side store.HangupSide) {
	if c.gone {
		return
	}
	if c.cdr.HangupSide == "" {
		c.cdr.HangupSide, c.cdr.HangupCause = side, cause.String()
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.Hangup(ctx, c.ch, cause); err != nil && !errors.Is(err, mediacore.ErrNoSuchChannel) {
		c.log.Warn("hang up the caller", "err", err)
	}
	// The Hangup event still follows (observe); the caller counts as
	// gone from now on.
	c.gone = true
	if c.cdr.Legs[0].End.IsZero() {
		c.cdr.Legs[0].End, c.cdr.Legs[0].Cause = c.now(), cause.String()
	}
}

func (c *call) hangupLeg(l *leg, cause mediacore.Cause) {
	if l == nil || l.ended {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.Hangup(ctx, l.ch, cause); err != nil && !errors.Is(err, mediacore.ErrNoSuchChannel) {
		c.log.Warn("hang up a leg", "channel", l.ch, "err", err)
	}
	l.ended = true
	if cl := &c.cdr.Legs[l.idx]; cl.End.IsZero() {
		cl.End, cl.Cause = c.now(), cause.String()
	}
}

// answer answers the caller's channel once.
func (c *call) answer() error {
	if c.answered || c.gone {
		return nil
	}
	if err := c.answerRetrying(); err != nil {
		return err
	}
	if !c.answered {
		c.answered = true
		t := c.now()
		c.cdr.Legs[0].Answer = &t
	}
	return nil
}

// answerBackoff spaces the attempts of answerRetrying.
var answerBackoff = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond}

// answerRetrying answers the caller's channel, trying again when the
// backend was unreachable for a moment (a switch's HTTP server refusing a
// session, a control connection being re-established): answering is
// idempotent, and a caller left unanswered would ring until it gives up
// while the call went on as if it had been answered.
func (c *call) answerRetrying() error {
	for i := 0; ; i++ {
		ctx, cancel := c.io()
		err := c.cc.media.Answer(ctx, c.ch)
		cancel()
		if err == nil || !errors.Is(err, mediacore.ErrBackendUnavailable) || i == len(answerBackoff) {
			return err
		}
		t := time.NewTimer(answerBackoff[i])
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return err
		}
	}
}

// answerOrFail answers the caller before it waits in a queue or an IVR,
// where it must hear what is played; if it cannot be answered the call
// fails now (outcome failed, the caller released) rather than ringing on
// unanswered.
func (c *call) answerOrFail() bool {
	if err := c.answer(); err != nil {
		c.log.Error("answer", "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
		return false
	}
	return true
}

// newLeg registers a channel the call is about to originate.
func (c *call) newLeg(role, endpoint, agent string) *leg {
	c.nLegs++
	l := &leg{ch: mediacore.ChannelID(c.id + "-" + strconv.Itoa(c.nLegs)), agent: agent, idx: len(c.cdr.Legs)}
	c.legs[l.ch] = l
	c.cdr.Legs = append(c.cdr.Legs, store.CDRLeg{Channel: string(l.ch), Role: role, Endpoint: endpoint,
		AgentID: agent, Start: c.now()})
	c.cc.bind(l.ch, c)
	return l
}

// originate rings a new leg near the caller's channel.
func (c *call) originate(l *leg, endpoint string, timeout time.Duration) error {
	ctx, cancel := c.io()
	defer cancel()
	_, err := c.cc.media.Originate(ctx, mediacore.OriginateRequest{ChannelID: l.ch, Endpoint: endpoint,
		CallerIDNumber: c.in.Caller, CallerIDName: c.in.CallerName, Timeout: timeout, Near: c.ch,
		AutoAnswer: l.autoAnswer})
	if node, ok := c.cc.media.NodeOf(l.ch); ok {
		c.cdr.Legs[l.idx].Node = node
	}
	if err != nil {
		l.ended = true
		cl := &c.cdr.Legs[l.idx]
		cl.End, cl.Cause = c.now(), mediacore.CauseFailure.String()
		return err
	}
	return nil
}

// connectLeg bridges the caller with an answered leg: both speak, and
// in-band DTMF detection goes off on both so the bridge stays on the
// relay fast path.
func (c *call) connectLeg(l *leg) error {
	ctx, cancel := c.io()
	defer cancel()
	c.bridge = mediacore.BridgeID("br-" + c.id)
	if err := c.cc.media.CreateBridge(ctx, c.bridge); err != nil {
		return fmt.Errorf("create bridge: %w", err)
	}
	for _, ch := range []mediacore.ChannelID{c.ch, l.ch} {
		if err := c.cc.media.AddToBridge(ctx, c.bridge, ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			return fmt.Errorf("bridge %s: %w", ch, err)
		}
		if err := c.cc.media.SetDTMFDetection(ctx, ch, false); err != nil {
			c.log.Debug("dtmf detection off", "channel", ch, "err", err)
		}
	}
	return nil
}

// talk waits, bridged, until one side hangs up, then ends the other. A
// blind transfer the leg's phone asks for (SIP REFER without Replaces,
// RFC 3515) is accepted when its target is a valid endpoint: the leg is
// hung up, the caller stays, and talk returns the target for the caller
// to be dialled there (attended transfers are refused).
func (c *call) talk(l *leg) (transferTo string) {
	for !c.gone && !l.ended {
		m, ok := c.next()
		if !ok {
			return ""
		}
		if c.controlTalk(l, m) {
			return ""
		}
		ev, isEv := m.(mediacore.Event)
		if !isEv || ev.Type != mediacore.EventTransferRequested || ev.Channel != l.ch {
			continue
		}
		_, perr := mediacore.ParseEndpoint(ev.ReferTo)
		accept := perr == nil && ev.Replaces == ""
		ctx, cancel := c.io()
		// A transfer the controller asks for itself (pbx.go: Park) has no
		// SIP request to answer.
		if ev.Transfer != "" {
			if err := c.cc.media.AnswerTransfer(ctx, l.ch, ev.Transfer, accept); err != nil {
				c.log.Warn("answer a transfer request", "err", err)
			}
		}
		cancel()
		if !accept {
			c.log.Info("transfer refused", "refer_to", ev.ReferTo, "replaces", ev.Replaces)
			continue
		}
		c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "blind", From: l.agent,
			Target: ev.ReferTo, By: l.agent})
		c.publish("call.transferred", l.agent, nil, map[string]any{"target": ev.ReferTo, "by": l.agent})
		c.closeHold()
		c.hangupLeg(l, mediacore.CauseNormal)
		c.destroyBridge()
		return ev.ReferTo
	}
	c.closeHold()
	// The conversation ended when the first side hung up.
	c.talkEnd = c.now()
	for _, e := range []time.Time{c.cdr.Legs[0].End, c.cdr.Legs[l.idx].End} {
		if !e.IsZero() && e.Before(c.talkEnd) {
			c.talkEnd = e
		}
	}
	if l.ended && !c.gone {
		if c.cdr.HangupSide == "" {
			cause := c.cdr.Legs[l.idx].Cause
			c.cdr.HangupSide = store.SideAgent
			if l.agent == "" {
				c.cdr.HangupSide = store.SideSystem
			}
			c.cdr.HangupCause = cause
		}
		if c.surveyDue = c.wantSurvey(l); !c.surveyDue {
			c.hangupCaller(mediacore.CauseNormal, c.cdr.HangupSide)
		}
	} else if !l.ended {
		c.hangupLeg(l, mediacore.CauseNormal)
	}
	c.destroyBridge()
	return ""
}

// closeHold ends an open stretch on hold.
func (c *call) closeHold() {
	if len(c.held) > 0 {
		c.holdSum += c.now().Sub(c.holdFrom)
		clear(c.held)
	}
}

func (c *call) destroyBridge() {
	c.endSupervisions()
	if c.bridge == "" {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.DestroyBridge(ctx, c.bridge); err != nil && !errors.Is(err, mediacore.ErrNoSuchBridge) {
		c.log.Debug("destroy bridge", "err", err)
	}
	c.bridge = ""
}

// dial connects the caller to an extension or an external number (no
// ACD): a transfer node, an extension or external route.
func (c *call) dial(endpoint, kind string) *store.Target {
	if t, done := c.pbxDial(endpoint, kind); done {
		return t
	}
	if _, err := mediacore.ParseEndpoint(endpoint); err != nil {
		c.log.Warn("bad transfer target", "endpoint", endpoint, "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseUnallocated, store.SideSystem)
		return nil
	}
	if kind == "extension" || kind == "external" {
		// A route to a person outside the ACD (IVR and blind transfers
		// are noted where they are decided).
		c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: kind, Target: endpoint})
	}
	if err := c.answer(); err != nil {
		c.log.Warn("answer", "err", err)
	}
	l := c.newLeg("transfer", endpoint, "")
	c.setView(func(v *LiveCall) { v.State = "ringing" })
	if err := c.originate(l, endpoint, 0); err != nil {
		c.log.Warn("originate transfer", "endpoint", endpoint, "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseCongestion, store.SideSystem)
		return nil
	}
	for !c.gone && !l.ended && !l.answered {
		if _, ok := c.next(); !ok {
			return nil
		}
	}
	switch {
	case c.gone:
		c.hangupLeg(l, mediacore.CauseCancelled)
		c.cdr.Outcome = store.OutcomeAbandoned
		return nil
	case l.ended:
		if t := c.noAnswerVoicemail(endpoint, kind); t != nil {
			return t
		}
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseUnavailable, store.SideSystem)
		return nil
	}
	if err := c.connectLeg(l); err != nil {
		c.log.Warn("connect transfer", "err", err)
	}
	t := c.now()
	if c.cdr.Answer == nil {
		c.cdr.Answer = &t
	}
	c.cdr.Outcome = store.OutcomeAnswered
	c.setView(func(v *LiveCall) { v.State = "talking"; v.Answer = c.cdr.Answer })
	if to := c.talk(l); to != "" {
		return c.dial(to, "blind")
	}
	return c.takeNext()
}

// finish ends what is left of the call, waits for its recording and
// writes its CDR.
func (c *call) finish() {
	c.runSurvey()
	for _, l := range c.legs {
		c.hangupLeg(l, mediacore.CauseNormal)
	}
	c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
	c.destroyBridge()
	c.setView(func(v *LiveCall) { v.State = "ending" })
	if c.rec != nil && !c.rec.done {
		c.stopRecording()
		t := c.after(c.cc.opt.RecordingWait, "recording-wait")
		for c.rec != nil && !c.rec.done {
			m, ok := c.next()
			if !ok {
				break
			}
			if tm, isT := m.(timerMsg); isT && tm.id == t {
				c.log.Warn("the recording did not finish in time; the CDR is written without it", "recording_id", c.rec.id)
				break
			}
		}
		c.stop(t)
	}
	end := c.now()
	c.cdr.End = end
	for i := range c.cdr.Legs {
		if c.cdr.Legs[i].End.IsZero() {
			c.cdr.Legs[i].End = end
		}
	}
	if c.cdr.Outcome == "" {
		c.cdr.Outcome = store.OutcomeAbandoned
	}
	if c.cdr.HangupSide == "" {
		c.cdr.HangupSide = store.SideSystem
	}
	if c.cdr.EnqueuedAt != nil {
		// Waiting ends at the answer, or when the caller left.
		until := end
		if c.cdr.Answer != nil {
			until = *c.cdr.Answer
		} else if e := c.cdr.Legs[0].End; !e.IsZero() && e.Before(until) {
			until = e
		}
		c.cdr.WaitSeconds = until.Sub(*c.cdr.EnqueuedAt).Seconds()
	}
	if c.cdr.Answer != nil {
		te := c.talkEnd
		if te.IsZero() {
			te = end
		}
		c.cdr.TalkSeconds = te.Sub(*c.cdr.Answer).Seconds()
		c.cdr.HoldSeconds = c.holdSum.Seconds()
		// Wrap-up is written from the queue's configuration at call end
		// (the agent's actual wrap-up may be cut short by a manual
		// ready; the event log has the exact times).
		if c.agent != nil && c.queue != nil {
			c.cdr.WrapSeconds = float64(c.queue.WrapUp)
		}
	}
	if len(c.vars) > 0 {
		c.cdr.Variables = c.vars
	}
	c.controlCDR()
	c.cc.opt.Journal.CallEnded(c.cdr)
	if js, ok := c.cc.opt.Journal.(journalSyncer); ok {
		// The call is over: waiting here for the CDR to be on disk
		// delays nobody, and makes "ended" in the metrics and the CTI
		// stream mean "survives a crash".
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), journalSyncWait)
		if err := js.Sync(ctx); err != nil {
			c.log.Warn("the CDR is not on disk yet", "err", err)
		}
		cancel()
	}
	c.cc.m.outcomes.WithLabelValues(string(c.cdr.Outcome)).Inc()
	agent := ""
	if c.agent != nil {
		agent = c.agent.agent
	}
	c.publish("call.ended", agent, nil, map[string]any{"outcome": c.cdr.Outcome, "hangup_side": c.cdr.HangupSide,
		"hangup_cause": c.cdr.HangupCause, "talk_seconds": c.cdr.TalkSeconds, "wait_seconds": c.cdr.WaitSeconds,
		"recording_id": c.cdr.RecordingID})
	for id := range c.timers {
		c.stop(id)
	}
	c.cc.unbindCall(c)
	c.box.close()
	c.cancel()
}

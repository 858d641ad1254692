package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/acd"
	"hotline/controller/cti"
	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/internal/clock"
	"hotline/mediacore"
)

// Defaults of the call path (CallCenterOptions fields left zero).
const (
	// DefaultDirectoryTimeout bounds the screen-pop lookup before an
	// offer: the call is offered without a record when it runs out.
	DefaultDirectoryTimeout = 300 * time.Millisecond
	// DefaultRecordingWait is how long a call that ended waits for its
	// recording to be finished by the media node before writing its CDR
	// without it (the recording's own metadata is still journaled when it
	// arrives within the mailbox's life).
	DefaultRecordingWait = 30 * time.Second
	// DefaultVoicemailMax bounds a voicemail message.
	DefaultVoicemailMax = 2 * time.Minute
	// VIPPriority is the queue priority of a whitelisted (VIP) caller:
	// above every configured priority, so VIPs are served first (FIFO
	// among themselves).
	VIPPriority = 1000
	// KeyCallback, pressed while waiting in a queue, turns the call into a
	// callback that keeps its place (acd RequestCallback).
	KeyCallback = '*'
	// KeyVoicemail, pressed while waiting, leaves the queue for the
	// queue's voicemail box.
	KeyVoicemail = '#'
	// DefaultRoutingTimeout bounds the store reads of routing (lists,
	// schedule): a slow database does not hold a call longer than this.
	DefaultRoutingTimeout = time.Second
	// ioTimeout bounds one media or store command of a call actor.
	ioTimeout = 10 * time.Second
)

// BlacklistAction says how a blacklisted caller is refused.
type BlacklistAction string

// Blacklist actions.
const (
	BlacklistBusy   BlacklistAction = "busy"   // SIP 486 Busy Here (the default)
	BlacklistReject BlacklistAction = "reject" // SIP 603 Decline
)

// CallCenterOptions configure the call path. Controller and Media are
// required; every other field has a working default.
type CallCenterOptions struct {
	Controller *Controller
	Media      *mediacore.Core
	// Hub receives the CTI events; nil makes a private one.
	Hub *cti.Hub
	// Journal persists CDRs, the event log and recordings' metadata; nil
	// discards them.
	Journal Journal
	// Recordings keeps finished recordings' audio; nil leaves the audio
	// on the media node (the metadata's Path is the node's).
	Recordings RecordingStore
	// Directory finds the caller's customer record for screen pop.
	Directory Directory
	// Flows loads stored IVR flows; BuiltinFlows (by id) are looked up
	// first (the demo flow).
	Flows        FlowSource
	BuiltinFlows map[string]*ivr.Flow
	// HTTP performs IVR http nodes (ivrhttp.Client).
	HTTP ivr.Lookuper
	// Clock is the call path's clock (timers, CDR times); nil: clock.Real.
	Clock  clock.Clock
	Logger *slog.Logger
	// Registerer receives the call path's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Blacklist is BlacklistBusy (default) or BlacklistReject.
	Blacklist BlacklistAction
	// Sample returns a number in [0, 1) for sampled recording; nil uses
	// math/rand/v2.
	Sample func() float64
	// DirectoryTimeout: see DefaultDirectoryTimeout.
	DirectoryTimeout time.Duration
	// RecordingWait: see DefaultRecordingWait.
	RecordingWait time.Duration
	// VoicemailMax: see DefaultVoicemailMax.
	VoicemailMax time.Duration
	// RoutingTimeout: see DefaultRoutingTimeout.
	RoutingTimeout time.Duration
	// Mailer e-mails new voicemail messages (smtpmail.Config); nil sends
	// none.
	Mailer VoicemailMailer
	// VoicemailMediaDir: see DefaultVoicemailMediaDir.
	VoicemailMediaDir string
	// ParkTimeout: see DefaultParkTimeout.
	ParkTimeout time.Duration
}

// CallCenter is the call path: it turns inbound channels of the media core
// into calls, each owned by one goroutine (a call actor) that routes it
// (lists, number, schedule), runs its IVR flow, queues it through the ACD,
// rings and bridges its agent, records it by the queue's policy, and
// writes its CDR; and it keeps the agents' live sessions (device, state,
// calls today). It implements LiveControl.
//
// Wiring: the media core's Options.Handler must call HandleMedia and the
// controller's Options.OnACDEvents must call HandleACD (cmd builds them
// before the CallCenter exists, so it passes closures that forward once
// it does).
type CallCenter struct {
	opt   CallCenterOptions
	ctl   *Controller
	media *mediacore.Core
	hub   *cti.Hub
	log   *slog.Logger
	clk   clock.Clock
	m     *ccMetrics

	agents *agentTable
	recent recentCDRs // for dispositions during wrap-up (callcontrol.go)
	// pbx is the PBX features' shared state (pbx.go).
	pbx pbxState

	// mu guards calls, byChan and closed.
	mu     sync.Mutex
	calls  map[string]*call
	byChan map[mediacore.ChannelID]*call
	closed bool
	wg     sync.WaitGroup

	// confs is the live conference rooms (conference.go).
	confs confTable
}

var _ LiveControl = (*CallCenter)(nil)

type ccMetrics struct {
	inbound  prometheus.Counter
	rejected *prometheus.CounterVec
	outcomes *prometheus.CounterVec
}

// NewCallCenter builds the call path over a controller and a media core.
func NewCallCenter(opt CallCenterOptions) (*CallCenter, error) {
	if opt.Controller == nil || opt.Media == nil {
		return nil, fmt.Errorf("%w: the call path needs Controller and Media", ErrInvalidOptions)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Journal == nil {
		opt.Journal = discardJournal{}
	}
	if opt.Blacklist == "" {
		opt.Blacklist = BlacklistBusy
	}
	if opt.Sample == nil {
		opt.Sample = rand.Float64
	}
	if opt.DirectoryTimeout <= 0 {
		opt.DirectoryTimeout = DefaultDirectoryTimeout
	}
	if opt.RecordingWait <= 0 {
		opt.RecordingWait = DefaultRecordingWait
	}
	if opt.VoicemailMax <= 0 {
		opt.VoicemailMax = DefaultVoicemailMax
	}
	if opt.RoutingTimeout <= 0 {
		opt.RoutingTimeout = DefaultRoutingTimeout
	}
	if opt.Hub == nil {
		h, err := cti.New(cti.Options{Clock: opt.Clock})
		if err != nil {
			return nil, err
		}
		opt.Hub = h
	}
	m := &ccMetrics{
		inbound: prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_calls_inbound_total",
			Help: "Inbound calls the call path received."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_calls_rejected_total",
			Help: "Inbound calls refused by routing, by reason (unknown_number, blacklist, closed)."}, []string{"reason"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_calls_ended_total",
			Help: "Calls ended, by CDR outcome."}, []string{"outcome"}),
	}
	if opt.Registerer != nil {
		for _, c := range []prometheus.Collector{m.inbound, m.rejected, m.outcomes} {
			if err := opt.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("controller: call path metrics: %w", err)
			}
		}
	}
	return &CallCenter{
		opt: opt, ctl: opt.Controller, media: opt.Media, hub: opt.Hub,
		log: opt.Logger, clk: opt.Clock, m: m, agents: newAgentTable(),
		calls: map[string]*call{}, byChan: map[mediacore.ChannelID]*call{},
	}, nil
}

// Close hangs up no call: it stops accepting new ones and waits for the
// call actors to end (the media core's Close ends their channels).
func (cc *CallCenter) Close() {
	cc.mu.Lock()
	cc.closed = true
	calls := make([]*call, 0, len(cc.calls))
	for _, c := range cc.calls {
		calls = append(calls, c)
	}
	cc.mu.Unlock()
	for _, c := range calls {
		c.cancel()
	}
	cc.closeConferences()
	cc.wg.Wait()
}

// Events implements LiveControl.
func (cc *CallCenter) Events() *cti.Hub { return cc.hub }

// HandleMedia receives every media core event (Options.Handler). Events
// of one channel arrive in order and go, in that order, to the mailbox of
// the call that owns the channel; a new inbound channel starts a call
// actor. It never blocks on a call.
func (cc *CallCenter) HandleMedia(ev mediacore.Event) {
	switch ev.Type {
	case mediacore.EventEndpointRegistered, mediacore.EventEndpointUnregistered:
		cc.log.Info(ev.Type.String(), "endpoint", ev.Endpoint, "contact", ev.Contact)
		cc.pbxRegistration(ev)
		return
	case mediacore.EventBackendDown:
		if ev.Err == "" {
			cc.log.Info("media node stopped", "node", ev.Node) // a clean shutdown
			return
		}
		cc.log.Error("media node down", "node", ev.Node, "err", ev.Err)
		return
	}
	if cc.conferenceEvent(ev) {
		return
	}
	if ev.Channel == "" {
		return
	}
	cc.mu.Lock()
	c := cc.byChan[ev.Channel]
	if c == nil && ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound && !cc.closed {
		c = cc.newCall(ev)
	}
	cc.mu.Unlock()
	if c != nil {
		c.box.put(ev)
	}
}

// HandleACD receives the ACD owner's events (Options.OnACDEvents), on the
// owner's goroutine: it journals them in order, keeps the agents' live
// sessions, publishes agent.* and queue.* CTI events and posts each
// call's decisions to its actor's mailbox. It never blocks and never
// calls the ACD.
func (cc *CallCenter) HandleACD(evs []acd.Event) {
	batch := make([]store.QueueEvent, 0, len(evs))
	for _, ev := range evs {
		batch = append(batch, queueEvent(ev))
		agentTeam := ""
		if a, ok := cc.ctl.acdCfg.agents[string(ev.Agent)]; ok {
			agentTeam = a.Team
		}
		var teams []string
		if ev.Queue != "" {
			teams = cc.ctl.acdCfg.queueTeams(string(ev.Queue))
		}
		if agentTeam != "" {
			teams = appendUnique(teams, agentTeam)
		}
		aud := cti.Audience{Teams: teams}
		if ev.Agent != "" {
			aud.Agents = []string{string(ev.Agent)}
		}
		switch ev.Kind {
		case acd.EventAgentState:
			cc.agents.state(ev)
			cc.publish("agent.state", "", string(ev.Agent), "", ev.At, aud, map[string]any{
				"from": ev.From.String(), "to": ev.To.String(), "reason": ev.Reason,
				"busy": ev.Busy.String(), "origin": ev.Origin.Kind.String(), "by": ev.Origin.By, "call_id": string(ev.Call)})
		case acd.EventOfferAccepted:
			cc.agents.answered(ev)
		case acd.EventQueued, acd.EventAbandoned, acd.EventOverflow, acd.EventCallbackRequested:
			cc.publish("queue."+ev.Kind.String(), string(ev.Call), string(ev.Agent), string(ev.Queue), ev.At, aud, map[string]any{
				"reason": ev.Reason, "caller": ev.Caller, "priority": ev.Priority, "target": ev.Target.Kind.String(),
				"dest": ev.Target.Dest})
		}
		if ev.Call == "" {
			continue
		}
		cc.mu.Lock()
		c := cc.calls[string(ev.Call)]
		if c == nil && ev.Kind == acd.EventCallbackDue && !cc.closed {
			c = cc.newCallback(ev)
		}
		cc.mu.Unlock()
		if c != nil {
			c.box.put(ev)
			if ev.Kind == acd.EventCallbackRequested || ev.Kind == acd.EventOverflow && ev.Target.Kind == acd.TargetCallback {
				// The caller leaves, keeping a virtual place: the
				// callback's own actor takes the id's later decisions.
				cc.mu.Lock()
				if c.key == c.id && cc.calls[c.key] == c {
					delete(cc.calls, c.key)
					c.key = c.id + "/caller"
					cc.calls[c.key] = c
				}
				cc.mu.Unlock()
			}
		}
	}
	cc.opt.Journal.QueueEvents(batch...)
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// queueEvent maps an acd event to the event log's record.
func queueEvent(ev acd.Event) store.QueueEvent {
	qe := store.QueueEvent{At: ev.At, Kind: ev.Kind.String(), CallID: string(ev.Call), Queue: string(ev.Queue),
		AgentID: string(ev.Agent), Reason: ev.Reason}
	data := map[string]any{}
	switch ev.Kind {
	case acd.EventAgentState:
		qe.State = ev.To.String()
		data["from"] = ev.From.String()
		data["origin"] = ev.Origin.Kind.String()
		if ev.Origin.By != "" {
			data["by"] = ev.Origin.By
		}
		if ev.Busy != acd.BusyNone {
			data["busy"] = ev.Busy.String()
		}
	case acd.EventOverflow:
		data["target"] = ev.Target.Kind.String()
		if ev.Target.Dest != "" {
			data["dest"] = ev.Target.Dest
		}
	}
	if ev.Caller != "" {
		data["caller"] = ev.Caller
	}
	if ev.Priority != 0 {
		data["priority"] = ev.Priority
	}
	if !ev.Until.IsZero() {
		data["until"] = ev.Until
	}
	if ev.Call != "" {
		data["call_kind"] = ev.CallKind.String()
	}
	if len(data) > 0 {
		qe.Data, _ = json.Marshal(data)
	}
	return qe
}

// publish sends one CTI event.
func (cc *CallCenter) publish(typ, callID, agentID, queue string, at time.Time, aud cti.Audience, payload any) {
	var raw json.RawMessage
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			cc.log.Error("cti payload", "type", typ, "err", err)
			return
		}
		raw = b
	}
	cc.hub.Publish(cti.Event{Type: typ, Time: at, CallID: callID, AgentID: agentID, Queue: queue, Payload: raw, Audience: aud})
}

// bind makes the call own a channel's events (before the channel is
// originated, so its first events find the call).
func (cc *CallCenter) bind(ch mediacore.ChannelID, c *call) {
	cc.mu.Lock()
	cc.byChan[ch] = c
	cc.mu.Unlock()
}

// unbindCall forgets a finished call and its channels.
func (cc *CallCenter) unbindCall(c *call) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.calls[c.key] == c {
		delete(cc.calls, c.key)
	}
	for ch, x := range cc.byChan {
		if x == c {
			delete(cc.byChan, ch)
		}
	}
}

// call returns a live call by id.
func (cc *CallCenter) call(id string) *call {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.calls[id]
}

// discardJournal drops everything (no Journal configured).
type discardJournal struct{}

func (discardJournal) CallEnded(store.CDR)               {}
func (discardJournal) QueueEvents(...store.QueueEvent)   {}
func (discardJournal) RecordingFinished(store.Recording) {}

// flow loads an IVR flow by id: a built-in one first, then the FlowSource.
func (cc *CallCenter) flow(ctx context.Context, id string) (*ivr.Flow, error) {
	if f, ok := cc.opt.BuiltinFlows[id]; ok {
		return f, nil
	}
	if cc.opt.Flows == nil {
		return nil, fmt.Errorf("%w: IVR flow %q", store.ErrNotFound, id)
	}
	f, _, err := cc.opt.Flows.Flow(ctx, id)
	return f, err
}

// isIllegal reports an acd refusal of a state change.
func isIllegal(err error) bool { return errors.Is(err, acd.ErrIllegalTransition) }

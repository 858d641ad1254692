package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/emiago/sipgo/sip"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hotline/controller/reports"
	"hotline/controller/store"
	"hotline/mediacore/mediatest/sippeer"
)

// LiveConfig configures a run against a Hotline instance.
type LiveConfig struct {
	Target string // the instance's HTTP base URL
	SIP    string // its SIP address host:port
	Token  string // an admin token
	Agents int
	// Traffic is what the callers do (rate, duration, talk, patience, seed).
	Traffic Traffic
	// RingDelay is how long an agent's phone rings before it answers.
	RingDelay time.Duration
	// Queue and Number name what the run creates or reuses; the queue
	// must carry no other traffic during the run's quarter hours.
	Queue, Number string
	// WrapUp is the queue's after-call work (wrap_up, whole seconds): an
	// agent is not offered a call for this long after hanging up. Zero
	// means none.
	WrapUp time.Duration
	// ExtensionBase is the first agent extension (default 7001).
	ExtensionBase int
	// Definitions are the report definitions of the instance and the
	// measurement tolerance (default 500 ms).
	Definitions Definitions
	// Settle bounds the wait for Hotline's figures to include every call.
	Settle time.Duration
	// EndGrace bounds how long after its talk time an answered call may
	// stay up (default 1 min): the agent hangs up at the talk time and
	// Hotline must then end the caller's side. A call still up after
	// talk + EndGrace is counted failed ("never ended") and hung up by the
	// caller, so a run always ends even if Hotline keeps a call for ever.
	EndGrace time.Duration
	// IP is the local address phones listen on (default 127.0.0.1).
	IP string
	// Progress receives a progress line (ProgressLine) every
	// ProgressEvery (default 5 s) while calls arrive; nil prints none.
	Progress      io.Writer
	ProgressEvery time.Duration
	// OnSnapshot, when set, receives a Snapshot every second while calls
	// arrive (the live view); it must not block.
	OnSnapshot func(Snapshot)
	// Watch adds Hotline's real-time figures to the snapshots.
	Watch bool
	// Load is the load mode: the snapshots carry the daemon's memory and
	// goroutines from its /metrics, and LiveResult.Load their history.
	Load bool
	HTTP *http.Client
}

func (c *LiveConfig) defaults() {
	if c.Queue == "" {
		c.Queue = "sim"
	}
	if c.Number == "" {
		c.Number = "+15550199"
	}
	if c.ExtensionBase == 0 {
		c.ExtensionBase = 7001
	}
	if c.Definitions.Config == (reports.Config{}) {
		c.Definitions.Config = reports.DefaultConfig()
	}
	if c.Definitions.Tolerance == 0 {
		c.Definitions.Tolerance = 500 * time.Millisecond
	}
	if c.Settle == 0 {
		c.Settle = 30 * time.Second
	}
	if c.EndGrace == 0 {
		c.EndGrace = time.Minute
	}
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
}

// ErrAgentStateMissing means the instance has no agent state route
// (PUT /api/v1/agents/{id}/state): agents cannot be logged in.
var ErrAgentStateMissing = errors.New("sim: the target has no agent state route (PUT /api/v1/agents/{id}/state)")

// liveAgent is one simulated agent: its record and its phone.
type liveAgent struct {
	id, ext, password string
	phone             *sippeer.Phone
	// decide answers an offer: 200 when the agent takes the call, another
	// code when its caller has already given up (see answerOffer). It is
	// set when the run starts; until then offers are refused.
	decide atomic.Pointer[func(req *sip.Request) int]
}

// LiveResult is the outcome of a live run.
type LiveResult struct {
	Truth       Truth
	QueueID     string
	AgentIDs    []string
	From, To    time.Time
	Differences []Difference
	// Load is the run's rate, failures, INVITE-to-answer percentiles and,
	// in load mode, the daemon's process figures over time.
	Load LoadSummary
}

// Live runs traffic against the instance, keeping the ground truth, then
// fetches the queue and agent reports for the run's range and reconciles
// them. The error is ErrMismatch when figures differ.
func Live(ctx context.Context, cfg LiveConfig) (LiveResult, error) {
	cfg.defaults()
	var res LiveResult
	arrivals, err := Generate(cfg.Traffic)
	if err != nil {
		return res, err
	}
	if cfg.Agents <= 0 || cfg.Agents > 5000 {
		return res, fmt.Errorf("%w: agents must be within 1-5000", ErrInvalidTraffic)
	}
	c := &client{base: strings.TrimRight(cfg.Target, "/"), token: cfg.Token, http: cfg.HTTP}
	agents, err := ensureAgents(ctx, c, cfg)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, a := range agents {
			a.phone.Close()
		}
	}()
	queueID, err := ensureQueue(ctx, c, cfg, agents)
	if err != nil {
		return res, err
	}
	if err := ensureNumber(ctx, c, cfg, queueID); err != nil {
		return res, err
	}
	if err := ensureCarrier(ctx, c, cfg); err != nil {
		return res, err
	}
	res.QueueID = queueID
	for _, a := range agents {
		res.AgentIDs = append(res.AgentIDs, a.id)
		if code, err := a.phone.Register(ctx, cfg.SIP, a.password, 3600); err != nil || code != 200 {
			return res, fmt.Errorf("%w: agent %s REGISTER: status %d: %v", ErrTarget, a.ext, code, err)
		}
		err := c.do(ctx, http.MethodPut, "/api/v1/agents/"+a.id+"/state", map[string]string{"state": "ready"}, nil)
		var se *statusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed || se.Status == http.StatusServiceUnavailable) {
			return res, ErrAgentStateMissing
		}
		if err != nil {
			return res, err
		}
	}
	truth, from, to, load, err := placeCalls(ctx, cfg, c, arrivals, agents)
	res.Truth, res.From, res.To, res.Load = truth, from, to, load
	if err != nil {
		return res, err
	}
	diffs, err := reconcileLive(ctx, c, cfg, res)
	res.Differences = diffs
	if err != nil {
		return res, err
	}
	if len(diffs) > 0 {
		return res, fmt.Errorf("%w: %d figures differ", ErrMismatch, len(diffs))
	}
	return res, nil
}

func randomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ensureAgents creates the run's agents (or gives existing ones with the
// same extensions a new SIP password) and starts their phones.
func ensureAgents(ctx context.Context, c *client, cfg LiveConfig) ([]*liveAgent, error) {
	existing, err := list[store.Agent](ctx, c, "/api/v1/agents")
	if err != nil {
		return nil, err
	}
	byExt := map[string]store.Agent{}
	for _, a := range existing {
		byExt[a.Extension] = a
	}
	var out []*liveAgent
	for i := range cfg.Agents {
		ext := fmt.Sprint(cfg.ExtensionBase + i)
		la := &liveAgent{ext: ext, password: randomPassword()}
		body := map[string]any{"name": "sim agent " + ext, "extension": ext, "sip_password": la.password}
		var got store.Agent
		if a, ok := byExt[ext]; ok {
			body["version"] = a.Version
			err = c.do(ctx, http.MethodPut, "/api/v1/agents/"+a.ID, body, &got)
		} else {
			err = c.do(ctx, http.MethodPost, "/api/v1/agents", body, &got)
		}
		if err != nil {
			closeAll(out)
			return nil, err
		}
		la.id = got.ID
		la.phone, err = sippeer.New(sippeer.Config{IP: cfg.IP, User: ext, Answer: func(req *sip.Request) int {
			if f := la.decide.Load(); f != nil {
				return (*f)(req)
			}
			return sipBusyHere
		}})
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, la)
	}
	return out, nil
}

func closeAll(as []*liveAgent) {
	for _, a := range as {
		a.phone.Close()
	}
}

func ensureQueue(ctx context.Context, c *client, cfg LiveConfig, agents []*liveAgent) (string, error) {
	qs, err := list[store.Queue](ctx, c, "/api/v1/queues")
	if err != nil {
		return "", err
	}
	members := make([]map[string]any, len(agents))
	for i, a := range agents {
		members[i] = map[string]any{"agent_id": a.id, "penalty": 0}
	}
	body := map[string]any{"name": cfg.Queue, "members": members, "join_when_no_agents": true,
		"wrap_up": int(cfg.WrapUp / time.Second)}
	var got store.Queue
	for _, q := range qs {
		if q.Name == cfg.Queue {
			body["version"] = q.Version
			err := c.do(ctx, http.MethodPut, "/api/v1/queues/"+q.ID, body, &got)
			return got.ID, err
		}
	}
	err = c.do(ctx, http.MethodPost, "/api/v1/queues", body, &got)
	return got.ID, err
}

func ensureNumber(ctx context.Context, c *client, cfg LiveConfig, queueID string) error {
	ns, err := list[store.Number](ctx, c, "/api/v1/numbers")
	if err != nil {
		return err
	}
	body := map[string]any{"number": cfg.Number, "name": "sim", "route": map[string]any{"kind": "queue", "value": queueID}}
	for _, n := range ns {
		if n.Number == cfg.Number {
			body["version"] = n.Version
			return c.do(ctx, http.MethodPut, "/api/v1/numbers/"+n.ID, body, nil)
		}
	}
	return c.do(ctx, http.MethodPost, "/api/v1/numbers", body, nil)
}

// simCarrier names the trunk the simulated callers arrive through.
const simCarrier = "sim-carrier"

// ensureCarrier makes the simulated callers a carrier: Hotline admits an
// INVITE only from a trunk's address or from a registered phone, and the
// callers are neither, so a trunk named simCarrier lists the address they
// call from (the host of --sip's route to the target: on one machine,
// the SIP address's host). It never carries outbound calls of its own.
func ensureCarrier(ctx context.Context, c *client, cfg LiveConfig) error {
	host, _, err := net.SplitHostPort(cfg.SIP)
	if err != nil {
		return fmt.Errorf("%w: --sip %q: %v", ErrTarget, cfg.SIP, err)
	}
	ts, err := list[store.Trunk](ctx, c, "/api/v1/trunks")
	if err != nil {
		return err
	}
	body := map[string]any{"name": simCarrier, "host": host, "port": 9, "transport": "udp", "priority": 1000,
		"inbound_addresses": []string{host}, "enabled": true}
	for _, t := range ts {
		if t.Name == simCarrier {
			body["version"] = t.Version
			return c.do(ctx, http.MethodPut, "/api/v1/trunks/"+t.ID, body, nil)
		}
	}
	return c.do(ctx, http.MethodPost, "/api/v1/trunks", body, nil)
}

// ledger is the ground truth being written by callers and agents.
type ledger struct {
	mu                                                sync.Mutex // guards everything below
	calls                                             []CallTruth
	byCaller                                          map[string]int // caller user -> call index
	answered                                          []chan struct{}
	placed, waiting, talking, abandoned, failed, done int
	// setup holds each connected caller's INVITE-to-answer time.
	setup []time.Duration
}

func callerUser(n int) string { return fmt.Sprintf("5559%06d", n) }

// placeCalls runs the traffic: one goroutine per caller (each is a
// person with a patience) and one per agent phone.
func placeCalls(ctx context.Context, cfg LiveConfig, c *client, arrivals []Arrival, agents []*liveAgent) (Truth, time.Time, time.Time, LoadSummary, error) {
	l := &ledger{calls: make([]CallTruth, len(arrivals)), byCaller: map[string]int{}, answered: make([]chan struct{}, len(arrivals))}
	for i, a := range arrivals {
		l.calls[i].N = a.N
		l.byCaller[callerUser(a.N)] = i
		l.answered[i] = make(chan struct{})
	}
	parent := ctx // the last snapshot is taken after the calls' context ends
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, a := range agents {
		decide := func(req *sip.Request) int { return answerOffer(cfg.RingDelay, a, arrivals, l, req) }
		a.decide.Store(&decide)
		wg.Add(1)
		go func() { defer wg.Done(); agentLoop(ctx, a, arrivals, l) }()
	}
	start := time.Now()
	w := &watcher{cfg: cfg, c: c, l: l, start: start, total: len(arrivals)}
	stopWatch := make(chan struct{})
	var watching sync.WaitGroup
	watching.Add(1)
	go func() { defer watching.Done(); w.run(ctx, stopWatch) }()
	stopProgress := func() { close(stopWatch); watching.Wait() }
	var callers sync.WaitGroup
	for i, a := range arrivals {
		select {
		case <-time.After(time.Until(start.Add(a.At))):
		case <-ctx.Done():
			callers.Wait()
			cancel()
			wg.Wait()
			stopProgress()
			end := time.Now()
			return Truth{Queue: cfg.Queue, Calls: l.calls}, start, end, w.summary(context.WithoutCancel(ctx), l, start, end), ctx.Err()
		}
		callers.Add(1)
		go func() { defer callers.Done(); caller(ctx, cfg, i, a, l) }()
	}
	callers.Wait()
	cancel()
	wg.Wait()
	stopProgress()
	end := time.Now()
	if cfg.OnSnapshot != nil {
		last := w.snapshot(parent)
		last.Reconciling = true
		cfg.OnSnapshot(last)
	}
	return Truth{Queue: cfg.Queue, Calls: l.calls}, start, end, w.summary(ctx, l, start, end), nil
}

// caller places one call: it dials the number and hangs up after its
// patience unless an agent answered first.
func caller(ctx context.Context, cfg LiveConfig, i int, a Arrival, l *ledger) {
	phone, err := sippeer.New(sippeer.Config{IP: cfg.IP, User: callerUser(a.N)})
	now := time.Now()
	l.mu.Lock()
	l.calls[i].Arrival, l.calls[i].Enqueued = now, now // no IVR, no greeting: queue entry at arrival
	l.placed++
	l.waiting++
	l.mu.Unlock()
	fail := func(why string) {
		l.mu.Lock()
		l.calls[i].Failed = why
		l.waiting--
		l.failed++
		l.mu.Unlock()
	}
	if err != nil {
		fail(err.Error())
		return
	}
	defer phone.Close()
	var patience <-chan time.Time
	if a.Patience > 0 {
		t := time.NewTimer(a.Patience)
		defer t.Stop()
		patience = t.C
	}
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	dial := phone.DialAsync(dctx, "sip:"+cfg.Number+"@"+cfg.SIP)
	answered := l.answered[i]
	var call *sippeer.Call
	for {
		select {
		case r := <-dial:
			dial = nil
			if r.Err != nil {
				if answered == nil {
					return // the agent's side already finished the call
				}
				fail("dial: " + r.Err.Error())
				return
			}
			call = r.Call
			l.mu.Lock()
			l.calls[i].EnqueueSeen = time.Now()
			l.setup = append(l.setup, l.calls[i].EnqueueSeen.Sub(l.calls[i].Arrival))
			l.mu.Unlock()
			call.SetTone(620) // the caller speaks: audio flows while it waits and talks
			if answered == nil {
				waitEnd(ctx, call, a.Talk, cfg.EndGrace, i, l)
				return
			}
		case <-answered:
			// An agent answered (or the caller gave up, below): the
			// agent talks and hangs up; wait for the end.
			answered, patience = nil, nil
			if call != nil {
				waitEnd(ctx, call, a.Talk, cfg.EndGrace, i, l)
				return
			}
			if dial == nil {
				return
			}
		case <-patience:
			l.mu.Lock()
			select {
			case <-l.answered[i]:
				l.mu.Unlock()
				continue
			default:
			}
			l.calls[i].Abandoned = time.Now()
			l.calls[i].Cancelled = call == nil
			l.waiting--
			l.abandoned++
			l.done++
			close(l.answered[i]) // nobody may answer it any more
			l.mu.Unlock()
			if call != nil {
				_ = call.Hangup(ctx)
			} else {
				dcancel() // CANCEL the INVITE
				select {
				case <-dial: // the CANCEL's final answer (or the INVITE's 487)
				case <-ctx.Done():
				}
			}
			l.mu.Lock()
			l.calls[i].HangupSeen = time.Now()
			l.mu.Unlock()
			return
		case <-ctx.Done():
			return
		}
	}
}

// waitEnd waits for the end of answered call i, whose agent talks for
// talk, at most talk + grace (LiveConfig.EndGrace).
func waitEnd(ctx context.Context, call *sippeer.Call, talk, grace time.Duration, i int, l *ledger) {
	limit := time.NewTimer(talk + grace)
	defer limit.Stop()
	select {
	case <-call.Done():
	case <-ctx.Done():
	case <-limit.C:
		l.mu.Lock()
		l.calls[i].Failed = fmt.Sprintf("never ended: still up %v after the agent's talk time", grace)
		l.failed++
		l.mu.Unlock()
		_ = call.Hangup(ctx)
	}
}

// sipBusyHere is SIP 486 Busy Here (RFC 3261 §21.4.24).
const sipBusyHere = 486

// answerOffer is an agent's phone deciding on an offer after ringing for
// ringDelay. The decision and the caller's decision to give up (placeCall)
// are taken under the ledger's lock, before either side sends anything:
// a phone that answered after its caller had hung up would otherwise be
// bridged by Hotline (an answered call) while the ground truth says
// abandoned. A caller that gave up first gets the offer refused (486).
func answerOffer(ringDelay time.Duration, a *liveAgent, arrivals []Arrival, l *ledger, req *sip.Request) int {
	time.Sleep(ringDelay) // the phone rings
	user := ""
	if req.From() != nil {
		user = req.From().Address.User
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	i, ok := l.byCaller[user]
	if !ok {
		return sipBusyHere
	}
	select {
	case <-l.answered[i]:
		return sipBusyHere // abandoned already: a late offer
	default:
	}
	l.calls[i].Answered, l.calls[i].Agent, l.calls[i].Talk = time.Now(), a.id, arrivals[i].Talk
	l.waiting--
	l.talking++
	close(l.answered[i])
	return http.StatusOK
}

// agentLoop talks on the calls an agent's phone answered (answerOffer)
// and hangs up after the caller's talk time.
func agentLoop(ctx context.Context, a *liveAgent, arrivals []Arrival, l *ledger) {
	for {
		select {
		case <-ctx.Done():
			return
		case call := <-a.phone.Incoming():
			user := ""
			if call.Request != nil && call.Request.From() != nil {
				user = call.Request.From().Address.User
			}
			l.mu.Lock()
			i, ok := l.byCaller[user]
			l.mu.Unlock()
			if !ok {
				_ = call.Hangup(ctx)
				continue
			}
			call.SetTone(440) // the agent speaks
			select {
			case <-time.After(arrivals[i].Talk):
				_ = call.Hangup(ctx)
			case <-call.Done():
			case <-ctx.Done():
				return
			}
			l.mu.Lock()
			l.talking--
			l.done++
			l.mu.Unlock()
		}
	}
}

// reconcileLive fetches Hotline's figures for the run until they include
// every call (or Settle passes) and compares them with the ground truth.
func reconcileLive(ctx context.Context, c *client, cfg LiveConfig, res LiveResult) ([]Difference, error) {
	from := res.From.Truncate(15 * time.Minute)
	to := res.To.Truncate(15 * time.Minute).Add(15 * time.Minute)
	exp := res.Truth.Expect(cfg.Definitions, from, to)
	deadline := time.Now().Add(cfg.Settle)
	for {
		qr, err := fetchReport(ctx, c, "queues", from, to, []string{res.QueueID})
		if err != nil {
			return nil, err
		}
		ar, err := fetchReport(ctx, c, "agents", from, to, res.AgentIDs)
		if err != nil {
			return nil, err
		}
		// The ground truth's scope is named by queue name; Hotline's by id.
		for i := range qr.Rows {
			if qr.Rows[i].Key == res.QueueID {
				qr.Rows[i].Key = res.Truth.Queue
			}
		}
		diffs := Reconcile(exp, Observe(qr, ar))
		if len(diffs) == 0 { // the reports agree: so must the real-time figures, once settled
			var err error
			if diffs, err = reconcileRealtime(ctx, c, res, exp, time.Now()); err != nil {
				return nil, err
			}
		}
		if len(diffs) == 0 || time.Now().After(deadline) {
			return diffs, nil
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return diffs, ctx.Err()
		}
	}
}

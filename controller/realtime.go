package controller

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/acd"
	"hotline/controller/cti"
	"hotline/controller/reports"
	"hotline/controller/store"
	"hotline/internal/clock"
)

// Real-time statistics (R5.1, R8.4): per queue the live load (waiting
// calls, longest current wait, members by state) from the ACD owner, and
// today's and a sliding window's figures under docs/METRICS.md from the
// report aggregator and a reports.Window; per agent its state, time in
// state and calls today. Served by GET /api/v1/stats/realtime, pushed on
// the CTI stream as stats.realtime every second, and exported as
// Prometheus gauges.

// Defaults of RealtimeOptions.
const (
	// DefaultRealtimeWindow is the sliding window when none is asked for.
	DefaultRealtimeWindow = 15 * time.Minute
	// DefaultRealtimePush is how often stats.realtime is published and
	// the gauges refreshed.
	DefaultRealtimePush = time.Second
	// RealtimeEventType is the CTI event type of the pushed figures.
	RealtimeEventType = "stats.realtime"
)

// RealtimeReports gives today's figures: *reports.Aggregator. It is read
// on the ACD owner's goroutine (so that the live load and the figures
// count the same events), so it must answer from memory, without I/O.
type RealtimeReports interface {
	QueueReport(ctx context.Context, q reports.Query) (reports.Report, error)
	AgentReport(ctx context.Context, q reports.Query) (reports.Report, error)
}

// RealtimeOptions configure Realtime. Controller is required.
type RealtimeOptions struct {
	Controller *Controller
	// Reports gives today's figures; nil leaves them empty.
	Reports RealtimeReports
	// Window gives the sliding window's figures (fed the same event log
	// as Reports); nil leaves them empty.
	Window *reports.Window
	// Hub receives stats.realtime; nil publishes nothing.
	Hub *cti.Hub
	// Clock ticks the push (clock.Real).
	Clock clock.Clock
	// Location is the node's time zone, where "today" starts when a query
	// names none (time.Local).
	Location *time.Location
	// DefaultWindow: see DefaultRealtimeWindow. Push: see
	// DefaultRealtimePush.
	DefaultWindow time.Duration
	Push          time.Duration
	// Registerer receives the per-queue gauges; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// RealtimeQuery selects the zone of "today" and the sliding window.
type RealtimeQuery struct {
	// Location of today's midnight; nil is the node's.
	Location *time.Location
	// Window is the sliding window's length, up to reports.MaxWindow; 0
	// is the default.
	Window time.Duration
}

// RealtimeStats is the answer of GET /api/v1/stats/realtime and the
// payload of the stats.realtime CTI event. Durations are seconds.
type RealtimeStats struct {
	// Time is when the figures were taken.
	Time     time.Time `json:"time"`
	TimeZone string    `json:"time_zone"`
	// TodayFrom is today's local midnight: today's figures count the
	// queue segments entered since.
	TodayFrom time.Time `json:"today_from"`
	// WindowSeconds is the sliding window: its figures count the queue
	// segments entered in (Time - window, Time].
	WindowSeconds float64         `json:"window_seconds"`
	Queues        []QueueRealtime `json:"queues"`
	Agents        []AgentRealtime `json:"agents"`
}

// QueueRealtime is one queue's real-time figures.
type QueueRealtime struct {
	QueueID string `json:"queue_id"`
	Name    string `json:"name"`
	// Waiting counts callers on the line not yet answered (in line or
	// ringing an agent; Ringing of them are ringing).
	Waiting int `json:"waiting"`
	Ringing int `json:"ringing"`
	// Callbacks counts callback requests keeping a place in line.
	Callbacks int `json:"callbacks"`
	// LongestWait is the current wait of the longest-waiting caller
	// (since it entered this queue), 0 when nobody waits.
	LongestWait float64 `json:"longest_wait"`
	// Agents counts the queue's members by state: logged-out, ready,
	// not-ready, reserved (ringing), busy (talking, on hold or
	// internal), wrap-up. Every state is present.
	Agents map[string]int `json:"agents"`
	// Today and Window are the figures of docs/METRICS.md over the
	// segments entered today and in the window.
	Today  reports.QueueFigures `json:"today"`
	Window reports.QueueFigures `json:"window"`

	teams []string // the teams of its members, for supervisors
}

// AgentRealtime is one agent's real-time figures.
type AgentRealtime struct {
	AgentID   string `json:"agent_id"`
	Name      string `json:"name"`
	Extension string `json:"extension"`
	Team      string `json:"team,omitempty"`
	// State is logged-out, ready, not-ready, reserved, busy or wrap-up.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Since is when the state began (zero for an agent never logged in);
	// InState the seconds since.
	Since   time.Time `json:"since"`
	InState float64   `json:"in_state_seconds"`
	// CallsToday counts the calls it answered today (the agent report's
	// answered, callbacks included).
	CallsToday int64 `json:"calls_today"`
}

// Realtime computes the real-time statistics and pushes them. Build it
// with NewRealtime, then Start; Close stops the push.
type Realtime struct {
	opt RealtimeOptions
	ctl *Controller
	clk clock.Clock
	log *slog.Logger

	// mu guards timer, closed and last (the latest pushed figures, which
	// the gauges show).
	mu     sync.Mutex
	timer  clock.Timer
	closed bool
	last   *RealtimeStats
}

// NewRealtime builds the real-time statistics over a controller.
func NewRealtime(opt RealtimeOptions) (*Realtime, error) {
	if opt.Controller == nil {
		return nil, fmt.Errorf("%w: Realtime needs the Controller", ErrInvalidOptions)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.DefaultWindow <= 0 {
		opt.DefaultWindow = DefaultRealtimeWindow
	}
	if opt.DefaultWindow > reports.MaxWindow {
		return nil, fmt.Errorf("%w: DefaultWindow above %v", ErrInvalidOptions, reports.MaxWindow)
	}
	if opt.Push <= 0 {
		opt.Push = DefaultRealtimePush
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Realtime{opt: opt, ctl: opt.Controller, clk: opt.Clock, log: opt.Logger}
	if opt.Registerer != nil {
		if err := opt.Registerer.Register(realtimeCollector{r}); err != nil {
			return nil, fmt.Errorf("controller: real-time metrics: %w", err)
		}
	}
	return r, nil
}

// Start begins the push: every Push the figures (node's zone, default
// window, every queue and agent) are published as stats.realtime and
// kept for the gauges. The first push is one period after Start.
func (r *Realtime) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer == nil && !r.closed {
		r.timer = r.clk.AfterFunc(r.opt.Push, r.tick)
	}
}

// Close stops the push; a tick already running finishes.
func (r *Realtime) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
}

// tick pushes once and re-arms. The next tick is armed before the push
// so that a slow push does not drift the period.
func (r *Realtime) tick() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.timer = r.clk.AfterFunc(r.opt.Push, r.tick)
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), r.opt.Push)
	defer cancel()
	st, err := r.snapshot(ctx, RealtimeQuery{})
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			r.log.Warn("real-time statistics", "err", err)
		}
		return
	}
	r.mu.Lock()
	r.last = &st
	r.mu.Unlock()
	if r.opt.Hub == nil {
		return
	}
	payload, err := json.Marshal(st)
	if err != nil {
		r.log.Error("real-time statistics payload", "err", err)
		return
	}
	// Wallboards are center-wide: admins and every team's supervisors
	// see the push (the REST route narrows a supervisor to its team).
	var teams []string
	for _, q := range st.Queues {
		for _, t := range q.teams {
			teams = appendUnique(teams, t)
		}
	}
	for _, a := range st.Agents {
		if a.Team != "" {
			teams = appendUnique(teams, a.Team)
		}
	}
	slices.Sort(teams)
	r.opt.Hub.Publish(cti.Event{Type: RealtimeEventType, Time: st.Time, Payload: payload, Audience: cti.Audience{Teams: teams}})
}

// Last returns the figures of the latest push (false before the first).
func (r *Realtime) Last() (RealtimeStats, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		return RealtimeStats{}, false
	}
	return *r.last, true
}

// Stats returns the figures by's role may read: admins and reporters
// every queue and agent; a supervisor with a team the queues that team's
// agents serve and that team's agents (without a team, all); an agent
// nothing (ErrForbidden). A window above reports.MaxWindow is
// reports.ErrInvalidQuery.
func (r *Realtime) Stats(ctx context.Context, by Actor, q RealtimeQuery) (RealtimeStats, error) {
	switch by.Role {
	case store.RoleAdmin, store.RoleReporter, store.RoleSupervisor:
	default:
		return RealtimeStats{}, fmt.Errorf("%w: %s may not read real-time statistics", ErrForbidden, by.Role)
	}
	st, err := r.snapshot(ctx, q)
	if err != nil || by.Role != store.RoleSupervisor || by.Team == "" {
		return st, err
	}
	st.Queues = slices.DeleteFunc(st.Queues, func(x QueueRealtime) bool { return !slices.Contains(x.teams, by.Team) })
	st.Agents = slices.DeleteFunc(st.Agents, func(x AgentRealtime) bool { return x.Team != by.Team })
	return st, nil
}

// agentStateNames are the states every QueueRealtime.Agents holds.
var agentStateNames = []string{acd.StateLoggedOut.String(), acd.StateReady.String(), acd.StateNotReady.String(),
	acd.StateReserved.String(), acd.StateBusy.String(), acd.StateWrapUp.String()}

// snapshot takes every figure on the ACD owner's goroutine: the events
// the engine has emitted so far are exactly those the journal has fed
// the aggregator and the window (HandleACD journals them on that
// goroutine before the next command), so a call that leaves the line is
// at the same moment counted answered or abandoned.
func (r *Realtime) snapshot(ctx context.Context, q RealtimeQuery) (RealtimeStats, error) {
	loc, win := q.Location, q.Window
	if loc == nil {
		loc = r.opt.Location
	}
	if win == 0 {
		win = r.opt.DefaultWindow
	}
	if win < 0 || win > reports.MaxWindow {
		return RealtimeStats{}, fmt.Errorf("%w: window %v: must be positive and at most %v", reports.ErrInvalidQuery, win, reports.MaxWindow)
	}
	var st RealtimeStats
	err := r.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		now := r.clk.Now()
		today := reports.Today(now, loc, nil)
		st = RealtimeStats{Time: now, TimeZone: loc.String(), TodayFrom: today.From.In(loc), WindowSeconds: win.Seconds(),
			Queues: []QueueRealtime{}, Agents: []AgentRealtime{}}
		var todayQ, todayA map[string]reports.Figures
		var winQ map[string]reports.QueueFigures
		if rep := r.opt.Reports; rep != nil {
			var err error
			if todayQ, err = rowsByKey(rep.QueueReport(ctx, today)); err != nil {
				return nil, err
			}
			if todayA, err = rowsByKey(rep.AgentReport(ctx, today)); err != nil {
				return nil, err
			}
		}
		if r.opt.Window != nil {
			var err error
			if winQ, err = r.opt.Window.Queues(now.Add(-win).Add(time.Nanosecond), now); err != nil {
				return nil, err
			}
		}
		for _, l := range e.QueueLoads() {
			id := string(l.Queue)
			qr := QueueRealtime{QueueID: id, Name: r.ctl.acdCfg.queues[id].Name, Waiting: l.Waiting, Ringing: l.Ringing,
				Callbacks: l.Callbacks, Agents: make(map[string]int, len(agentStateNames)),
				Today: todayQ[id].QueueFigures(), Window: winQ[id], teams: r.ctl.acdCfg.queueTeams(id)}
			if !l.OldestQueued.IsZero() {
				qr.LongestWait = max(0, now.Sub(l.OldestQueued).Seconds())
			}
			for s, n := range l.Agents {
				qr.Agents[acd.State(s).String()] = n
			}
			st.Queues = append(st.Queues, qr)
		}
		for id, a := range r.ctl.acdCfg.agents {
			as, err := e.Agent(acd.AgentID(id))
			if err != nil && !errors.Is(err, acd.ErrUnknownAgent) {
				return nil, err
			}
			ar := AgentRealtime{AgentID: id, Name: a.Name, Extension: a.Extension, Team: a.Team, State: as.State.String(),
				Reason: as.Reason, Since: as.Since, CallsToday: todayA[id].Answered}
			if !as.Since.IsZero() {
				ar.InState = max(0, now.Sub(as.Since).Seconds())
			}
			st.Agents = append(st.Agents, ar)
		}
		return nil, nil
	})
	slices.SortFunc(st.Agents, func(a, b AgentRealtime) int { return cmp.Compare(a.AgentID, b.AgentID) })
	return st, err
}

// rowsByKey indexes a total report's rows by key.
func rowsByKey(rep reports.Report, err error) (map[string]reports.Figures, error) {
	if err != nil {
		return nil, err
	}
	m := make(map[string]reports.Figures, len(rep.Rows))
	for _, row := range rep.Rows {
		m[row.Key] = row.Figures
	}
	return m, nil
}

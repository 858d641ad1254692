package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore"
)

// Supervisor actions (R5.2): listen, whisper and barge on a live call,
// switched live without redialling; force hangup; recording started on
// demand; and, through SetAgentState, force ready / not-ready / logout.
//
// The supervisor's device is any neutral endpoint (user/<extension>, a
// sip: URI, tel/<number>): the call actor originates a "supervisor" leg
// there, near the caller's channel, and when it answers attaches it to
// the agent's channel with mediacore.Core.Snoop. Snoop uses a backend's
// native snoop when it has one and otherwise the conversation bridge's
// roles (RoleListen, RoleWhisper to the agent, RoleSpeak), so the same
// code runs on the native core, FreeSWITCH and Asterisk. Switching mode
// is Snoop again on the same leg. Everything happens on the call's actor
// (commands through its mailbox), like every other change to a call.
//
// Permissions: admins act on every call and agent; a supervisor on the
// calls of its team (the teams of the call's queue members and of its
// agent) and on the agents of its team; agents and the other roles never.

// Supervision modes (SuperviseRequest.Mode).
const (
	SuperviseListen  = "listen"  // the supervisor hears both; nobody hears the supervisor
	SuperviseWhisper = "whisper" // the supervisor hears both; only the agent hears the supervisor
	SuperviseBarge   = "barge"   // everyone hears everyone
)

// SuperviseModes lists the valid modes.
var SuperviseModes = []string{SuperviseListen, SuperviseWhisper, SuperviseBarge}

// superviseRing bounds how long the supervisor's device rings.
const superviseRing = 30 * time.Second

// Errors of the supervisor actions (the api maps them to statuses).
var (
	// ErrInvalidMode: a supervision mode other than listen, whisper or
	// barge (400, field mode).
	ErrInvalidMode = errors.New("controller: invalid supervision mode")
	// ErrNotConnected: the call has no conversation with an agent to
	// supervise (still in the IVR or queue, or ending) (409).
	ErrNotConnected = errors.New("controller: call is not connected to an agent")
	// ErrNotSupervising: the actor has no supervision of this call to
	// change or stop (404).
	ErrNotSupervising = errors.New("controller: not supervising this call")
	// ErrAlreadySupervising: the actor already supervises this call;
	// switch modes with SetSuperviseMode (409).
	ErrAlreadySupervising = errors.New("controller: already supervising this call")
	// ErrDeviceUnreachable: the supervisor's device could not be called
	// (409, field device).
	ErrDeviceUnreachable = errors.New("controller: supervisor device unreachable")
	// ErrModeNotSupported: the media node cannot do this mode (whisper on
	// a backend without whisper members or native snoop) (409, field mode).
	ErrModeNotSupported = errors.New("controller: supervision mode not supported by the media node")
)

// SuperviseRequest is the body of POST and PUT /api/v1/calls/{id}/supervise.
type SuperviseRequest struct {
	// Mode is listen, whisper or barge.
	Mode string `json:"mode"`
	// Device is where the supervisor sits, a neutral endpoint
	// ("user/1005", "sip:sup@10.1.2.3:5060", "tel/+8613800000000");
	// required to start, ignored when switching modes.
	Device string `json:"device,omitempty"`
}

// SupervisionView is one supervisor's supervision of a call.
type SupervisionView struct {
	CallID string `json:"call_id"`
	// UserID is the supervising user.
	UserID  string `json:"user_id"`
	AgentID string `json:"agent_id"`
	Mode    string `json:"mode"`
	Device  string `json:"device"`
	// State is "ringing" (the supervisor's device rings; the mode applies
	// when it answers) or "active".
	State string    `json:"state"`
	Since time.Time `json:"since"`
}

// SupervisorControl is the LiveControl part of the supervisor actions.
type SupervisorControl interface {
	// Supervise rings the supervisor's device and, when it answers,
	// attaches it to the call's agent in req.Mode.
	Supervise(ctx context.Context, by Actor, callID string, req SuperviseRequest) (SupervisionView, error)
	// SetSuperviseMode switches the actor's supervision of the call to
	// another mode, live.
	SetSuperviseMode(ctx context.Context, by Actor, callID, mode string) (SupervisionView, error)
	// StopSupervise hangs up the actor's supervision leg.
	StopSupervise(ctx context.Context, by Actor, callID string) error
	// Supervision returns the actor's supervision of the call
	// (ErrNotSupervising when there is none).
	Supervision(ctx context.Context, by Actor, callID string) (SupervisionView, error)
	// ForceHangup ends a call whatever its state.
	ForceHangup(ctx context.Context, by Actor, callID string) error
	// StartRecording records a conversation on demand: it resumes an
	// on-demand recording, or starts one when the queue's policy records
	// nothing; a call already recorded is left as it is.
	StartRecording(ctx context.Context, by Actor, callID string) error
}

var _ SupervisorControl = (*CallCenter)(nil)

// supervision is one supervisor's leg on a call (owned by the actor).
type supervision struct {
	user   string
	device string
	mode   string
	leg    *leg
	active bool // snooping: the leg answered and Snoop succeeded
	since  time.Time
}

func (s *supervision) view(c *call) SupervisionView {
	st := "ringing"
	if s.active {
		st = "active"
	}
	return SupervisionView{CallID: c.id, UserID: s.user, AgentID: c.agentID(), Mode: s.mode, Device: s.device,
		State: st, Since: s.since}
}

func snoopMode(mode string) (mediacore.SnoopMode, error) {
	switch mode {
	case SuperviseListen:
		return mediacore.SnoopListen, nil
	case SuperviseWhisper:
		return mediacore.SnoopWhisper, nil
	case SuperviseBarge:
		return mediacore.SnoopBarge, nil
	}
	return 0, fmt.Errorf("%w: %q (want listen, whisper or barge)", ErrInvalidMode, mode)
}

// floorRole refuses every role but admin and supervisor.
func floorRole(by Actor, what string) error {
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor:
		return nil
	}
	return fmt.Errorf("%w: %s may not %s", ErrForbidden, by.Role, what)
}

// mayActOnTeam narrows an agent action by a supervisor to the agents of
// its team (admins and the agent itself pass; mayActOn did the rest).
func mayActOnTeam(by Actor, a store.Agent) error {
	if by.Role != store.RoleSupervisor || by.AgentID != "" && by.AgentID == a.ID {
		return nil
	}
	if by.Team == "" || a.Team != by.Team {
		return fmt.Errorf("%w: agent %q is not in team %q", ErrForbidden, a.ID, by.Team)
	}
	return nil
}

// mayActOnCall (on the actor): a supervisor acts on the calls of its team:
// those of its queue's member teams or of its agent's team.
func (c *call) mayActOnCall(by Actor) error {
	if by.Role == store.RoleAdmin {
		return nil
	}
	if by.Role == store.RoleSupervisor && by.Team != "" &&
		(slices.Contains(c.teams, by.Team) || c.agentRec.Team == by.Team) {
		return nil
	}
	return fmt.Errorf("%w: call %q is not one of team %q", ErrForbidden, c.id, by.Team)
}

// supervisorCmd runs f on the call's actor after the role check, and the
// team check there.
func (cc *CallCenter) supervisorCmd(ctx context.Context, by Actor, callID, what string, f func(c *call) error) error {
	if err := floorRole(by, what); err != nil {
		return err
	}
	c := cc.call(callID)
	if c == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	done := make(chan error, 1)
	if !c.box.put(cmdMsg(func(c *call) {
		if err := c.mayActOnCall(by); err != nil {
			done <- err
			return
		}
		done <- f(c)
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

// Supervise implements SupervisorControl.
func (cc *CallCenter) Supervise(ctx context.Context, by Actor, callID string, req SuperviseRequest) (SupervisionView, error) {
	if _, err := snoopMode(req.Mode); err != nil {
		return SupervisionView{}, err
	}
	if _, err := mediacore.ParseEndpoint(req.Device); err != nil {
		return SupervisionView{}, fmt.Errorf("%w: %w", ErrInvalidDevice, err)
	}
	var v SupervisionView
	err := cc.supervisorCmd(ctx, by, callID, "supervise calls", func(c *call) error {
		var err error
		v, err = c.supervise(by, req)
		return err
	})
	return v, err
}

// SetSuperviseMode implements SupervisorControl.
func (cc *CallCenter) SetSuperviseMode(ctx context.Context, by Actor, callID, mode string) (SupervisionView, error) {
	if _, err := snoopMode(mode); err != nil {
		return SupervisionView{}, err
	}
	var v SupervisionView
	err := cc.supervisorCmd(ctx, by, callID, "supervise calls", func(c *call) error {
		var err error
		v, err = c.setSuperviseMode(by, mode)
		return err
	})
	return v, err
}

// StopSupervise implements SupervisorControl.
func (cc *CallCenter) StopSupervise(ctx context.Context, by Actor, callID string) error {
	return cc.supervisorCmd(ctx, by, callID, "supervise calls", func(c *call) error {
		s := c.sup[by.UserID]
		if s == nil {
			return fmt.Errorf("%w: %q", ErrNotSupervising, callID)
		}
		c.endSupervision(s, "stopped")
		return nil
	})
}

// Supervision implements SupervisorControl.
func (cc *CallCenter) Supervision(ctx context.Context, by Actor, callID string) (SupervisionView, error) {
	var v SupervisionView
	err := cc.supervisorCmd(ctx, by, callID, "supervise calls", func(c *call) error {
		s := c.sup[by.UserID]
		if s == nil {
			return fmt.Errorf("%w: %q", ErrNotSupervising, callID)
		}
		v = s.view(c)
		return nil
	})
	return v, err
}

// ForceHangup implements SupervisorControl: the caller's channel is ended
// (the actor then ends the rest as after any hangup); the CDR says who in
// its variables (forced_hangup_by) with hangup side system.
func (cc *CallCenter) ForceHangup(ctx context.Context, by Actor, callID string) error {
	return cc.supervisorCmd(ctx, by, callID, "force a hangup", func(c *call) error {
		if c.gone {
			return fmt.Errorf("%w: %q is ending", ErrNoSuchCall, callID)
		}
		c.vars["forced_hangup_by"] = by.UserID
		c.publish("call.force_hangup", "", c.supervisorAudience(), map[string]any{"by": by.UserID,
			"agent_id": c.agentID()})
		c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
		return nil
	})
}

// StartRecording implements SupervisorControl.
func (cc *CallCenter) StartRecording(ctx context.Context, by Actor, callID string) error {
	return cc.supervisorCmd(ctx, by, callID, "start recordings", func(c *call) error {
		return c.startRecordingOnDemand(by.UserID)
	})
}

// supervisorAudience: supervisor events go to the call's teams (and
// admins), not to its agent: a listening supervisor is not announced to
// the agent it listens to.
func (c *call) supervisorAudience() *cti.Audience {
	return &cti.Audience{Teams: c.audience("").Teams}
}

// supervise rings the supervisor's device (on the actor).
func (c *call) supervise(by Actor, req SuperviseRequest) (SupervisionView, error) {
	if c.agent == nil || c.agent.ended || c.bridge == "" || c.gone {
		return SupervisionView{}, fmt.Errorf("%w: %q", ErrNotConnected, c.id)
	}
	if s := c.sup[by.UserID]; s != nil {
		return SupervisionView{}, fmt.Errorf("%w: %q (%s)", ErrAlreadySupervising, c.id, s.mode)
	}
	l := c.newLeg("supervisor", req.Device, "")
	s := &supervision{user: by.UserID, device: req.Device, mode: req.Mode, leg: l, since: c.now()}
	ctx, cancel := c.io()
	_, err := c.cc.media.Originate(ctx, mediacore.OriginateRequest{ChannelID: l.ch, Endpoint: req.Device,
		CallerIDNumber: c.in.Caller, CallerIDName: c.in.CallerName, Timeout: superviseRing, Near: c.ch})
	cancel()
	if node, ok := c.cc.media.NodeOf(l.ch); ok {
		c.cdr.Legs[l.idx].Node = node
	}
	if err != nil {
		l.ended = true
		cl := &c.cdr.Legs[l.idx]
		cl.End, cl.Cause = c.now(), mediacore.CauseFailure.String()
		return SupervisionView{}, fmt.Errorf("%w: %s: %w", ErrDeviceUnreachable, req.Device, err)
	}
	if c.sup == nil {
		c.sup = map[string]*supervision{}
	}
	c.sup[by.UserID] = s
	c.publish("call.supervise_started", "", c.supervisorAudience(), map[string]any{"by": by.UserID,
		"agent_id": c.agentID(), "mode": s.mode, "device": s.device})
	return s.view(c), nil
}

// setSuperviseMode switches modes (on the actor): at once when the leg is
// attached, at answer when it still rings.
func (c *call) setSuperviseMode(by Actor, mode string) (SupervisionView, error) {
	s := c.sup[by.UserID]
	if s == nil {
		return SupervisionView{}, fmt.Errorf("%w: %q", ErrNotSupervising, c.id)
	}
	if s.active && s.mode != mode {
		if err := c.snoop(s, mode); err != nil {
			return SupervisionView{}, err
		}
	}
	s.mode = mode
	c.publish("call.supervise_mode", "", c.supervisorAudience(), map[string]any{"by": s.user,
		"agent_id": c.agentID(), "mode": mode})
	return s.view(c), nil
}

// snoop attaches (or re-attaches) the supervisor's leg to the agent.
func (c *call) snoop(s *supervision, mode string) error {
	m, err := snoopMode(mode)
	if err != nil {
		return err
	}
	if c.agent == nil || c.agent.ended || c.bridge == "" {
		return fmt.Errorf("%w: %q", ErrNotConnected, c.id)
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.Snoop(ctx, c.agent.ch, s.leg.ch, m); err != nil {
		if errors.Is(err, mediacore.ErrNotSupported) {
			return fmt.Errorf("%w: %s: %w", ErrModeNotSupported, mode, err)
		}
		return fmt.Errorf("supervise %s: %w", mode, err)
	}
	return nil
}

// superviseEvent follows the supervisors' legs (called by next for every
// media event, after observe): an answered leg is attached in its mode;
// a leg that ended ends its supervision.
func (c *call) superviseEvent(ev mediacore.Event) {
	if len(c.sup) == 0 {
		return
	}
	for _, s := range c.sup {
		if s.leg.ch != ev.Channel {
			continue
		}
		switch ev.Type {
		case mediacore.EventAnswered:
			if s.active {
				return
			}
			if err := c.snoop(s, s.mode); err != nil {
				c.log.Warn("supervisor not attached", "user_id", s.user, "err", err)
				c.endSupervision(s, "failed")
				return
			}
			ctx, cancel := c.io()
			if err := c.cc.media.SetDTMFDetection(ctx, s.leg.ch, false); err != nil {
				c.log.Debug("dtmf detection off", "channel", s.leg.ch, "err", err)
			}
			cancel()
			s.active = true
			c.publish("call.supervise_joined", "", c.supervisorAudience(), map[string]any{"by": s.user,
				"agent_id": c.agentID(), "mode": s.mode, "device": s.device})
		case mediacore.EventHangup:
			reason := "supervisor-hangup"
			if !s.active {
				reason = "not-answered"
			}
			c.endSupervision(s, reason)
		}
		return
	}
}

// endSupervision hangs up a supervisor's leg and forgets it.
func (c *call) endSupervision(s *supervision, reason string) {
	delete(c.sup, s.user)
	c.hangupLeg(s.leg, mediacore.CauseNormal)
	c.publish("call.supervise_ended", "", c.supervisorAudience(), map[string]any{"by": s.user,
		"agent_id": c.agentID(), "reason": reason})
}

// endSupervisions ends every supervision: the conversation they listen to
// is going away (its bridge is destroyed).
func (c *call) endSupervisions() {
	for _, s := range c.sup {
		c.endSupervision(s, "conversation-ended")
	}
}

// startRecordingOnDemand (on the actor): see StartRecording.
func (c *call) startRecordingOnDemand(by string) error {
	if c.agent == nil || c.agent.ended || c.bridge == "" || c.gone {
		return fmt.Errorf("%w: %q", ErrNotConnected, c.id)
	}
	if r := c.rec; r != nil && !r.done && r.kind == "call" {
		if r.paused && !r.activated {
			// An on-demand recording waits paused since the answer.
			return c.resumeRecording(by)
		}
		return nil
	}
	ctx, cancel := c.io()
	defer cancel()
	id := mediacore.RecordingID("rec-" + c.id)
	got, err := c.cc.media.Record(ctx, mediacore.ChannelTarget(c.ch), mediacore.RecordRequest{ID: id, Stereo: true,
		Name: "calls/" + c.start.UTC().Format("2006/01/02") + "/" + c.id + ".wav"})
	if err != nil {
		return fmt.Errorf("start recording: %w", err)
	}
	c.rec = &recState{id: got, kind: "call", start: c.now(), stereo: true, onDemand: true, activated: true}
	c.cdr.RecordingID = string(got)
	c.setView(func(v *LiveCall) { v.Recording = string(got) })
	c.publish("call.recording_started", c.agentID(), nil, map[string]any{"recording_id": string(got), "by": by})
	return nil
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hotline/controller/store"
	"hotline/mediacore"
)

// The recording policy (R6.1-R6.3, R6.5) is applied here, never in a
// backend. A conversation is recorded when its queue's policy says so:
// "all" always, "sample" for SamplePercent of the calls, "on-demand" from
// the first ResumeRecording (the recording starts paused at answer, and
// the paused stretch is noted like any pause), "none" (or no queue) never.
// It is always stereo: the caller's channel is recorded with Stereo, so
// the caller is on the left and everything the caller hears (the agent)
// on the right; a mono mix can be derived, the reverse cannot.

func (c *call) recID() string {
	if c.rec == nil {
		return ""
	}
	return string(c.rec.id)
}

func (c *call) wantRecording() (record, onDemand bool) {
	if c.queue == nil {
		return false, false
	}
	p := c.queue.Recording
	switch p.Mode {
	case store.RecordAll:
		return true, false
	case store.RecordSample:
		return c.cc.opt.Sample()*100 < float64(p.SamplePercent), false
	case store.RecordOnDemand:
		return true, true
	}
	return false, false
}

// startRecording starts the conversation's recording by the policy.
func (c *call) startRecording() {
	record, onDemand := c.wantRecording()
	if !record || c.gone {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	id := mediacore.RecordingID("rec-" + c.id)
	got, err := c.cc.media.Record(ctx, mediacore.ChannelTarget(c.ch), mediacore.RecordRequest{ID: id, Stereo: true,
		Name: "calls/" + c.start.UTC().Format("2006/01/02") + "/" + c.id + ".wav"})
	if err != nil {
		c.log.Error("recording not started", "err", err)
		return
	}
	c.rec = &recState{id: got, kind: "call", start: c.now(), stereo: true, onDemand: onDemand, activated: !onDemand}
	c.cdr.RecordingID = string(got)
	c.setView(func(v *LiveCall) { v.Recording = string(got) })
	if onDemand {
		c.pauseRecording("")
	}
}

func (c *call) stopRecording() {
	if c.rec == nil || c.rec.done {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.StopRecording(ctx, c.rec.id); err != nil && !errors.Is(err, mediacore.ErrNoSuchRecording) {
		c.log.Debug("stop recording", "err", err)
	}
}

// pauseRecording makes the recording write silence (noted with its time).
func (c *call) pauseRecording(by string) error {
	r := c.rec
	if r == nil || r.done || r.kind != "call" {
		return ErrNotRecording
	}
	if r.paused {
		return nil
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.PauseRecording(ctx, r.id); err != nil {
		return fmt.Errorf("pause recording: %w", err)
	}
	r.paused, r.pausedAt = true, c.now()
	r.pauses = append(r.pauses, store.RecordPause{From: r.pausedAt, By: by})
	c.setView(func(v *LiveCall) { v.RecordingPaused = true })
	c.publish("call.recording_paused", c.agentID(), nil, map[string]any{"recording_id": string(r.id), "by": by})
	return nil
}

func (c *call) resumeRecording(by string) error {
	r := c.rec
	if r == nil || r.done || r.kind != "call" {
		return ErrNotRecording
	}
	if !r.paused {
		return nil
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.ResumeRecording(ctx, r.id); err != nil {
		return fmt.Errorf("resume recording: %w", err)
	}
	r.paused, r.activated = false, true
	r.pauses[len(r.pauses)-1].To = c.now()
	c.setView(func(v *LiveCall) { v.RecordingPaused = false })
	c.publish("call.recording_resumed", c.agentID(), nil, map[string]any{"recording_id": string(r.id), "by": by})
	return nil
}

func (c *call) agentID() string {
	if c.agent == nil {
		return ""
	}
	return c.agent.agent
}

// recordingFinished copies a finished recording's audio into the
// recording store and journals its metadata. An on-demand recording that
// was never resumed holds only silence: it is dropped.
func (c *call) recordingFinished(ev mediacore.Event) {
	r := c.rec
	if r == nil || ev.Recording != r.id || r.done {
		return
	}
	r.done = true
	end := ev.Time
	if end.IsZero() {
		end = c.now()
	}
	if r.paused {
		r.pauses[len(r.pauses)-1].To = end
	}
	if r.onDemand && !r.activated {
		c.cdr.RecordingID = ""
		return
	}
	dur := ev.Duration.Seconds()
	if dur <= 0 {
		dur = end.Sub(r.start).Seconds()
	}
	meta := store.Recording{ID: string(r.id), CallID: c.id, Start: r.start, End: end, Duration: dur,
		Caller: c.in.Caller, Called: c.in.Called, AgentID: c.agentID(), Stereo: r.stereo,
		Path: ev.Path, Pauses: r.pauses, Node: c.cdr.Node}
	if meta.Pauses == nil {
		meta.Pauses = []store.RecordPause{}
	}
	if c.queue != nil {
		meta.Queue = c.queue.ID
	}
	if rs := c.cc.opt.Recordings; rs != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 2*time.Minute)
		rc, err := c.cc.media.OpenRecording(ctx, r.id)
		if err == nil {
			meta.Path, meta.Bytes, err = rs.Save(ctx, string(r.id), rc)
			rc.Close()
		}
		cancel()
		if err != nil {
			c.log.Error("recording not copied to the recording store; its metadata keeps the node's path",
				"recording_id", r.id, "err", err)
			meta.Path = ev.Path
		}
	}
	c.cc.opt.Journal.RecordingFinished(meta)
	c.cdr.RecordingID = meta.ID
	r.meta = &meta
}

// voicemail takes a message into a box (voicemail.go).
func (c *call) voicemail(box string) *store.Target { return c.leaveVoicemail(box) }

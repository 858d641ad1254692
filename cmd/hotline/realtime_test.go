package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// realtimeQueue returns the queue of a /api/v1/stats/realtime answer
// whose today's answered count is answered (nil when none).
func realtimeQueue(st map[string]any, answered float64) map[string]any {
	qs, _ := st["queues"].([]any)
	for _, x := range qs {
		q := x.(map[string]any)
		if today, _ := q["today"].(map[string]any); today != nil && today["answered"] == answered {
			return q
		}
	}
	return nil
}

// TestServeRealtimeStats follows one demo call over real SIP through the
// daemon's real-time statistics: while the agent talks, its queue shows
// the call answered today and in the window, nobody waiting and the
// agent busy; the agent shows the call; the gauges on /metrics agree.
func TestServeRealtimeStats(t *testing.T) {
	p := startProc(t, t.TempDir(), "--demo")
	out := p.stdout.String()
	i := strings.Index(out, "SIP password=")
	if i < 0 {
		t.Fatalf("the demo printed no SIP password:\n%s", out)
	}
	sipPassword := strings.Fields(out[i+len("SIP password="):])[0]
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	agentPhone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer agentPhone.Close()
	callerPhone, err := sippeer.New(sippeer.Config{User: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	defer callerPhone.Close()
	for _, ph := range []*sippeer.Phone{agentPhone, callerPhone} {
		if code, err := ph.Register(ctx, p.sip, sipPassword, 300); err != nil || code != 200 {
			t.Fatalf("register: %d %v", code, err)
		}
	}
	code, agents := p.do(t, "GET", "/api/v1/agents?limit=100", "")
	if code != 200 {
		t.Fatalf("agents: %d %v", code, agents)
	}
	var agentID string
	for _, it := range agents["items"].([]any) {
		if a := it.(map[string]any); a["extension"] == "1001" {
			agentID = a["id"].(string)
		}
	}
	if code, st := p.do(t, "PUT", "/api/v1/agents/"+agentID+"/state", `{"state":"ready"}`); code != 200 {
		t.Fatalf("agent ready: %d %v", code, st)
	}
	if code, st := p.do(t, "GET", "/api/v1/stats/realtime?window=bad", ""); code != 400 || !strings.Contains(strings.ToLower(fmt.Sprint(st)), "window") {
		t.Errorf("window=bad: %d %v", code, st)
	}

	call, err := callerPhone.Dial(ctx, "sip:800@"+p.sip)
	if err != nil {
		t.Fatal(err)
	}
	call.SetTone(600)
	// The IVR menu answers key 1 with the queue: press it until the
	// agent's phone rings (the menu may still be loading its prompt).
	var agentCall *sippeer.Call
	for agentCall == nil {
		call.SendDTMF("1")
		select {
		case agentCall = <-agentPhone.Incoming():
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			t.Fatal("the agent's phone never rang")
		}
	}
	agentCall.SetTone(1400)
	waitUntil(t, "the agent hears the caller", 15*time.Second, func() bool {
		return audio.HasTone(agentCall.Heard(time.Second), audio.SampleRate, 600)
	})

	var q, me map[string]any
	waitUntil(t, "the answered call in the real-time figures", 10*time.Second, func() bool {
		code, st := p.do(t, "GET", "/api/v1/stats/realtime?window=5m", "")
		if code != 200 {
			t.Fatalf("stats: %d %v", code, st)
		}
		if q = realtimeQueue(st, 1); q == nil {
			return false
		}
		for _, x := range st["agents"].([]any) {
			if a := x.(map[string]any); a["agent_id"] == agentID {
				me = a
			}
		}
		return me != nil && me["state"] == "busy"
	})
	agentsBy := q["agents"].(map[string]any)
	window := q["window"].(map[string]any)
	today := q["today"].(map[string]any)
	if q["waiting"] != 0.0 || agentsBy["busy"] != 1.0 || today["offered"] != 1.0 || today["abandoned"] != 0.0 ||
		window["answered"] != 1.0 || today["service_level"] != 1.0 {
		t.Errorf("queue = %v", q)
	}
	if me["calls_today"] != 1.0 || me["in_state_seconds"].(float64) < 0 {
		t.Errorf("agent = %v", me)
	}
	queueID := q["queue_id"].(string)
	waitUntil(t, "the gauges after a push", 10*time.Second, func() bool {
		return p.metric(t, `hotline_queue_answered_today{queue="`+queueID+`"}`) == "1" &&
			p.metric(t, `hotline_queue_agents{queue="`+queueID+`",state="busy"}`) == "1" &&
			p.metric(t, `hotline_queue_waiting_calls{queue="`+queueID+`"}`) == "0"
	})
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

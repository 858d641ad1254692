package controller

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediafake"
)

// The whole inbound path on the fake node: a caller dials 800, waits with
// music, the agent who went ready is offered the call with a screen pop,
// answers after two seconds of ringing, they talk (bridged, DTMF detection
// off, recorded in stereo), the caller hangs up, the CDR, the event log,
// the recording and the CTI events say exactly that, and the agent goes
// through wrap-up back to ready.
func TestCallAnsweredByAgent(t *testing.T) {
	h := newHarness(t)
	h.ready("1001")
	agent := h.agents["1001"]
	h.fake.SetAnswer("user/1001", mediafake.AnswerAfter(2*time.Second))
	start := h.clk.Now()
	caller := h.fake.Inbound("13800000001", "800")

	h.until("the agent answers", 10*time.Second, h.hasCTI("call.answered"))
	// Music on hold was looped while the caller waited.
	if !slices.ContainsFunc(h.fake.Played(), func(p mediafake.Played) bool { return p.Loop && p.Target.Channel == caller }) {
		t.Errorf("no music on hold looped to the caller: %+v", h.fake.Played())
	}
	h.waitReal("agent busy", func() bool { return h.agentState("1001") == "busy" })
	calls, err := h.cc.Calls(h.ctx, admin)
	if err != nil || len(calls) != 1 || calls[0].State != "talking" || calls[0].AgentID != agent || calls[0].Recording == "" {
		t.Fatalf("live calls = %+v, %v", calls, err)
	}
	legs := h.originates("user/1001")
	if len(legs) != 1 {
		t.Fatalf("originates to the agent: %+v", h.fake.CallsOf("originate"))
	}
	agentCh := mediacore.ChannelID(legs[0].ID)
	if h.fake.DTMFDetection(caller) || h.fake.DTMFDetection(agentCh) {
		t.Error("in-band DTMF detection is still on for a bridged leg")
	}
	// Ten seconds of talk, then the caller hangs up.
	h.clk.Set(start.Add(12 * time.Second))
	if err := h.fake.RemoteHangup(caller, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	// The agent's phone rang two seconds; the caller hung up at start+12s.
	var answer time.Time
	if cdr.Answer != nil {
		answer = *cdr.Answer
	}
	ringing := answer.Sub(cdr.Legs[1].Start)
	checks := []struct {
		name      string
		got, want any
	}{
		{"direction", cdr.Direction, "inbound"},
		{"caller", cdr.Caller, "13800000001"},
		{"called", cdr.Called, "800"},
		{"number", cdr.Number, "800"},
		{"node", cdr.Node, "fake"},
		{"outcome", cdr.Outcome, store.OutcomeAnswered},
		{"queue", cdr.Queue, h.queues["sales"]},
		{"queue name", cdr.QueueName, "sales"},
		{"agent", cdr.AgentID, agent},
		{"agent name", cdr.AgentName, "Wang Fang"},
		{"extension", cdr.Extension, "1001"},
		{"answer", cdr.Legs[1].Answer != nil && cdr.Legs[1].Answer.Equal(answer), true},
		{"ringing two seconds (one clock step of slack)", ringing >= 2*time.Second && ringing <= 2100*time.Millisecond, true},
		{"wait", cdr.EnqueuedAt != nil && cdr.WaitSeconds == answer.Sub(*cdr.EnqueuedAt).Seconds() && cdr.WaitSeconds < 2.5, true},
		{"talk", cdr.TalkSeconds, start.Add(12 * time.Second).Sub(answer).Seconds()},
		{"wrap", cdr.WrapSeconds, 5.0},
		{"side", cdr.HangupSide, store.SideCaller},
		{"cause", cdr.HangupCause, "normal"},
		{"recording", cdr.RecordingID != "", true},
		{"legs", len(cdr.Legs), 2},
		{"caller leg", cdr.Legs[0].Role + " " + cdr.Legs[0].Channel, "caller " + string(caller)},
		{"agent leg", cdr.Legs[1].Role + " " + cdr.Legs[1].AgentID + " " + cdr.Legs[1].Endpoint, "agent " + agent + " user/1001"},
		{"agent leg node", cdr.Legs[1].Node, "fake"},
		{"ivr path", len(cdr.IVRPath), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("CDR %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// The recording is stereo: the caller left, what the caller hears
	// (the agent) right, copied into the recording store.
	recs := h.j.Recordings()
	if len(recs) != 1 || recs[0].ID != cdr.RecordingID || !recs[0].Stereo || recs[0].AgentID != agent ||
		recs[0].Queue != h.queues["sales"] || recs[0].Duration < 9.5 || recs[0].Duration > 10 {
		t.Fatalf("recordings = %+v", recs)
	}
	wav := h.recs.get(recs[0].Path)
	if len(wav) == 0 || int64(len(wav)) != recs[0].Bytes {
		t.Fatalf("recording audio: %d bytes, metadata %d", len(wav), recs[0].Bytes)
	}
	checkStereo(t, wav, mediafake.DefaultReadTone, mediafake.DefaultWriteTone)

	// The agent wraps up for the queue's 5 s, then is ready again.
	h.waitReal("wrap-up", func() bool { return h.agentState("1001") == "wrap-up" })
	h.until("ready after wrap-up", 6*time.Second, func() bool { return h.agentState("1001") == "ready" })
	v, _ := h.cc.AgentState(h.ctx, admin, agent)
	if v.CallsToday != 1 || v.Device != "user/1001" {
		t.Errorf("agent view = %+v", v)
	}

	// CTI: the call's life in order, the offer carrying the screen pop,
	// and each event visible to the agent and its team.
	var types []string
	for _, e := range h.events() {
		if e.CallID == cdr.ID && e.Type[:5] == "call." {
			types = append(types, e.Type)
		}
	}
	want := []string{"call.incoming", "call.queued", "call.offered", "call.answered", "call.ended"}
	if !slices.Equal(types, want) {
		t.Errorf("call events = %v, want %v", types, want)
	}
	offer := h.ctiOf("call.offered")[0]
	p := payload(t, offer)
	cu, _ := p["customer"].(map[string]any)
	if p["caller"] != "13800000001" || p["called"] != "800" || p["queue_name"] != "sales" || cu["name"] != "Zhao Lei" {
		t.Errorf("screen pop = %v", p)
	}
	for _, e := range []cti.Event{offer, h.ctiOf("call.ended")[0]} {
		if !cti.ForPrincipal(cti.RoleAgent, agent, nil)(&e) || !cti.ForPrincipal(cti.RoleSupervisor, "", []string{"blue"})(&e) {
			t.Errorf("%s not visible to its agent and team: %+v", e.Type, e.Audience)
		}
		if cti.ForPrincipal(cti.RoleAgent, h.agents["1002"], nil)(&e) {
			t.Errorf("%s visible to another agent", e.Type)
		}
	}
	// The event log has the engine's story in order.
	var kinds []string
	for _, e := range h.j.Events() {
		if e.CallID == cdr.ID && e.Kind != "agent-state" {
			kinds = append(kinds, e.Kind)
		}
	}
	if !slices.Equal(kinds, []string{"queued", "offer", "offer-accepted", "call-ended"}) {
		t.Errorf("event log = %v", kinds)
	}
}

// checkStereo asserts left holds only the left tone and right only the
// right one (16-bit PCM, 8 kHz, as the nodes write).
func checkStereo(t *testing.T, wav []byte, left, right float64) {
	t.Helper()
	l, r, rate, ok := splitStereoRate(wav)
	if !ok {
		t.Fatalf("recording is not a 16-bit stereo WAV (%d bytes)", len(wav))
	}
	if audio.Goertzel(l, rate, left) < 10*audio.Goertzel(l, rate, right) {
		t.Errorf("left channel does not hold %v Hz alone", left)
	}
	if audio.Goertzel(r, rate, right) < 10*audio.Goertzel(r, rate, left) {
		t.Errorf("right channel does not hold %v Hz alone", right)
	}
}

// splitStereoRate returns the two channels of a 16-bit PCM stereo WAV and
// its sample rate.
func splitStereoRate(wav []byte) (l, r []int16, rate float64, ok bool) {
	if len(wav) < 12 || string(wav[:4]) != "RIFF" {
		return nil, nil, 0, false
	}
	channels := 0
	for p := 12; p+8 <= len(wav); {
		id, size := string(wav[p:p+4]), int(binary.LittleEndian.Uint32(wav[p+4:p+8]))
		body := wav[p+8:]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = float64(binary.LittleEndian.Uint32(body[4:8]))
		case "data":
			if channels != 2 {
				return nil, nil, 0, false
			}
			if size > len(body) {
				size = len(body)
			}
			for i := 0; i+4 <= size; i += 4 {
				l = append(l, int16(binary.LittleEndian.Uint16(body[i:])))
				r = append(r, int16(binary.LittleEndian.Uint16(body[i+2:])))
			}
			return l, r, rate, len(l) > 0
		}
		p += 8 + size + size&1
	}
	return nil, nil, 0, false
}

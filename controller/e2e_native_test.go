package controller

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/acd"
	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/sipdigest"
	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native"
	"hotline/mediacore/native/registrar"
)

const e2ePassword = "agent-secret"

// nativeCenter is the call path over the native core on loopback, with
// real time.
type nativeCenter struct {
	t     *testing.T
	b     *native.Backend
	core  *mediacore.Core
	st    *memstore.Store
	ctl   *Controller
	cc    *CallCenter
	j     *memJournal
	recs  *memRecStore
	agent string
}

func newNativeCenter(t *testing.T, mutate func(*native.Config), opts ...harnessOpt) *nativeCenter {
	t.Helper()
	ctx := t.Context()
	st := memstore.New(nil)
	cfg := native.Config{Listen: "127.0.0.1:0", MediaDir: t.TempDir(), AllowUnknownSources: true,
		Credentials: AgentCredentials{Agents: st.Agents()}, SetupTimeout: 20 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := native.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ccp atomic.Pointer[CallCenter]
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleMedia(ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ctl, err := New(ctx, Options{Store: st, Media: core, OnACDEvents: func(evs []acd.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleACD(evs)
		}
	}, ACDOptions: []acd.Option{acd.WithRand(rand.New(rand.NewPCG(1, 2)))}})
	if err != nil {
		t.Fatal(err)
	}
	n := &nativeCenter{t: t, b: b, core: core, st: st, ctl: ctl, j: &memJournal{}, recs: &memRecStore{}}
	o := CallCenterOptions{Controller: ctl, Media: core, Journal: n.j, Recordings: n.recs,
		BuiltinFlows: map[string]*ivr.Flow{"demo-800": ivr.DemoFlow()}}
	for _, f := range opts {
		f(&o)
	}
	cc, err := NewCallCenter(o)
	if err != nil {
		t.Fatal(err)
	}
	ccp.Store(cc)
	n.cc = cc
	t.Cleanup(func() {
		cc.Close()
		_ = ctl.Close()
		_ = core.Close()
	})
	ag := store.Agent{Name: "Wang Fang", Extension: "1001", Team: "blue",
		SIPHA1MD5:    sipdigest.HA1(sipdigest.MD5, "1001", registrar.DefaultRealm, e2ePassword),
		SIPHA1SHA256: sipdigest.HA1(sipdigest.SHA256, "1001", registrar.DefaultRealm, e2ePassword)}
	if err := ctl.Agents().Create(ctx, &ag); err != nil {
		t.Fatal(err)
	}
	n.agent = ag.ID
	q := store.Queue{Name: "sales", Strategy: store.StrategyLongestIdle, RingTimeout: 15, WrapUp: 1,
		JoinWhenNoAgents: true, Recording: store.RecordingPolicy{Mode: store.RecordAll, Stereo: true},
		Members: []store.QueueMember{{AgentID: ag.ID}}}
	if err := ctl.Queues().Create(ctx, &q); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Numbers().Create(ctx, &store.Number{Number: "800",
		Route: store.Target{Kind: store.TargetIVR, Value: "demo-800"}}); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *nativeCenter) uri(user string) string { return "sip:" + user + "@" + n.b.Addr().String() }

func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The full path over real SIP and RTP on loopback: a caller dials 800,
// hears the menu, presses 1 (RFC 4733), hears music while queued; the
// agent goes ready, its registered phone (or fixed sip: device) rings and
// answers; the caller's tone is on the stereo recording's left channel
// and the agent's on the right, each absent from the other; the caller
// hangs up; the CDR says exactly that; the agent passes wrap-up back to
// ready.
func TestNativeFullPath(t *testing.T) {
	for _, tc := range []struct {
		name   string
		device func(n *nativeCenter, phone *sippeer.Phone) string // nil registers the phone as 1001
	}{
		{"registered extension", nil},
		{"fixed sip device", func(_ *nativeCenter, p *sippeer.Phone) string { return "sip:1001@" + p.Addr() }},
		{"tel device through a trunk", func(n *nativeCenter, p *sippeer.Phone) string {
			// The phone plays the carrier: the stored trunk points at it.
			host, port, _ := strings.Cut(p.Addr(), ":")
			pn, _ := strconv.Atoi(port)
			tr := store.Trunk{Name: "carrier", Host: host, Port: pn, Transport: store.TransportUDP, Enabled: true}
			if err := n.ctl.Trunks().Create(n.t.Context(), &tr); err != nil {
				n.t.Fatal(err)
			}
			return "tel/+8613900000000"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nativeFullPath(t, tc.device)
		})
	}
}

func nativeFullPath(t *testing.T, device func(*nativeCenter, *sippeer.Phone) string) {
	n := newNativeCenter(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	phone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	req := AgentStateRequest{State: "ready"}
	if device == nil {
		if code, err := phone.Register(ctx, n.b.Addr().String(), e2ePassword, 300); err != nil || code != 200 {
			t.Fatalf("register: %d, %v", code, err)
		}
	} else {
		req.Device = device(n, phone)
	}
	callerPhone, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	defer callerPhone.Close()
	const callerTone, agentTone = 600.0, 1400.0
	call, err := callerPhone.Dial(ctx, n.uri("800"))
	if err != nil {
		t.Fatal(err)
	}
	call.SetTone(callerTone)
	// 1 is pressed at once, over the menu (barge-in; a key pressed before
	// the menu collects waits in the call's mailbox).
	call.SendDTMF("1")
	eventually(t, "queued", 10*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		return len(calls) == 1 && calls[0].State == "queued"
	})
	// Music on hold: the chime's notes reach the caller.
	eventually(t, "music on hold heard", 10*time.Second, func() bool {
		heard := call.Heard(2 * time.Second)
		return audio.HasTone(heard, audio.SampleRate, holdTone.Freqs[0]) && audio.HasTone(heard, audio.SampleRate, holdTone.Freqs[1])
	})
	if _, err := n.cc.SetAgentState(ctx, admin, n.agent, req); err != nil {
		t.Fatal(err)
	}
	var agentCall *sippeer.Call
	select {
	case agentCall = <-phone.Incoming():
	case <-ctx.Done():
		t.Fatal("the agent's phone never rang")
	}
	if from := agentCall.HeaderValue("From"); !strings.Contains(from, "13800000001") {
		t.Errorf("agent's caller id = %q", from)
	}
	agentCall.SetTone(agentTone)
	eventually(t, "talking", 10*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		return len(calls) == 1 && calls[0].State == "talking"
	})
	// Each hears the other.
	eventually(t, "caller hears the agent", 10*time.Second, func() bool {
		return audio.HasTone(call.Heard(time.Second), audio.SampleRate, agentTone)
	})
	eventually(t, "the agent hears the caller", 10*time.Second, func() bool {
		return audio.HasTone(agentCall.Heard(time.Second), audio.SampleRate, callerTone)
	})
	// A second of both tones for the recording.
	time.Sleep(time.Second)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
	cdr := n.j.CDRs()[0]
	var path []string
	for _, s := range cdr.IVRPath {
		path = append(path, s.Node)
	}
	if cdr.Outcome != store.OutcomeAnswered || cdr.HangupSide != store.SideCaller || cdr.AgentID != n.agent ||
		cdr.QueueName != "sales" || !slices.Equal(path, []string{"welcome", "sales"}) || cdr.Caller != "13800000001" ||
		cdr.Called != "800" || cdr.TalkSeconds < 1 || cdr.RecordingID == "" || len(cdr.Legs) != 2 || cdr.Legs[1].Node == "" {
		t.Errorf("CDR = %+v", cdr)
	}
	recs := n.j.Recordings()
	if len(recs) != 1 || !recs[0].Stereo {
		t.Fatalf("recordings = %+v", recs)
	}
	l, r, rate, ok := splitStereoRate(n.recs.get(recs[0].Path))
	if !ok {
		t.Fatal("the recording is not stereo")
	}
	// Skip the start (the tones begin a little after the bridge).
	l, r = l[len(l)/4:], r[len(r)/4:]
	if !audio.HasTone(l, rate, callerTone) || audio.HasTone(l, rate, agentTone) {
		t.Errorf("left channel: caller tone %v, agent tone %v", audio.HasTone(l, rate, callerTone), audio.HasTone(l, rate, agentTone))
	}
	if !audio.HasTone(r, rate, agentTone) || audio.HasTone(r, rate, callerTone) {
		t.Errorf("right channel: agent tone %v, caller tone %v", audio.HasTone(r, rate, agentTone), audio.HasTone(r, rate, callerTone))
	}
	select {
	case <-agentCall.Done():
	case <-ctx.Done():
		t.Fatal("the agent's call was not ended")
	}
	eventually(t, "wrap-up then ready", 10*time.Second, func() bool {
		v, _ := n.cc.AgentState(ctx, admin, n.agent)
		return v.State == "ready" && v.CallsToday == 1
	})
	if !slices.ContainsFunc(n.j.Events(), func(e store.QueueEvent) bool { return e.Kind == "agent-state" && e.State == "wrap-up" }) {
		t.Error("no wrap-up in the event log")
	}
}

// The agent sits at a tel/ device: its leg goes out through a stored trunk
// to a SIPp "carrier" that answers with a 400 Hz tone (the load test's
// answerer scenario); the caller hears it, and the stereo recording holds
// the caller left and the carrier's tone right.
func TestNativeTelDeviceThroughSIPpCarrier(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		testenv.Unavailable(t, "sipp is not installed")
	}
	n := newNativeCenter(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	tone := make([]byte, 8000*10)
	for i := range tone {
		tone[i] = audio.LinearToUlaw(int16(0.3 * 32767 * math.Sin(2*math.Pi*400*float64(i)/8000)))
	}
	if err := os.WriteFile(filepath.Join(dir, "callee.ulaw"), tone, 0o600); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreeUDPPort(t)
	mport := testenv.FreeUDPPort(t)
	scenario, err := filepath.Abs("../deploy/loadtest/uas.xml")
	if err != nil {
		t.Fatal(err)
	}
	carrier := exec.CommandContext(ctx, sipp, "-sf", scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport), "-m", "1", "-nostdin")
	carrier.Dir = dir
	var out strings.Builder
	carrier.Stdout, carrier.Stderr = &out, &out
	if err := carrier.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = carrier.Process.Kill()
		_ = carrier.Wait()
	}()
	tr := store.Trunk{Name: "carrier", Host: "127.0.0.1", Port: port, Transport: store.TransportUDP, Enabled: true}
	if err := n.ctl.Trunks().Create(ctx, &tr); err != nil {
		t.Fatal(err)
	}
	if _, err := n.cc.SetAgentState(ctx, admin, n.agent, AgentStateRequest{State: "ready", Device: "tel/+8613900000000"}); err != nil {
		t.Fatal(err)
	}
	callerPhone, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	defer callerPhone.Close()
	call, err := callerPhone.Dial(ctx, n.uri("800"))
	if err != nil {
		t.Fatal(err)
	}
	call.SetTone(600)
	call.SendDTMF("1")
	deadline := time.Now().Add(20 * time.Second)
	for !audio.HasTone(call.Heard(time.Second), audio.SampleRate, 400) {
		if time.Now().After(deadline) {
			calls, _ := n.cc.Calls(ctx, admin)
			t.Fatalf("the caller never heard the carrier's tone; calls %+v\nsipp:\n%s", calls, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second of both tones for the recording
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
	cdr := n.j.CDRs()[0]
	if cdr.Outcome != store.OutcomeAnswered || len(cdr.Legs) != 2 || cdr.Legs[1].Endpoint != "tel/+8613900000000" {
		t.Fatalf("CDR = %+v\nsipp: %s", cdr, out.String())
	}
	recs := n.j.Recordings()
	if len(recs) != 1 {
		t.Fatalf("recordings = %+v", recs)
	}
	l, r, rate, ok := splitStereoRate(n.recs.get(recs[0].Path))
	if !ok {
		t.Fatal("the recording is not stereo")
	}
	l, r = l[len(l)/4:], r[len(r)/4:]
	if !audio.HasTone(l, rate, 600) || audio.HasTone(l, rate, 400) || !audio.HasTone(r, rate, 400) || audio.HasTone(r, rate, 600) {
		t.Errorf("channels: left 600 %v / 400 %v, right 400 %v / 600 %v", audio.HasTone(l, rate, 600),
			audio.HasTone(l, rate, 400), audio.HasTone(r, rate, 400), audio.HasTone(r, rate, 600))
	}
}

// An agent with auto_answer gets offers that ask its phone to answer by
// itself (Answer-Mode: Auto, RFC 5373, and Call-Info answer-after=0). The
// phone here honours only that: without the headers it refuses, the call
// never reaches talking and the test fails.
func TestNativeAutoAnswer(t *testing.T) {
	n := newNativeCenter(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	a, err := n.ctl.Agents().Get(ctx, n.agent)
	if err != nil {
		t.Fatal(err)
	}
	a.AutoAnswer = true
	if err := n.ctl.Agents().Update(ctx, &a); err != nil {
		t.Fatal(err)
	}
	asked := make(chan string, 4)
	phone, err := sippeer.New(sippeer.Config{User: "1001", Answer: func(req *sip.Request) int {
		mode, info := "", ""
		if h := req.GetHeader("Answer-Mode"); h != nil {
			mode = h.Value()
		}
		if h := req.GetHeader("Call-Info"); h != nil {
			info = h.Value()
		}
		asked <- mode + " | " + info
		if mode == "Auto" && strings.Contains(info, "answer-after=0") {
			return 200
		}
		return 486
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	if code, err := phone.Register(ctx, n.b.Addr().String(), e2ePassword, 300); err != nil || code != 200 {
		t.Fatalf("register: %d, %v", code, err)
	}
	callerPhone, err := sippeer.New(sippeer.Config{User: "13800000002"})
	if err != nil {
		t.Fatal(err)
	}
	defer callerPhone.Close()
	call, err := callerPhone.Dial(ctx, n.uri("800"))
	if err != nil {
		t.Fatal(err)
	}
	call.SendDTMF("1")
	if _, err := n.cc.SetAgentState(ctx, admin, n.agent, AgentStateRequest{State: "ready"}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-asked:
		if !strings.HasPrefix(got, "Auto | <sip:") || !strings.HasSuffix(got, ">;answer-after=0") {
			t.Errorf("offer headers %q", got)
		}
	case <-ctx.Done():
		t.Fatal("the agent's phone was never offered the call")
	}
	eventually(t, "talking", 10*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		return len(calls) == 1 && calls[0].State == "talking"
	})
	_ = call.Hangup(ctx)
}

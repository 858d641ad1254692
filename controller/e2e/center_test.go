package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/acd"
	"hotline/adapters/asterisk"
	"hotline/adapters/freeswitch"
	"hotline/controller"
	"hotline/controller/cti"
	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/sipdigest"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native"
	"hotline/mediacore/native/registrar"
)

var admin = controller.Actor{UserID: "u-admin", Role: store.RoleAdmin}

func netListenUDP(port int) (net.PacketConn, error) {
	return net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
}

// testLogger discards, or writes debug logs to stderr with
// HOTLINE_TEST_LOG set.
func testLogger(component string) *slog.Logger {
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", component)
	}
	return slog.New(slog.DiscardHandler)
}

// journal is the in-test Journal: it keeps what it is given.
type journal struct {
	mu   sync.Mutex
	cdrs []store.CDR
	evs  []store.QueueEvent
	recs []store.Recording
}

func (j *journal) CallEnded(c store.CDR) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cdrs = append(j.cdrs, c)
}

func (j *journal) QueueEvents(evs ...store.QueueEvent) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.evs = append(j.evs, evs...)
}

func (j *journal) RecordingFinished(r store.Recording) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, r)
}

func (j *journal) CDRs() []store.CDR {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.cdrs)
}

func (j *journal) Events() []store.QueueEvent {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.evs)
}

func (j *journal) Recordings() []store.Recording {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.recs)
}

// recStore is the in-test RecordingStore.
type recStore struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *recStore) Save(_ context.Context, id string, r io.Reader) (string, int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	p := "rec/" + id + ".wav"
	m.files[p] = b
	return p, int64(len(b)), nil
}

func (m *recStore) Open(string) (controller.ReadSeekCloser, error) { return nil, store.ErrNotFound }

func (m *recStore) get(p string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[p]
}

// node is one media node of a center and where its phones go.
type node struct {
	name string // the Core's node name
	kind string // native, freeswitch, asterisk
	// sip is the node's SIP address: callers dial numbers there and agent
	// phones register there (password agentPassword).
	sip string
}

// center is one Hotline (Core over the nodes, controller, call center)
// with in-memory store, journal and recordings, and the CTI stream kept.
type center struct {
	t     *testing.T
	core  *mediacore.Core
	st    *memstore.Store
	ctl   *controller.Controller
	cc    *controller.CallCenter
	j     *journal
	recs  *recStore
	nodes map[string]node // by kind

	mu    sync.Mutex
	cti   []cti.Event
	media []mediacore.Event // endpoint events, as the call center got them

	agents map[string]string // extension -> id
}

// newCenter builds a center over one node of each kind given ("native",
// "freeswitch", "asterisk"; a real switch is started on first use, or the
// test skips), with the agents' extensions created (SIP password
// agentPassword on every node). The call path is the production one:
// nothing here knows which node a call is on.
func newCenter(t *testing.T, kinds []string, extensions ...string) *center {
	t.Helper()
	ctx := t.Context()
	st := memstore.New(nil)
	c := &center{t: t, st: st, j: &journal{}, recs: &recStore{}, nodes: map[string]node{}, agents: map[string]string{}}
	var nodes []mediacore.Node
	var nativeB *native.Backend
	for _, kind := range kinds {
		var b mediacore.Backend
		var n node
		switch kind {
		case "native":
			nb, err := native.New(native.Config{Listen: "127.0.0.1:0", MediaDir: t.TempDir(), AllowUnknownSources: true,
				Credentials: controller.AgentCredentials{Agents: st.Agents()}, SetupTimeout: 20 * time.Second,
				Logger: testLogger("native")})
			if err != nil {
				t.Fatal(err)
			}
			// Its SIP address is known once started.
			b, n, nativeB = nb, node{name: "native", kind: kind}, nb
		case "freeswitch":
			in := startSwitch(t, kind)
			fb, err := freeswitch.New(in.freeswitchConfig())
			if err != nil {
				t.Fatal(err)
			}
			b, n = fb, node{name: "fs", kind: kind, sip: in.sip}
		case "asterisk":
			in := startSwitch(t, kind)
			ab, err := asterisk.New(in.asteriskConfig(), "ast", testLogger("asterisk"))
			if err != nil {
				t.Fatal(err)
			}
			b, n = ab, node{name: "ast", kind: kind, sip: in.sip}
		default:
			t.Fatalf("unknown node kind %q", kind)
		}
		c.nodes[kind] = n
		nodes = append(nodes, mediacore.Node{Name: n.name, Backend: b})
	}
	var ccp atomic.Pointer[controller.CallCenter]
	// The daemon's TTS fallback (cmd/hotline): espeak-ng prompts uploaded to
	// the nodes that cannot speak.
	tts := native.CoreTTS{TTS: native.NewEspeak(t.TempDir(), testLogger("tts"))}
	core, err := mediacore.NewNodes(nodes, mediacore.Options{Logger: testLogger("core"), TTS: tts, Handler: func(ev mediacore.Event) {
		if ev.Type == mediacore.EventEndpointRegistered || ev.Type == mediacore.EventEndpointUnregistered {
			c.mu.Lock()
			c.media = append(c.media, ev)
			c.mu.Unlock()
		}
		if cc := ccp.Load(); cc != nil {
			cc.HandleMedia(ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		_ = core.Close()
		t.Fatal(err)
	}
	c.core = core
	if nativeB != nil {
		n := c.nodes["native"]
		n.sip = nativeB.Addr().String()
		c.nodes["native"] = n
	}
	ctl, err := controller.New(ctx, controller.Options{Store: st, Media: core, Logger: testLogger("controller"),
		OnACDEvents: func(evs []acd.Event) {
			if cc := ccp.Load(); cc != nil {
				cc.HandleACD(evs)
			}
		}, ACDOptions: []acd.Option{acd.WithRand(rand.New(rand.NewPCG(1, 2)))}})
	if err != nil {
		_ = core.Close()
		t.Fatal(err)
	}
	c.ctl = ctl
	cc, err := controller.NewCallCenter(controller.CallCenterOptions{Controller: ctl, Media: core, Journal: c.j,
		Recordings: c.recs, Logger: testLogger("callcenter"), BuiltinFlows: map[string]*ivr.Flow{"demo-800": ivr.DemoFlow()}})
	if err != nil {
		_ = ctl.Close()
		_ = core.Close()
		t.Fatal(err)
	}
	ccp.Store(cc)
	c.cc = cc
	sub, err := cc.Events().Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := sub.Next(context.Background())
			if err != nil {
				return
			}
			c.mu.Lock()
			c.cti = append(c.cti, ev)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cc.Close()
		_ = ctl.Close()
		_ = core.Close()
		sub.Close()
		<-done
	})
	for _, ext := range extensions {
		ag := store.Agent{Name: "Agent " + ext, Extension: ext, Team: "blue",
			SIPHA1MD5:    sipdigest.HA1(sipdigest.MD5, ext, registrar.DefaultRealm, agentPassword),
			SIPHA1SHA256: sipdigest.HA1(sipdigest.SHA256, ext, registrar.DefaultRealm, agentPassword)}
		if err := ctl.Agents().Create(ctx, &ag); err != nil {
			t.Fatal(err)
		}
		c.agents[ext] = ag.ID
	}
	return c
}

// queue creates a queue "sales" of the agents (longest idle, stereo
// recording of every call) and returns its id.
func (c *center) queue(exts ...string) string {
	c.t.Helper()
	q := store.Queue{Name: "sales", Strategy: store.StrategyLongestIdle, RingTimeout: 15, WrapUp: 1,
		JoinWhenNoAgents: true, Recording: store.RecordingPolicy{Mode: store.RecordAll, Stereo: true}}
	for _, e := range exts {
		q.Members = append(q.Members, store.QueueMember{AgentID: c.agents[e]})
	}
	if err := c.ctl.Queues().Create(c.t.Context(), &q); err != nil {
		c.t.Fatal(err)
	}
	return q.ID
}

func (c *center) number(num string, route store.Target) {
	c.t.Helper()
	if err := c.ctl.Numbers().Create(c.t.Context(), &store.Number{Number: num, Route: route}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *center) events() []cti.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.cti)
}

// register registers phone (user ext, password agentPassword) at the
// node and unregisters it when the test ends: the switches outlive a test,
// and a later test's phone must not inherit a stale contact.
func (c *center) register(ctx context.Context, phone *sippeer.Phone, n node) {
	c.t.Helper()
	if code, err := phone.Register(ctx, n.sip, agentPassword, 300); err != nil || code != 200 {
		c.t.Fatalf("register at %s (%s): %d, %v", n.name, n.sip, code, err)
	}
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = phone.Register(ctx, n.sip, agentPassword, 0)
	})
}

// registered waits until node reports user registered.
func (c *center) registered(node, user string) {
	c.t.Helper()
	eventually(c.t, user+" registered on "+node, 15*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return slices.ContainsFunc(c.media, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventEndpointRegistered && ev.Node == node && ev.Endpoint == "user/"+user
		})
	})
}

func payload(t *testing.T, ev cti.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

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

// splitStereo returns the two channels of a 16-bit stereo WAV file and
// its sample rate; ok is false for anything else.
func splitStereo(wav []byte) (l, r []int16, rate float64, ok bool) {
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
			size = min(size, len(body))
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

// musicStopped fails when call still hears the hold chime (the last
// second of what it heard).
func musicStopped(t *testing.T, what string, call *sippeer.Call) {
	t.Helper()
	heard := call.Heard(time.Second)
	if audio.HasTone(heard, audio.SampleRate, holdChime[0]) || audio.HasTone(heard, audio.SampleRate, holdChime[1]) {
		t.Errorf("%s still hears the music on hold (ratios %.2f/%.2f)", what,
			audio.ToneRatio(heard, audio.SampleRate, holdChime[0]), audio.ToneRatio(heard, audio.SampleRate, holdChime[1]))
	}
}

// hears waits until call hears freq (the last second of audio), or fails
// saying what it heard instead: its level and the share of freq and of the
// hold chime.
func hears(t *testing.T, what string, d time.Duration, call *sippeer.Call, freq float64) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		heard := call.Heard(time.Second)
		if audio.HasTone(heard, audio.SampleRate, freq) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v Hz not heard within %v; heard %.1f dBm0, %v Hz ratio %.2f, hold chime ratios %.2f/%.2f", what, freq, d,
				audio.LevelDBm0(heard), freq, audio.ToneRatio(heard, audio.SampleRate, freq),
				audio.ToneRatio(heard, audio.SampleRate, holdChime[0]), audio.ToneRatio(heard, audio.SampleRate, holdChime[1]))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

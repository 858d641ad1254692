package mediatest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// RealPeers names the real SIP peers the suite drives besides the Go
// sippeer phone, and how they log in.
type RealPeers struct {
	// SIPp and Baresip are the paths of the binaries; a scenario whose
	// tool is empty is skipped.
	SIPp, Baresip string
	// Password is the SIP password of users that RegisterUser accepts
	// (the scenarios register user "1001" from a real phone).
	Password string
}

// RunRealPeers runs the inbound, originate-and-bridge, recording and hold
// scenarios with SIPp or baresip on one side of the call, and registers an
// unknown user from both, expecting the refusal. The backend must accept
// MD5 digest (baresip 1.0 and SIPp 3.6 compute nothing else).
func RunRealPeers(t *testing.T, h Harness, peers RealPeers) {
	scenarios := []struct {
		name string
		tool string
		fn   func(*testing.T, *env, RealPeers)
	}{
		{"SIPpCallerBridgedAndRecorded", peers.SIPp, scenarioSIPpCaller},
		{"SIPpAnswersOriginate", peers.SIPp, scenarioSIPpCallee},
		{"SIPpUnknownUserRefused", peers.SIPp, scenarioSIPpUnknownUser},
		{"BaresipAgentBridgedAndHeld", peers.Baresip, scenarioBaresipAgent},
		{"BaresipUnknownUserRefused", peers.Baresip, scenarioBaresipUnknownUser},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			if s.tool == "" {
				t.Skip("tool not available")
			}
			e := newEnv(t, h)
			s.fn(t, e, peers)
			e.checkOrder(t)
		})
	}
}

// sipAddr is the backend's SIP host:port, from the harness's inbound URI.
func (e *env) sipAddr(t *testing.T) string {
	t.Helper()
	uri := e.h.InboundURI(e.b, "x")
	_, hostport, ok := strings.Cut(uri, "@")
	if !ok {
		t.Fatalf("inbound URI %q has no host", uri)
	}
	hostport, _, _ = strings.Cut(hostport, ";")
	return hostport
}

// freePort returns a UDP port free on 127.0.0.1 right now (even, for RTP).
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if p%2 == 0 && p < 65000 {
			return p
		}
	}
	t.Fatal("no free even UDP port")
	return 0
}

// writeUlawTone writes d of a sine at freq as raw u-law, the format of
// SIPp's rtp_stream.
func writeUlawTone(t *testing.T, path string, freq float64, d time.Duration) {
	t.Helper()
	n := int(d.Seconds() * audio.SampleRate)
	b := make([]byte, n)
	for i := range b {
		b[i] = audio.LinearToUlaw(int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/audio.SampleRate)))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeToneWAV writes d of a sine at freq as an 8 kHz mono 16-bit WAV.
func writeToneWAV(t *testing.T, path string, freq float64, d time.Duration) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.NewWAVWriter(f, 1, audio.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, int(d.Seconds()*audio.SampleRate))
	for i := range buf {
		buf[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/audio.SampleRate))
	}
	if err := w.WriteFrame(buf); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// sipp is one SIPp process running a scenario in the background.
type sipp struct {
	cmd  *exec.Cmd
	dir  string
	out  bytes.Buffer
	done chan error
	port int
}

// startSIPp runs scenario (the XML text) in a fresh directory holding the
// given files, with args after the common ones.
func startSIPp(t *testing.T, bin, scenario string, files map[string]func(path string), args ...string) *sipp {
	t.Helper()
	s := &sipp{dir: t.TempDir(), done: make(chan error, 1), port: freePort(t)}
	if err := os.WriteFile(filepath.Join(s.dir, "scenario.xml"), []byte(scenario), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, write := range files {
		write(filepath.Join(s.dir, name))
	}
	all := append([]string{"-sf", "scenario.xml", "-m", "1", "-i", "127.0.0.1",
		"-p", strconv.Itoa(s.port), "-mp", strconv.Itoa(freePort(t)),
		"-nostdin", "-timeout", "30s", "-timeout_error"}, args...)
	s.cmd = exec.Command(bin, all...)
	s.cmd.Dir = s.dir // SIPp reads rtp_stream files and writes logs here
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// wait requires SIPp to finish its scenario successfully.
func (s *sipp) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		if err != nil {
			t.Errorf("sipp scenario failed: %v\n%s", err, lastLines(s.out.String(), 25))
		}
	case <-time.After(40 * time.Second):
		t.Errorf("sipp still running\n%s", lastLines(s.out.String(), 25))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// sippCaller dials [service], streams caller.ulaw from the ACK, and waits
// for the core's BYE.
const sippCaller = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="mediatest caller">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=ptime:20

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "sipp" <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop>
    <action>
      <exec rtp_stream="caller.ulaw,-1,0"/>
    </action>
  </nop>
  <recv request="BYE"/>
  <nop>
    <action>
      <exec rtp_stream="pause"/>
    </action>
  </nop>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`

// sippCallee answers one INVITE, streams callee.ulaw from the ACK, and
// answers the core's BYE.
const sippCallee = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="mediatest callee">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=ptime:20
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK" rtd="true" crlf="true">
    <action>
      <exec rtp_stream="callee.ulaw,-1,0"/>
    </action>
  </recv>
  <recv request="BYE"/>
  <nop>
    <action>
      <exec rtp_stream="pause"/>
    </action>
  </nop>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="500"/>
</scenario>
`

// sippRegisterRefused registers with digest ([authentication], -au/-ap) and
// requires the refusal: 401, then 401 or 403 again.
const sippRegisterRefused = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="mediatest unknown user">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]>;tag=[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 600
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]>;tag=[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      [authentication]
      Max-Forwards: 70
      Expires: 600
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" optional="true" next="refused"/>
  <recv response="403" next="refused"/>
  <label id="refused"/>
</scenario>
`

// bridge puts the channels in a new speaking bridge.
func (e *env) bridge(t *testing.T, id mediacore.BridgeID, chans ...mediacore.ChannelID) {
	t.Helper()
	if err := e.core.CreateBridge(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		if err := e.core.AddToBridge(e.ctx, id, ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			t.Fatalf("add %s: %v", ch, err)
		}
	}
}

// recordStereo records ch for about d and returns the middle half of
// each channel.
func (e *env) recordStereo(t *testing.T, ch mediacore.ChannelID, d time.Duration) (left, right []int16) {
	t.Helper()
	rec, err := e.core.Record(e.ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Stereo: true})
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	time.Sleep(d) // the length of the recording, not a settle
	if err := e.core.StopRecording(e.ctx, rec); err != nil {
		t.Fatal(err)
	}
	e.wait(t, "RecordingFinished", 5*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventRecordingFinished && ev.Recording == rec
	})
	l, r, err := decodeStereoWAV(e.recordingAudio(t, rec))
	if err != nil {
		t.Fatal(err)
	}
	return l[len(l)/4 : len(l)*3/4], r[len(r)/4 : len(r)*3/4]
}

// stereoHolds records ch in stereo for 1.5 s and checks that the left
// channel holds exactly leftTone (leftWho's) and the right exactly
// rightTone, each without the other party.
func (e *env) stereoHolds(t *testing.T, ch mediacore.ChannelID, leftWho string, leftTone float64, rightWho string, rightTone float64) {
	t.Helper()
	left, right := e.recordStereo(t, ch, 1500*time.Millisecond)
	if err := toneMix(left, leftTone); err != nil {
		t.Errorf("recording left (%s): %v", leftWho, err)
	}
	if err := toneMix(right, rightTone); err != nil {
		t.Errorf("recording right (%s): %v", rightWho, err)
	}
}

// scenarioSIPpCaller: SIPp calls in and streams 1 kHz; the core answers,
// originates to a registered agent phone (400 Hz) and bridges them. The
// agent hears only SIPp; a stereo recording of SIPp's leg holds SIPp on
// the left and the agent on the right, nothing else; the core's hangup
// reaches SIPp as a BYE (its scenario fails otherwise).
func scenarioSIPpCaller(t *testing.T, e *env, peers RealPeers) {
	s := startSIPp(t, peers.SIPp, sippCaller,
		map[string]func(string){"caller.ulaw": func(p string) { writeUlawTone(t, p, toneCaller, 2*time.Second) }},
		"-s", "600", e.sipAddr(t))
	created := e.wait(t, "ChannelCreated from SIPp", 15*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound && ev.Called == "600"
	})
	a := created.Channel
	if err := e.core.Ring(e.ctx, a); err != nil {
		t.Fatalf("ring: %v", err)
	}
	if err := e.core.Answer(e.ctx, a); err != nil {
		t.Fatalf("answer: %v", err)
	}
	agent, b := e.outbound(t, e.phone(t, "1001", sippeer.Config{}), "1001")
	agent.SetTone(toneAgent)
	e.bridge(t, "br-sipp", a, b)
	hearsOnly(t, "agent (from SIPp)", agent, toneCaller)
	e.stereoHolds(t, a, "SIPp", toneCaller, "agent", toneAgent)
	if err := e.core.Hangup(e.ctx, a, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	e.waitType(t, a, mediacore.EventHangup)
	s.wait(t)
}

// scenarioSIPpCallee: a caller phone (1 kHz) calls in; the core originates
// to SIPp by SIP URI, which answers and streams 400 Hz, and bridges them.
// The caller hears only SIPp; the hangup reaches SIPp as a BYE.
func scenarioSIPpCallee(t *testing.T, e *env, peers RealPeers) {
	s := startSIPp(t, peers.SIPp, sippCallee,
		map[string]func(string){"callee.ulaw": func(p string) { writeUlawTone(t, p, toneAgent, 2*time.Second) }})
	caller, a := e.inbound(t, e.phone(t, "2600", sippeer.Config{}), "601")
	caller.SetTone(toneCaller)
	b, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{
		Endpoint: fmt.Sprintf("sip:callee@127.0.0.1:%d", s.port), CallerIDNumber: "2600", Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("originate to SIPp: %v", err)
	}
	e.waitType(t, b, mediacore.EventAnswered)
	e.bridge(t, "br-sipp", a, b)
	hearsOnly(t, "caller (from SIPp)", caller, toneAgent)
	e.stereoHolds(t, b, "SIPp", toneAgent, "caller", toneCaller)
	if err := e.core.Hangup(e.ctx, b, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	e.waitType(t, b, mediacore.EventHangup)
	s.wait(t)
}

// scenarioSIPpUnknownUser: SIPp registers a user the backend does not
// know, with digest, and must be refused (its scenario fails on a 200, a
// timeout or any other answer); no registration event appears.
func scenarioSIPpUnknownUser(t *testing.T, e *env, peers RealPeers) {
	s := startSIPp(t, peers.SIPp, sippRegisterRefused, nil,
		"-s", "nobody", "-au", "nobody", "-ap", "guess", e.sipAddr(t))
	s.wait(t)
	e.noRegistration(t, "user/nobody")
}

func (e *env) noRegistration(t *testing.T, endpoint string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		if ev.Type == mediacore.EventEndpointRegistered && ev.Endpoint == endpoint {
			t.Errorf("%s registered", endpoint)
		}
	}
}

// baresip is one baresip process with its own configuration directory.
type baresip struct {
	cmd  *exec.Cmd
	dir  string
	mu   sync.Mutex // guards out
	out  bytes.Buffer
	done chan struct{}
}

func (b *baresip) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *baresip) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// startBaresip runs baresip registering as user with password, answering
// calls automatically and sending the WAV file source as its microphone.
// The SIP port is picked free just before baresip binds it, so another
// process on a busy machine can take it first: baresip then exits at once
// with "Address already in use", and it is started again on another port.
func startBaresip(t *testing.T, bin, registrar, user, password, source string) *baresip {
	t.Helper()
	var b *baresip
	testenv.RetryPortInUse(t, func(port int) (<-chan struct{}, func() string) {
		b = launchBaresip(t, bin, registrar, user, password, source, port)
		return b.done, b.output
	})
	return b
}

func launchBaresip(t *testing.T, bin, registrar, user, password, source string, port int) *baresip {
	t.Helper()
	b := &baresip{dir: t.TempDir(), done: make(chan struct{})}
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_player alsa,null
audio_source aufile,%s
audio_alert alsa,null
rtp_ports 40000-40999
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module alsa.so
module_app account.so
module_app menu.so
`, port, source)
	accounts := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;answermode=auto;regint=120;audio_codecs=PCMU\n", user, registrar, password)
	for name, body := range map[string]string{"config": config, "accounts": accounts, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cmd = exec.CommandContext(ctx, bin, "-4", "-n", "127.0.0.1", "-f", b.dir)
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("baresip: %v", err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		cancel()
		<-b.done
		if t.Failed() {
			t.Logf("baresip output:\n%s", lastLines(b.output(), 30))
		}
	})
	return b
}

// scenarioBaresipAgent: baresip registers as agent 1001 and streams
// 400 Hz; a caller phone (1 kHz) calls in, the core originates to baresip
// (auto-answer) and bridges them. The caller hears only baresip; held,
// the caller hears only the music; unheld, baresip again. Holding
// baresip's own leg (a re-INVITE to the real phone) succeeds.
func scenarioBaresipAgent(t *testing.T, e *env, peers RealPeers) {
	src := filepath.Join(t.TempDir(), "agent400.wav")
	writeToneWAV(t, src, toneAgent, time.Minute)
	startBaresip(t, peers.Baresip, e.sipAddr(t), "1001", peers.Password, src)
	e.wait(t, "baresip registered", 30*time.Second, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventEndpointRegistered && ev.Endpoint == "user/1001"
	})
	caller, a := e.inbound(t, e.phone(t, "2700", sippeer.Config{}), "700")
	caller.SetTone(toneCaller)
	b, err := e.core.Originate(e.ctx, mediacore.OriginateRequest{Endpoint: "user/1001", CallerIDNumber: "2700", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("originate to baresip: %v", err)
	}
	e.waitType(t, b, mediacore.EventAnswered)
	e.bridge(t, "br-baresip", a, b)
	hearsOnly(t, "caller (from baresip)", caller, toneAgent)
	e.stereoHolds(t, a, "caller", toneCaller, "baresip", toneAgent)

	music := mediacore.ToneFor(mediacore.Tone{Freqs: []float64{toneMusic}}, 0)
	music.Duration = time.Hour
	if err := e.core.Hold(e.ctx, a, &music); err != nil {
		t.Fatalf("hold caller: %v", err)
	}
	hearsOnly(t, "held caller", caller, toneMusic)
	if err := e.core.Unhold(e.ctx, a); err != nil {
		t.Fatalf("unhold caller: %v", err)
	}
	hearsOnly(t, "caller after unhold", caller, toneAgent)
	if err := e.core.Hold(e.ctx, b, &music); err != nil {
		t.Fatalf("hold baresip: %v", err)
	}
	e.waitType(t, b, mediacore.EventHold)
	if err := e.core.Hangup(e.ctx, b, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	e.waitType(t, b, mediacore.EventHangup)
}

// scenarioBaresipUnknownUser: baresip tries to register a user the backend
// does not know; baresip reports the refusal and no registration event
// appears.
func scenarioBaresipUnknownUser(t *testing.T, e *env, peers RealPeers) {
	src := filepath.Join(t.TempDir(), "silence.wav")
	writeToneWAV(t, src, toneAgent, time.Second)
	p := startBaresip(t, peers.Baresip, e.sipAddr(t), "nobody", "guess", src)
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := p.output()
		if strings.Contains(out, "401 Unauthorized") || strings.Contains(out, "403 Forbidden") {
			break
		}
		if strings.Contains(out, "200 OK") || time.Now().After(deadline) {
			t.Fatalf("baresip was not refused:\n%s", lastLines(out, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.noRegistration(t, "user/nobody")
}

package native

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// BenchmarkBridgedCalls measures the native core's CPU per bridged
// call-second and memory per call: SIPp callers (PCMA audio from a pcap)
// call the core, which answers, originates to a SIPp callee that echoes the
// audio (-rtp_echo), and bridges the two legs, optionally recording the
// caller in stereo. SIPp runs in other processes (pinned to CPU 1 when
// taskset exists), so the process's own CPU time is the core's. Run it
// pinned to CPU 0:
//
//	taskset -c 0 go test -run XXX -bench BridgedCalls -benchtime 1x ./mediacore/native/
//
// HOTLINE_LOAD_CALLS sets the number of concurrent calls (default 50).
func BenchmarkBridgedCalls(b *testing.B) {
	sipp := testenv.RequireTool(b, "sipp")
	calls := 50
	if v, err := strconv.Atoi(os.Getenv("HOTLINE_LOAD_CALLS")); err == nil && v > 0 {
		calls = v
	}
	for _, stereo := range []bool{false, true} {
		b.Run(fmt.Sprintf("calls=%d/record=%v", calls, stereo), func(b *testing.B) {
			for range b.N {
				runLoad(b, sipp, calls, stereo)
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssKB() int {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

func sippCmd(ctx context.Context, sipp string, args ...string) *exec.Cmd {
	if ts, err := exec.LookPath("taskset"); err == nil {
		return exec.CommandContext(ctx, ts, append([]string{"-c", "1", sipp}, args...)...)
	}
	return exec.CommandContext(ctx, sipp, args...)
}

func runLoad(b *testing.B, sipp string, calls int, stereo bool) {
	be := newTestBackend(b, func(c *Config) {
		c.RTPPortMin, c.RTPPortMax = 30000, 39999
		c.InviteRate, c.MaxInvites = -1, 100000 // one SIPp places every call
	})
	var mu sync.Mutex // guards peer, bridged
	peer := map[mediacore.ChannelID]mediacore.ChannelID{}
	bridged := 0
	var firstRec mediacore.RecordingID
	recDone := make(chan string, 1)
	var core *mediacore.Core
	uasPort := testenv.FreeUDPPort(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	handler := func(ev mediacore.Event) {
		switch ev.Type {
		case mediacore.EventChannelCreated:
			if ev.Direction != mediacore.Inbound {
				return
			}
			in := ev.Channel
			go func() {
				if err := core.Answer(ctx, in); err != nil {
					return
				}
				out := mediacore.ChannelID("o" + string(in))
				mu.Lock()
				peer[in], peer[out] = out, in
				mu.Unlock()
				_, _ = core.Originate(ctx, mediacore.OriginateRequest{ChannelID: out, Endpoint: "sip:callee@127.0.0.1:" + strconv.Itoa(uasPort), Timeout: 10 * time.Second})
			}()
		case mediacore.EventAnswered:
			mu.Lock()
			in, ok := peer[ev.Channel]
			mu.Unlock()
			if !ok || !strings.HasPrefix(string(ev.Channel), "o") {
				return
			}
			out := ev.Channel
			go func() {
				br := mediacore.BridgeID("b" + string(in))
				if core.CreateBridge(ctx, br) != nil ||
					core.AddToBridge(ctx, br, in, mediacore.Member{Role: mediacore.RoleSpeak}) != nil ||
					core.AddToBridge(ctx, br, out, mediacore.Member{Role: mediacore.RoleSpeak}) != nil {
					return
				}
				if stereo {
					id, err := core.Record(ctx, mediacore.ChannelTarget(in), mediacore.RecordRequest{Stereo: true})
					if err != nil {
						return
					}
					mu.Lock()
					if firstRec == "" {
						firstRec = id
					}
					mu.Unlock()
				}
				mu.Lock()
				bridged++
				mu.Unlock()
			}()
		case mediacore.EventRecordingFinished:
			mu.Lock()
			first := ev.Recording == firstRec
			mu.Unlock()
			if first {
				recDone <- ev.Path
			}
		case mediacore.EventHangup:
			mu.Lock()
			other, ok := peer[ev.Channel]
			mu.Unlock()
			if ok {
				go func() { _ = core.Hangup(context.Background(), other, mediacore.CauseNormal) }()
			}
		}
	}
	var err error
	core, err = mediacore.New(be, mediacore.Options{Handler: handler})
	if err != nil {
		b.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer core.Close()

	dir := b.TempDir()
	pkts, ts := pcmaStream(60 * time.Second)
	f, _ := os.Create(filepath.Join(dir, "audio.pcap"))
	if err := writePCAP(f, pkts, ts); err != nil {
		b.Fatal(err)
	}
	f.Close()
	uac, _ := filepath.Abs("testdata/sipp/uac_audio.xml")
	uasXML, _ := filepath.Abs("testdata/sipp/uas_echo.xml")
	uas := sippCmd(ctx, sipp, "-sf", uasXML, "-i", "127.0.0.1", "-p", strconv.Itoa(uasPort),
		"-mp", strconv.Itoa(testenv.FreeUDPPort(b)&^1), "-rtp_echo", "-nostdin", "-m", strconv.Itoa(calls))
	uas.Dir = dir
	if err := uas.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = uas.Process.Kill(); _ = uas.Wait() }()
	rssBefore := rssKB()
	caller := sippCmd(ctx, sipp, "-sf", uac, "-s", "900", "-i", "127.0.0.1", "-p", strconv.Itoa(testenv.FreeUDPPort(b)),
		"-mp", strconv.Itoa(testenv.FreeUDPPort(b)&^1), "-nostdin", "-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls),
		"-r", "25", "-d", "40000", be.Addr().String())
	caller.Dir = dir
	if err := caller.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = caller.Process.Kill(); _ = caller.Wait() }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := bridged
		mu.Unlock()
		if n >= calls {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d calls bridged", n, calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // steady state
	const window = 10 * time.Second
	c0, t0 := cpuTime(), time.Now()
	b.ResetTimer()
	time.Sleep(window)
	c1, t1 := cpuTime(), time.Now()
	b.StopTimer()
	rss := rssKB()
	perCallSec := (c1 - c0).Seconds() / (float64(calls) * t1.Sub(t0).Seconds())
	b.ReportMetric(perCallSec, "cpu-s/call-s")
	b.ReportMetric(float64(rss-rssBefore)/1024/float64(calls), "MB-rss/call")
	b.ReportMetric(float64(rss)/1024, "MB-rss-total")

	// Evidence that audio flowed both ways: how many bridges run the relay
	// fast path, and, when recording, the levels of both sides of one
	// recording (left: the SIPp caller's 1 kHz; right: the same audio
	// echoed back by the SIPp callee through the bridge).
	relayed := 0
	be.mu.Lock()
	for _, br := range be.bridges {
		if br.eb.Relayed() {
			relayed++
		}
	}
	be.mu.Unlock()
	b.ReportMetric(float64(relayed), "relayed-bridges")
	if stereo {
		mu.Lock()
		id := firstRec
		mu.Unlock()
		if err := core.StopRecording(ctx, id); err != nil {
			b.Fatal(err)
		}
		path := <-recDone
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		left, right := splitStereo(b, data)
		if len(left) > 8000 {
			left, right = left[len(left)-8000:], right[len(right)-8000:]
		}
		b.ReportMetric(audio.ToneRatio(left, audio.SampleRate, 1000), "left-1kHz-ratio")
		b.ReportMetric(audio.ToneRatio(right, audio.SampleRate, 1000), "right-1kHz-ratio")
	}
}

// pcmaStream is d of a 1 kHz tone as 20 ms PCMA RTP packets.
func pcmaStream(d time.Duration) ([][]byte, []time.Duration) {
	n := int(d / (20 * time.Millisecond))
	pkts := make([][]byte, 0, n)
	ts := make([]time.Duration, 0, n)
	pcm := make([]int16, 160)
	payload := make([]byte, 160)
	for i := range n {
		for k := range pcm {
			pcm[k] = int16(8000 * sinTable[(i*160+k)%8])
		}
		audio.EncodeAlaw(payload, pcm)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 0x1234}, Payload: payload}
		raw, _ := p.Marshal()
		pkts = append(pkts, raw)
		ts = append(ts, time.Duration(i)*20*time.Millisecond)
	}
	return pkts, ts
}

// sinTable is one period of 1 kHz at 8 kHz.
var sinTable = [8]float64{0, 0.7071, 1, 0.7071, 0, -0.7071, -1, -0.7071}

//go:build linux

package rtpengine

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hotline/mediacore/audio"
)

// The load benchmark runs N bridged calls through the engine in this
// process, with the 2N remote peers in a child process (this test binary
// re-executed with loadPeerEnv set), so getrusage(RUSAGE_SELF) measures the
// engine alone. Each peer streams 50 PCMU packets/s (1 kHz on the A side,
// 400 Hz on the B side) and counts what comes back.
//
//	taskset -c 0 go test -run '^$' -bench BenchmarkLoad -benchtime 1x ./mediacore/native/rtpengine/
//
// With RTPLOAD_PEER_CPU=1 the child is started under `taskset -c 1`, so the
// engine's figure is per core. RTPLOAD_SECONDS sets the measured window
// (default 10).
const (
	loadPeerEnv  = "RTPLOAD_PEER"
	loadCallsEnv = "RTPLOAD_CALLS"
)

func TestMain(m *testing.M) {
	if os.Getenv(loadPeerEnv) == "1" {
		os.Exit(runLoadPeers())
	}
	os.Exit(m.Run())
}

// runLoadPeers is the child: it prints its ports, reads the targets, streams
// until stdin closes, then prints per-socket receive counts.
func runLoadPeers() int {
	n, err := strconv.Atoi(os.Getenv(loadCallsEnv))
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "bad", loadCallsEnv)
		return 2
	}
	conns := make([]*net.UDPConn, 2*n)
	ports := make([]string, 2*n)
	for i := range conns {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		conns[i] = c
		ports[i] = strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
	}
	fmt.Println("PORTS " + strings.Join(ports, " "))
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	if !in.Scan() {
		return 2
	}
	fields := strings.Fields(in.Text())
	if len(fields) != 2*n+1 || fields[0] != "TARGETS" {
		fmt.Fprintln(os.Stderr, "bad targets line")
		return 2
	}
	targets := make([]netip.AddrPort, 2*n)
	for i := range targets {
		p, _ := strconv.Atoi(fields[i+1])
		targets[i] = netip.AddrPortFrom(loopback, uint16(p))
	}
	counts := make([]atomic.Int64, 2*n)
	for i, c := range conns {
		go func() {
			var buf [1500]byte
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf[:]); err != nil {
					return
				}
				counts[i].Add(1)
			}
		}()
	}
	// One frame of 1 kHz (20 periods) or 400 Hz (8 periods) repeats
	// seamlessly, so each peer resends its frame with new numbers.
	pkts := make([][]byte, 2*n)
	for i := range pkts {
		f := 1000.0
		if i%2 == 1 {
			f = 400
		}
		pcm := make([]int16, frameSamples)
		for k := range pcm {
			pcm[k] = int16(8000 * math.Sin(2*math.Pi*f*float64(k)/clockRate))
		}
		payload := make([]byte, frameSamples)
		audio.PCMU.Encode(payload, pcm)
		pkts[i] = rtpPacket(0, uint16(i), uint32(i)*7919, uint32(i+1), payload)
	}
	stop := make(chan struct{})
	go func() {
		for in.Scan() {
		}
		close(stop)
	}()
	tk := time.NewTicker(frameDur)
	defer tk.Stop()
	start := time.Now()
	sent := 0
loop:
	for {
		select {
		case <-stop:
			break loop
		case now := <-tk.C:
			// Catch up on skipped ticks: 50 packets/s per peer on average.
			due := int((now.Sub(start) + frameDur/2) / frameDur)
			sent = max(sent, due-4)
			for ; sent < due; sent++ {
				for i, c := range conns {
					p := pkts[i]
					binary.BigEndian.PutUint16(p[2:], binary.BigEndian.Uint16(p[2:])+1)
					binary.BigEndian.PutUint32(p[4:], binary.BigEndian.Uint32(p[4:])+frameSamples)
					_, _ = c.WriteToUDPAddrPort(p, targets[i])
				}
			}
		}
	}
	out := make([]string, 2*n)
	for i := range counts {
		out[i] = strconv.FormatInt(counts[i].Load(), 10)
	}
	fmt.Println("RECV " + strings.Join(out, " "))
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func BenchmarkLoad(b *testing.B) {
	window := 10 * time.Second
	if s, err := strconv.Atoi(os.Getenv("RTPLOAD_SECONDS")); err == nil && s > 0 {
		window = time.Duration(s) * time.Second
	}
	for _, mode := range []string{"floor", "relay", "stereo-record"} {
		for _, n := range []int{50, 100, 200} {
			b.Run(fmt.Sprintf("calls=%d/%s", n, mode), func(b *testing.B) {
				for range b.N {
					runLoad(b, n, mode, window)
				}
			})
		}
	}
}

func runLoad(b *testing.B, n int, mode string, window time.Duration) {
	rec := mode == "stereo-record"
	e, err := New(Config{IP: loopback, PortMin: 20000, PortMax: 60000})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	args := []string{os.Args[0], "-test.run=^$"}
	if os.Getenv("RTPLOAD_PEER_CPU") != "" {
		args = append([]string{"taskset", "-c", os.Getenv("RTPLOAD_PEER_CPU")}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), loadPeerEnv+"=1", loadCallsEnv+"="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewScanner(stdout)
	out.Buffer(make([]byte, 1<<20), 1<<20)
	if !out.Scan() {
		b.Fatal("peer process gave no ports")
	}
	peerPorts := strings.Fields(out.Text())[1:]
	rss0 := rssBytes()
	dir := b.TempDir()
	targets := make([]string, 2*n)
	var files []*os.File
	if mode == "floor" {
		f := newFloorForwarder(b, n)
		for i, s := range f.socks {
			p, _ := strconv.Atoi(peerPorts[i])
			f.dst[i] = netip.AddrPortFrom(loopback, uint16(p))
			targets[i] = strconv.Itoa(s.port)
		}
		go f.run()
		defer f.close()
	}
	for i := range n {
		if mode == "floor" {
			break
		}
		br := e.NewBridge("call")
		defer br.Close()
		for side := range 2 {
			l, err := e.NewLeg(fmt.Sprintf("c%d-%d", i, side), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			p, _ := strconv.Atoi(peerPorts[2*i+side])
			if err := l.SetRemote(netip.AddrPortFrom(loopback, uint16(p)), audio.PCMU, 0, 101); err != nil {
				b.Fatal(err)
			}
			if err := br.Add(l, Speak, nil); err != nil {
				b.Fatal(err)
			}
			targets[2*i+side] = strconv.Itoa(int(l.LocalAddr().Port()))
		}
		if rec {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("c%d.wav", i)))
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
			if _, err := br.Record(f, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	fmt.Fprintln(stdin, "TARGETS "+strings.Join(targets, " "))
	time.Sleep(time.Second) // warm-up: learning, jitter buffers filling
	rss1 := rssBytes()
	c0 := cpuTime()
	time.Sleep(window)
	cpu := cpuTime() - c0
	stdin.Close()
	var recv []string
	if out.Scan() {
		recv = strings.Fields(out.Text())[1:]
	}
	_ = cmd.Wait()
	for _, f := range files {
		f.Close()
	}
	// Flow check: every peer got at least 90% of the packets sent its way
	// over the warm-up and window.
	want := int64(float64((window+time.Second)/frameDur) * 0.9)
	ok := 0
	for _, r := range recv {
		if v, _ := strconv.ParseInt(r, 10, 64); v >= want {
			ok++
		}
	}
	if ok < 2*n {
		b.Logf("peer receive counts (want >= %d): %v", want, recv[:min(len(recv), 8)])
	}
	b.ReportMetric(cpu.Seconds()/(float64(n)*window.Seconds()), "cpu-s/call-s")
	b.ReportMetric(float64(rss1-rss0)/float64(n)/1e6, "MB/call")
	b.ReportMetric(float64(ok)/float64(2*n), "flowing")
}

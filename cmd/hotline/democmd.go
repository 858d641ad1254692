package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/sim"
)

// demoFigures are `hotline demo`'s traffic: a small center that is busy
// but keeps its service level, over two minutes.
var demoFigures = struct {
	agents                         int
	rate                           float64
	duration, aht, patience, ring  time.Duration
	wrap                           time.Duration
	seed                           uint64
	startTimeout, shutdownDeadline time.Duration
}{
	agents: 20, rate: 0.5, duration: 2 * time.Minute, aht: 25 * time.Second, patience: 20 * time.Second,
	ring: time.Second, wrap: 3 * time.Second, seed: 1,
	startTimeout: 60 * time.Second, shutdownDeadline: 60 * time.Second,
}

// runDemo is `hotline demo`: it serves a demo call center on the embedded
// store (SQLite in a fresh temporary directory, free loopback ports, no
// switch) in this process, drives it with `hotline sim` (live view on a
// terminal, progress lines otherwise), prints the reconciliation verdict
// and stops the daemon. The simulator's admin token is generated here and
// handed to the daemon as its bootstrap token in memory only: it is never
// printed, written to disk or put on a command line. It returns the exit
// status: 1 when the figures do not reconcile or the run fails.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hotline demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dataDir  = fs.String("data", "", "data directory (default: a temporary directory removed at the end)")
		agents   = fs.Int("agents", demoFigures.agents, "simulated agents")
		rate     = fs.Float64("rate", demoFigures.rate, "calls per second")
		duration = fs.Duration("duration", demoFigures.duration, "how long calls arrive")
		aht      = fs.Duration("aht", demoFigures.aht, "mean talk time")
		patience = fs.Duration("patience", demoFigures.patience, "mean caller patience")
		ring     = fs.Duration("ring", demoFigures.ring, "agent phones ring this long before answering")
		wrap     = fs.Duration("wrap", demoFigures.wrap, "wrap-up after each call")
		seed     = fs.Uint64("seed", demoFigures.seed, "traffic seed")
		view     = fs.String("view", "auto", "live terminal view: auto (when stdout is a terminal), on or off")
		load     = fs.Bool("load", false, "also print the load figures (calls/s, INVITE-to-answer, the daemon's RSS and goroutines)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hotline demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	simArgs := []string{
		"--agents", strconv.Itoa(*agents), "--rate", strconv.FormatFloat(*rate, 'g', -1, 64),
		"--duration", duration.String(), "--aht", aht.String(), "--patience", patience.String(),
		"--ring", ring.String(), "--wrap", wrap.String(), "--seed", strconv.FormatUint(*seed, 10),
		"--queue", "sim", "--load=" + strconv.FormatBool(*load),
	}
	switch *view {
	case "on":
		simArgs = append(simArgs, "--view=true")
	case "off":
		simArgs = append(simArgs, "--view=false")
	case "auto":
	default:
		fmt.Fprintf(stderr, "hotline demo: --view must be auto, on or off, not %q\n", *view)
		return 2
	}

	dir, removeDir := *dataDir, false
	if dir == "" {
		d, err := os.MkdirTemp("", "hotline-demo-")
		if err != nil {
			fmt.Fprintln(stderr, "hotline demo:", err)
			return 1
		}
		dir, removeDir = d, true
	}
	logPath := filepath.Join(dir, "hotline.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(stderr, "hotline demo:", err)
		return 1
	}
	defer logFile.Close()
	// sipgo logs some transport conditions on its package logger; in this
	// process they would garble the view: they go to the daemon's log.
	// The previous logger comes back before the file closes.
	prevSIPLogger := sip.DefaultLogger()
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer sip.SetDefaultLogger(prevSIPLogger)

	httpAddr, sipAddr, err := demoAddrs()
	if err != nil {
		fmt.Fprintln(stderr, "hotline demo: no free port:", err)
		return 1
	}
	token := randomSecret(24)
	env := map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": token}
	daemonCtx, stopDaemon := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDaemon()
	// exited is closed when the daemon has stopped; daemonCode is then
	// its status.
	exited := make(chan struct{})
	var daemonCode int
	go func() {
		defer close(exited)
		// Only the token comes from this environment: the demo always
		// runs on the embedded store, whatever HOTLINE_* says.
		daemonCode = run(daemonCtx, []string{"serve", "--demo", "--data", dir, "--http", httpAddr, "--sip", sipAddr, "--log-level", "warn"},
			func(k string) string { return env[k] }, logFile, logFile)
	}()
	fmt.Fprintf(stdout, "demo: Hotline on http://%s (SIP %s), data in %s, log %s\n", httpAddr, sipAddr, dir, logPath)
	code := 1
	if err := waitHealthy(ctx, "http://"+httpAddr, exited); err != nil {
		fmt.Fprintln(stderr, "hotline demo:", err)
	} else {
		simArgs = append(simArgs, "--target", "http://"+httpAddr, "--sip", sipAddr, "--token", token)
		switch err := sim.Run(ctx, simArgs, stdout, stderr); {
		case err == nil:
			code = 0
		case errors.Is(err, sim.ErrMismatch):
		default:
			fmt.Fprintln(stderr, "hotline demo:", err)
		}
	}

	stopDaemon()
	select {
	case <-exited:
		if daemonCode != 0 && code == 0 {
			fmt.Fprintf(stderr, "hotline demo: the daemon stopped with status %d (see %s)\n", daemonCode, logPath)
			code = 1
		}
	case <-time.After(demoFigures.shutdownDeadline):
		fmt.Fprintln(stderr, "hotline demo: the daemon did not stop in time")
		code = 1
	}
	if removeDir && code == 0 {
		_ = logFile.Close()
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(stderr, "hotline demo:", err)
		}
	} else if code != 0 {
		fmt.Fprintf(stderr, "hotline demo: data and log kept in %s\n", dir)
	}
	fmt.Fprintln(stdout, "demo: Hotline stopped")
	return code
}

// demoAddrs picks free loopback ports: one for HTTP, one free on both UDP
// and TCP for SIP (the media core listens on both).
func demoAddrs() (httpAddr, sipAddr string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	httpAddr = ln.Addr().String()
	defer ln.Close()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		addr := pc.LocalAddr().String()
		tl, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			tl.Close()
			return httpAddr, addr, nil
		}
	}
	return "", "", errors.New("no port free on both UDP and TCP")
}

// waitHealthy waits until the daemon answers /healthz, or exits.
func waitHealthy(ctx context.Context, base string, exited <-chan struct{}) error {
	deadline := time.Now().Add(demoFigures.startTimeout)
	probe := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		if res, err := probe.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("the daemon stopped before answering /healthz (see its log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the daemon did not answer /healthz within %s", demoFigures.startTimeout)
		}
	}
}

package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"time"

	"hotline/controller/reports"
)

// Run is `hotline sim`: it parses args, runs traffic against the instance
// and prints the reconciliation verdict on stdout. It returns ErrMismatch
// when figures differ (the command exits non-zero) and flag.ErrHelp for
// -h.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hotline sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		target    = fs.String("target", "http://127.0.0.1:8080", "the Hotline instance's HTTP address")
		sipAddr   = fs.String("sip", "127.0.0.1:5060", "the instance's SIP address host:port")
		token     = fs.String("token", os.Getenv("HOTLINE_TOKEN"), "an admin API token (default $HOTLINE_TOKEN)")
		agents    = fs.Int("agents", 5, "agent softphones to register and log in")
		rate      = fs.Float64("rate", 0.2, "calls per second (Poisson; fractions allowed)")
		duration  = fs.Duration("duration", time.Minute, "how long calls arrive")
		aht       = fs.Duration("aht", 20*time.Second, "mean talk time (lognormal)")
		patience  = fs.Duration("patience", 30*time.Second, "mean caller patience (exponential); 0: never abandon")
		seed      = fs.Uint64("seed", 1, "traffic seed: the same seed gives the same traffic")
		ring      = fs.Duration("ring", time.Second, "agent phones ring this long before answering")
		wrap      = fs.Duration("wrap", 10*time.Second, "the queue's wrap-up after each call (whole seconds; 0: none)")
		queue     = fs.String("queue", "sim", "queue name to create or reuse")
		number    = fs.String("number", "+15550199", "access number to create or reuse, routed to the queue")
		ip        = fs.String("ip", "127.0.0.1", "local address the simulated phones listen on")
		slT       = fs.Duration("sl-threshold", 20*time.Second, "service level threshold T (as configured on the instance)")
		shortAb   = fs.Duration("short-abandon", 5*time.Second, "short abandon threshold S (as configured on the instance)")
		tolerance = fs.Duration("tolerance", 500*time.Millisecond, "how far the simulator's clock readings may be from Hotline's")
		settle    = fs.Duration("settle", 30*time.Second, "how long to wait for the reports to include every call")
		endGrace  = fs.Duration("end-grace", time.Minute, "how long after its talk time an answered call may stay up before it counts failed (never ended) and the caller hangs up")
		view      = fs.Bool("view", isTerminal(stdout), "show the live terminal view (default: when stdout is a terminal; plain progress lines otherwise)")
		load      = fs.Bool("load", false, "load mode: also report achieved calls/s, failed calls, INVITE-to-answer p50/p95 and the daemon's RSS and goroutines (from /metrics)")
		every     = fs.Duration("every", 5*time.Second, "interval of the plain progress lines")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrInvalidTraffic, fs.Arg(0))
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --target must be an http(s) URL", ErrInvalidTraffic)
	}
	if _, _, err := net.SplitHostPort(*sipAddr); err != nil {
		return fmt.Errorf("%w: --sip must be host:port", ErrInvalidTraffic)
	}
	if *token == "" {
		return fmt.Errorf("%w: --token (or HOTLINE_TOKEN) is required", ErrInvalidTraffic)
	}
	cfg := reports.DefaultConfig()
	cfg.ServiceLevelThreshold, cfg.ShortAbandon = *slT, *shortAb
	lc := LiveConfig{
		Target: *target, SIP: *sipAddr, Token: *token, Agents: *agents,
		Traffic:   Traffic{Rate: *rate, Duration: *duration, AHT: *aht, Patience: *patience, Seed: *seed},
		RingDelay: *ring, WrapUp: *wrap, Queue: *queue, Number: *number, IP: *ip, Settle: *settle, EndGrace: *endGrace,
		Definitions: Definitions{Config: cfg, Tolerance: *tolerance}, Progress: stderr, ProgressEvery: *every,
		Load: *load,
	}
	if *view {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		send, stop := startView(stdout, cancel)
		lc.Progress, lc.OnSnapshot, lc.Watch = nil, send, true
		ctx = runCtx
		res, err := Live(ctx, lc)
		stop()
		return finish(stdout, res, err, *load)
	}
	res, err := Live(ctx, lc)
	return finish(stdout, res, err, *load)
}

// finish prints the load figures (in load mode) and the verdict of a run
// that got as far as reconciling.
func finish(stdout io.Writer, res LiveResult, err error, load bool) error {
	if load && res.Load.Placed > 0 {
		if werr := WriteLoadSummary(stdout, res.Load); werr != nil {
			return werr
		}
	}
	if err != nil && !errors.Is(err, ErrMismatch) {
		return err
	}
	return WriteVerdict(stdout, len(res.Truth.Calls), res.Differences)
}

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
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	rpprof "runtime/pprof"
	"syscall"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/native"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "freeport":
			os.Exit(freeportMain(os.Args[2:], os.Stdout, os.Stderr))
		case "sockstat":
			os.Exit(sockstatMain(os.Args[2:], os.Stdout, os.Stderr))
		case "checkrecs":
			os.Exit(checkrecsMain(os.Args[2:], os.Stdout, os.Stderr))
		case "serve":
			os.Exit(serveMain(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(serveMain(os.Args[1:], os.Stdout, os.Stderr))
}

// serveConfig is the serve subcommand's flags.
type serveConfig struct {
	sip          string
	rtpMin       int
	rtpMax       int
	callee       string
	record       bool
	recordDir    string
	keepRecs     bool
	checkRecs    bool
	callerTone   float64
	calleeTone   float64
	mediaTimeout time.Duration
	httpAddr     string
	cpuProfile   string
	verbose      bool
}

func serveMain(args []string, stdout, stderr io.Writer) int {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.sip, "sip", "127.0.0.1:0", "SIP listen address (UDP and TCP); port 0 picks a free one")
	fs.IntVar(&cfg.rtpMin, "rtp-min", 20000, "lowest RTP port")
	fs.IntVar(&cfg.rtpMax, "rtp-max", 29999, "highest RTP port")
	fs.StringVar(&cfg.callee, "callee", "", "sip: URI of the SIPp answerer, e.g. sip:uas@127.0.0.1:5090 (required)")
	fs.BoolVar(&cfg.record, "record", false, "record every bridge in stereo")
	fs.StringVar(&cfg.recordDir, "record-dir", "/dev/shm/hotline-loadtest", "recordings directory (a tmpfs keeps disk I/O out of the figure)")
	fs.BoolVar(&cfg.keepRecs, "keep-recordings", false, "keep the recordings after checking them")
	fs.BoolVar(&cfg.checkRecs, "check-recordings", true, "check each finished recording: caller tone on the left, callee tone on the right")
	fs.Float64Var(&cfg.callerTone, "caller-tone", 1000, "tone (Hz) the SIPp caller streams, expected on the left channel")
	fs.Float64Var(&cfg.calleeTone, "callee-tone", 400, "tone (Hz) the SIPp answerer streams, expected on the right channel")
	fs.DurationVar(&cfg.mediaTimeout, "media-timeout", 3*time.Second, "hang up a leg that receives no RTP for this long (counted as media_timeouts); 0 disables")
	fs.StringVar(&cfg.httpAddr, "http", "127.0.0.1:0", "address of the stats/pprof HTTP server; empty disables")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.BoolVar(&cfg.verbose, "v", false, "debug logs on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.callee == "" {
		fmt.Fprintln(stderr, "harness: -callee is required")
		return 2
	}
	if _, err := mediacore.ParseEndpoint(cfg.callee); err != nil {
		fmt.Fprintf(stderr, "harness: -callee %q: %v\n", cfg.callee, err)
		return 2
	}
	if err := serve(cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "harness:", err)
		return 1
	}
	return 0
}

func serve(cfg serveConfig, stdout, stderr io.Writer) error {
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer f.Close()
		if err := rpprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer rpprof.StopCPUProfile()
	}

	be, err := native.New(native.Config{
		Listen:              cfg.sip,
		RTPPortMin:          cfg.rtpMin,
		RTPPortMax:          cfg.rtpMax,
		MediaTimeout:        cfg.mediaTimeout,
		MediaDir:            cfg.recordDir,
		RecordingsDir:       cfg.recordDir,
		AllowUnknownSources: true, // SIPp is neither a trunk nor a registered user
		// One SIPp places every call: no per-source INVITE limit, and
		// room for every call of the run in setup at once.
		InviteRate: -1,
		MaxInvites: 100000,
		Logger:     log.With("component", "native"),
	})
	if err != nil {
		return err
	}
	h := newHarness(cfg, log)
	core, err := mediacore.New(be, mediacore.Options{Logger: log, Handler: h.onEvent})
	if err != nil {
		return err
	}
	h.core = core
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = core.Start(ctx)
	cancel()
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}

	httpAddr := "-"
	var srv *http.Server
	if cfg.httpAddr != "" {
		ln, err := net.Listen("tcp", cfg.httpAddr)
		if err != nil {
			_ = core.Close()
			return fmt.Errorf("http: %w", err)
		}
		httpAddr = ln.Addr().String()
		mux := http.NewServeMux()
		mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, h.statsLine())
		})
		// Only the CPU profile and the index: the script takes a profile of
		// the measured window, not of the ramp-up.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
	}
	// run.sh parses this line: keep its shape.
	fmt.Fprintf(stdout, "READY sip=%s http=%s pid=%d gomaxprocs=%d record=%t\n",
		be.Addr(), httpAddr, os.Getpid(), runtime.GOMAXPROCS(0), cfg.record)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGINT, syscall.SIGTERM)
	for s := range sigs {
		if s == syscall.SIGUSR1 {
			fmt.Fprintln(stdout, "STATS", h.statsLine())
			continue
		}
		break
	}
	signal.Stop(sigs)
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(sctx)
		scancel()
	}
	err = core.Close()
	h.wait()
	fmt.Fprintln(stdout, "FINAL", h.statsLine())
	if err != nil && !errors.Is(err, mediacore.ErrClosed) {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

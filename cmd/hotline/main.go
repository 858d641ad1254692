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
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"hotline/api"
	"hotline/controller"
	"hotline/controller/cti"
	"hotline/controller/ivr"
	"hotline/controller/ivr/ivrhttp"
	"hotline/controller/store"
	"hotline/controller/store/postgres"
	"hotline/controller/store/sqlite"
	"hotline/controller/webhook"
	"hotline/mediacore"
	"hotline/sim"

	// The schedules' time zones must load on hosts without a zoneinfo database.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with their own arguments,
// environment and a context they cancel to stop the daemon.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "hotline", version)
		return 0
	case "serve", "migrate":
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "sim":
		// The traffic simulator (package sim): a client of a running
		// Hotline over REST and SIP, with its own flags. sipgo logs some
		// transport conditions on its package logger (retransmissions
		// after a call ended): noise between progress lines.
		sip.SetDefaultLogger(slog.New(slog.DiscardHandler))
		switch err := sim.Run(ctx, args, stdout, stderr); {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, sim.ErrMismatch):
			return 1
		default:
			fmt.Fprintln(stderr, "hotline sim:", err)
			return 1
		}
	case "help":
		_, _ = loadConfig([]string{"-h"}, getenv, stdout) // prints the usage
		return 0
	default:
		fmt.Fprintf(stderr, "hotline: unknown command %q (want serve, migrate, sim, demo, version or help)\n", cmd)
		return 2
	}
	cfg, err := loadCommandConfig(cmd, args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0 // the flag package printed the usage
	}
	if err != nil {
		fmt.Fprintln(stderr, "hotline:", err)
		return 2
	}
	logger := newLogger(stderr, cfg.LogLevel)
	if cmd == "migrate" {
		err = migrate(ctx, cfg, logger)
	} else {
		err = serve(ctx, cfg, logger, stdout)
	}
	if err != nil {
		logger.Error("hotline stopped", "command", cmd, "err", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config.validate
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore opens the configured store and applies its migrations: the
// embedded SQLite database in the data directory, or PostgreSQL.
func openStore(ctx context.Context, cfg config, logger *slog.Logger) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL, logger)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "hotline.db"), logger)
}

func migrate(ctx context.Context, cfg config, logger *slog.Logger) error {
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("migrations applied")
	return st.Close()
}

func serve(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) error {
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	path := &callPath{log: logger}
	media, err := startMedia(ctx, cfg, st, logger, registry, path)
	if err != nil {
		return err
	}
	defer media.Close()
	if len(cfg.MediaNodes) == 0 {
		fmt.Fprintf(stdout, "Hotline %s: %s media core (SIP, UDP and TCP) on %s\n", version, cfg.MediaBackend, cfg.SIPAddr)
	}
	for _, n := range cfg.MediaNodes {
		fmt.Fprintf(stdout, "Hotline %s: media node %q (%s)\n", version, n.Name, n.Kind)
	}

	// The controller owns configuration and live state: every write below
	// (bootstrap, demo, the API) goes through it.
	ctl, err := controller.New(ctx, controller.Options{Store: st, Media: media, Logger: logger.With("component", "controller"),
		OnACDEvents: path.handleACD})
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	defer ctl.Close()

	if cfg.BootstrapToken != "" {
		if err := api.EnsureBootstrapToken(ctx, ctl, cfg.BootstrapToken, time.Now()); err != nil {
			return fmt.Errorf("bootstrap token: %w", err)
		}
	}
	if cfg.Demo {
		if err := seedDemo(ctx, ctl, cfg.SIPRealm, stdout); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	}

	// The journal (CDRs, the event log, recordings' metadata) spools to
	// the data dir before the store: it is closed after the call path, so
	// the last calls' records are handed over first.
	journal, err := controller.OpenJournal(filepath.Join(cfg.DataDir, "journal"), st, logger.With("component", "journal"), registry)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		if err := journal.Close(cctx); err != nil {
			logger.Warn("journal closed with records left in its spool", "err", err)
		}
	}()
	recordings, err := controller.OpenDirRecordingStore(filepath.Join(cfg.DataDir, "recordings"), time.Now)
	if err != nil {
		return err
	}
	defer recordings.Close()
	agg, lastSeq, err := startReports(ctx, st, time.Now())
	if err != nil {
		return err
	}
	win, err := startWindow(ctx, st, time.Now())
	if err != nil {
		return err
	}
	cc, err := startCallPath(cfg, ctl, media, logger, registry, callStores{
		journal: &reportingJournal{Journal: journal, agg: agg, seq: lastSeq, win: win}, recordings: recordings,
		directory: controller.NewStoreDirectory(ctl, nil, logger.With("component", "directory")),
		flows:     controller.NewStoreFlows(ctl.IVRFlows()),
	})
	if err != nil {
		return err
	}
	defer cc.Close()
	path.cc.Store(cc)

	hooksCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	hooks, err := startWebhooks(hooksCtx, cfg, cc.Events(), logger, registry)
	if err != nil {
		return err
	}
	// Deferred after cc.Close: runs before it, delivering what is queued
	// within the grace while the call path still stands.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		stopFollowing()
		if err := hooks.Close(cctx); err != nil {
			logger.Warn("webhooks closed with deliveries pending", "err", err)
		}
	}()

	rt, err := startRealtime(ctl, agg, win, cc.Events(), logger, registry)
	if err != nil {
		return err
	}
	defer rt.Close()

	srv, err := api.New(api.Options{Controller: ctl, Logger: logger, Version: version, SIPRealm: cfg.SIPRealm, Registry: registry,
		Live: cc, RecordingStore: recordings, SIPBlocks: sipBlocksOf(media), Reports: agg,
		Webhooks: webhookEndpoints(cfg.Webhooks), Dispatcher: hooks, Realtime: rt})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "Hotline %s: API listening on http://%s/api/v1 (health: http://%s/healthz)\n",
		version, ln.Addr(), ln.Addr())
	logger.Info("http listening", "addr", ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// startWebhooks builds the webhook dispatcher over cfg.Webhooks (none
// configured: a dispatcher with no endpoints) and feeds it every live event
// of hub until ctx ends or the hub closes. The secrets are never logged.
func startWebhooks(ctx context.Context, cfg config, hub *cti.Hub, logger *slog.Logger, reg prometheus.Registerer) (*webhook.Dispatcher, error) {
	d, err := webhook.New(webhook.Options{Endpoints: webhookEndpoints(cfg.Webhooks),
		Logger: logger.With("component", "webhooks"), Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("%w: webhooks: %w", errConfig, err)
	}
	if len(cfg.Webhooks) == 0 {
		return d, nil
	}
	sub, err := hub.Subscribe(notRealtime, cti.Live)
	if err != nil {
		_ = d.Close(ctx)
		return nil, fmt.Errorf("webhooks: subscribe: %w", err)
	}
	go func() {
		defer sub.Close()
		err := d.Follow(ctx, sub)
		if err != nil && ctx.Err() == nil && !errors.Is(err, cti.ErrClosed) {
			logger.Warn("webhooks stopped following the CTI stream", "err", err)
		}
	}()
	for _, e := range cfg.Webhooks {
		logger.Info("webhook configured", "url", redactURL(e.URL), "events", e.Events)
	}
	return d, nil
}

// redactURL drops the query of u (it may carry a token) for logging.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	p.RawQuery, p.User = "", nil
	return p.String()
}

// startCallPath builds the call path over the controller and the media
// core: routing, IVR (the demo flow in demo mode), queues, agents,
// recording policy, CDRs and the CTI hub.
// callStores is what the call path persists to and reads from.
type callStores struct {
	journal    controller.Journal
	recordings controller.RecordingStore
	directory  controller.Directory
	flows      controller.FlowSource
}

func startCallPath(cfg config, ctl *controller.Controller, media *mediacore.Core, logger *slog.Logger, reg prometheus.Registerer, cs callStores) (*controller.CallCenter, error) {
	hub, err := cti.New(cti.Options{Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("cti hub: %w", err)
	}
	lookup, err := ivrhttp.New()
	if err != nil {
		return nil, err
	}
	flows := map[string]*ivr.Flow{}
	if cfg.Demo {
		f := ivr.DemoFlow()
		flows[f.ID] = f
	}
	cc, err := controller.NewCallCenter(controller.CallCenterOptions{
		Controller: ctl, Media: media, Hub: hub, HTTP: lookup, BuiltinFlows: flows,
		Blacklist: controller.BlacklistAction(cfg.BlacklistAction),
		Journal:   cs.journal, Recordings: cs.recordings, Directory: cs.directory, Flows: cs.flows,
		Logger: logger.With("component", "calls"), Registerer: reg,
		Mailer: cfg.SMTP.mailer(),
	})
	if err != nil {
		return nil, fmt.Errorf("call path: %w", err)
	}
	return cc, nil
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/mediacore"
	"hotline/mediacore/native"
)

// startMedia starts the native media core on cfg.SIPAddr: its registrar
// authenticates agent phones against the HA1s in the store, and its events
// go to the returned Core's handler.
//
// Until the controller routes calls (the controller issue), an inbound call
// is answered 480 Temporarily Unavailable, which every phone and carrier
// understands, instead of ringing unanswered.
func startMedia(ctx context.Context, cfg config, st store.Store, logger *slog.Logger, reg prometheus.Registerer) (*mediacore.Core, error) {
	log := logger.With("component", "media")
	backend, err := native.New(native.Config{
		Listen:           cfg.SIPAddr,
		RTPPortMin:       cfg.RTPPortMin,
		RTPPortMax:       cfg.RTPPortMax,
		MediaDir:         filepath.Join(cfg.DataDir, "media"),
		Credentials:      controller.AgentCredentials{Agents: st.Agents()},
		Realm:            cfg.SIPRealm,
		DigestAlgorithms: strings.Split(cfg.SIPDigestAlgorithms, ","),
		Logger:           log,
		Registerer:       reg,
	})
	if err != nil {
		return nil, err
	}
	var core *mediacore.Core
	handle := func(ev mediacore.Event) {
		switch ev.Type {
		case mediacore.EventChannelCreated:
			if ev.Direction != mediacore.Inbound {
				return
			}
			log.Info("inbound call refused: call routing is not built yet",
				"channel", ev.Channel, "caller", ev.Caller, "called", ev.Called)
			hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := core.Hangup(hctx, ev.Channel, mediacore.CauseUnavailable); err != nil {
				log.Warn("refuse inbound call", "channel", ev.Channel, "err", err)
			}
		case mediacore.EventEndpointRegistered, mediacore.EventEndpointUnregistered:
			log.Info(ev.Type.String(), "endpoint", ev.Endpoint, "contact", ev.Contact)
		case mediacore.EventBackendDown:
			if ev.Err == "" {
				log.Info("media backend stopped") // a clean shutdown
				return
			}
			log.Error("media backend down", "err", ev.Err)
		}
	}
	core, err = mediacore.New(backend, mediacore.Options{Logger: log, Registerer: reg, Handler: handle})
	if err != nil {
		return nil, err
	}
	if err := core.Start(ctx); err != nil {
		return nil, fmt.Errorf("start native media core on %s: %w", cfg.SIPAddr, err)
	}
	return core, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"hotline/acd"
	"hotline/controller"
	"hotline/controller/store"
	"hotline/mediacore"

	// The native media core registers itself as backend "native".
	_ "hotline/mediacore/native"
	// The FreeSWITCH and Asterisk adapters register "freeswitch" and
	// "asterisk", so media_nodes can list them beside native ones.
	_ "hotline/adapters/asterisk"
	_ "hotline/adapters/freeswitch"
)

// defaultNodeName names the one media node made from the flags.
const defaultNodeName = "native"

// mediaNodes returns the configured media nodes, or the default one.
func mediaNodes(cfg config) []mediaNode {
	if len(cfg.MediaNodes) > 0 {
		return cfg.MediaNodes
	}
	return []mediaNode{{Name: defaultNodeName, Kind: cfg.MediaBackend}}
}

// nativeDefaults is the configuration section a native node gets from the
// top-level keys, before its own section is applied over it.
func nativeDefaults(cfg config) (*yaml.Node, error) {
	var n yaml.Node
	err := n.Encode(map[string]any{
		"listen":            cfg.SIPAddr,
		"rtp_port_min":      cfg.RTPPortMin,
		"rtp_port_max":      cfg.RTPPortMax,
		"media_timeout":     cfg.MediaTimeout.String(),
		"media_dir":         filepath.Join(cfg.DataDir, "media"),
		"realm":             cfg.SIPRealm,
		"digest_algorithms": strings.Split(cfg.SIPDigestAlgorithms, ","),
	})
	return &n, err
}

// decoder returns the FactoryOptions.Decode of node: for a native node the
// defaults from the top-level keys, then the node's own section.
func decoder(cfg config, node mediaNode) (func(v any) error, error) {
	var layers []*yaml.Node
	if node.Kind == "native" {
		d, err := nativeDefaults(cfg)
		if err != nil {
			return nil, err
		}
		layers = append(layers, d)
	}
	if node.Config.Kind != 0 {
		layers = append(layers, &node.Config)
	}
	return func(v any) error {
		for _, l := range layers {
			if err := l.Decode(v); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// callPath forwards the media core's and the ACD's events to the call
// path once it exists: the media core and the controller are built before
// the CallCenter that needs them. Until then (and if the daemon runs
// without one) an inbound call is answered 480 Temporarily Unavailable,
// which every phone and carrier understands, instead of ringing
// unanswered.
type callPath struct {
	log  *slog.Logger
	core atomic.Pointer[mediacore.Core]
	cc   atomic.Pointer[controller.CallCenter]
}

func (p *callPath) handleMedia(ev mediacore.Event) {
	if cc := p.cc.Load(); cc != nil {
		cc.HandleMedia(ev)
		return
	}
	switch ev.Type {
	case mediacore.EventChannelCreated:
		core := p.core.Load()
		if ev.Direction != mediacore.Inbound || core == nil {
			return
		}
		p.log.Info("inbound call refused: the call path is not running",
			"channel", ev.Channel, "caller", ev.Caller, "called", ev.Called)
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := core.Hangup(hctx, ev.Channel, mediacore.CauseUnavailable); err != nil {
			p.log.Warn("refuse inbound call", "channel", ev.Channel, "err", err)
		}
	case mediacore.EventEndpointRegistered, mediacore.EventEndpointUnregistered:
		p.log.Info(ev.Type.String(), "endpoint", ev.Endpoint, "contact", ev.Contact)
	case mediacore.EventBackendDown:
		if ev.Err == "" {
			p.log.Info("media backend stopped", "node", ev.Node) // a clean shutdown
			return
		}
		p.log.Error("media backend down", "node", ev.Node, "err", ev.Err)
	}
}

func (p *callPath) handleACD(evs []acd.Event) {
	if cc := p.cc.Load(); cc != nil {
		cc.HandleACD(evs)
	}
}

// startMedia builds the media nodes through the backend registry and
// starts one Core over all of them (mediacore.NewNodes): every node's
// registrar authenticates agent phones against the HA1s in the store, and
// starts with the stored trunks (the controller hands it later changes
// through Core.SetTrunks). Events go to path.
func startMedia(ctx context.Context, cfg config, st store.Store, logger *slog.Logger, reg prometheus.Registerer, path *callPath) (*mediacore.Core, error) {
	log := logger.With("component", "media")
	nodes := mediaNodes(cfg)
	if len(nodes) > maxMediaNodes {
		return nil, fmt.Errorf("%w: media_nodes: %d nodes, at most %d", errConfig, len(nodes), maxMediaNodes)
	}
	trunks, err := controller.StoredTrunks(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("read the stored trunks: %w", err)
	}
	var built []mediacore.Node
	closeAll := func() error {
		var errs []error
		for _, n := range built {
			errs = append(errs, n.Backend.Close())
		}
		return errors.Join(errs...)
	}
	for _, node := range nodes {
		decode, err := decoder(cfg, node)
		if err != nil {
			return nil, errors.Join(err, closeAll())
		}
		backend, err := mediacore.Open(node.Kind, mediacore.FactoryOptions{
			Logger:     log.With("node", node.Name),
			Decode:     decode,
			Node:       node.Name,
			Registerer: reg,
			Services: mediacore.Services{
				Credentials: controller.AgentCredentials{Agents: st.Agents()},
				Trunks:      trunks,
			},
		})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("media node %q (%s): %w", node.Name, node.Kind, err), closeAll())
		}
		built = append(built, mediacore.Node{Name: node.Name, Backend: backend})
	}
	path.log = log
	core, err := mediacore.NewNodes(built, mediacore.Options{Logger: log, Registerer: reg, Handler: path.handleMedia,
		TTS: coreTTS(cfg, log)})
	if err != nil {
		return nil, errors.Join(err, closeAll())
	}
	path.core.Store(core)
	if err := core.Start(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("start the media nodes: %w", err), core.Close())
	}
	return core, nil
}

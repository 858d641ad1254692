package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/mediacore"

	// The native media core registers itself as backend "native".
	_ "hotline/mediacore/native"
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

// startMedia builds the media node(s) through the backend registry and
// starts the Core over them: every node's registrar authenticates agent
// phones against the HA1s in the store, and starts with the stored trunks
// (the controller hands it later changes through Core.SetTrunks).
//
// Until the controller routes calls, an inbound call is answered 480
// Temporarily Unavailable, which every phone and carrier understands,
// instead of ringing unanswered.
func startMedia(ctx context.Context, cfg config, st store.Store, logger *slog.Logger, reg prometheus.Registerer) (*mediacore.Core, error) {
	log := logger.With("component", "media")
	nodes := mediaNodes(cfg)
	if len(nodes) > maxMediaNodes {
		return nil, fmt.Errorf("%w: media_nodes: %d nodes, at most %d", errConfig, len(nodes), maxMediaNodes)
	}
	trunks, err := controller.StoredTrunks(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("read the stored trunks: %w", err)
	}
	node := nodes[0]
	decode, err := decoder(cfg, node)
	if err != nil {
		return nil, err
	}
	backend, err := mediacore.Open(node.Kind, mediacore.FactoryOptions{
		Logger: log.With("node", node.Name),
		Decode: decode,
		Node:   node.Name,
		Services: mediacore.Services{
			Credentials: controller.AgentCredentials{Agents: st.Agents()},
			Trunks:      trunks,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("media node %q (%s): %w", node.Name, node.Kind, err)
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
		return nil, errors.Join(err, backend.Close())
	}
	if err := core.Start(ctx); err != nil {
		return nil, fmt.Errorf("start media node %q (%s): %w", node.Name, node.Kind, err)
	}
	return core, nil
}

package mediacore

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Core's Prometheus collectors.
type metrics struct {
	commands   *prometheus.CounterVec   // op, result
	latency    *prometheus.HistogramVec // op
	events     *prometheus.CounterVec   // type
	hangups    *prometheus.CounterVec   // cause
	queued     prometheus.Gauge         // events accepted but not yet handled
	channels   prometheus.Gauge         // channels created and not hung up
	lateEvents prometheus.Counter       // events for a channel after its Hangup
	nodeUp     *prometheus.GaugeVec     // node, backend: 1 up, 0 down
	nodeChans  *prometheus.GaugeVec     // node: live channels
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "media", Name: "commands_total",
			Help: "Media core commands by operation and result (ok or the error class).",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "media", Name: "command_seconds",
			Help:    "Media core command latency by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"op"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "media", Name: "events_total",
			Help: "Media core events received from the backend by type.",
		}, []string{"type"}),
		hangups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "media", Name: "hangups_total",
			Help: "Channels ended by cause.",
		}, []string{"cause"}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "media", Name: "events_queued",
			Help: "Events accepted from the backend and not yet handled by the consumer.",
		}),
		channels: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "media", Name: "channels",
			Help: "Channels created and not yet hung up.",
		}),
		lateEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "media", Name: "events_after_hangup_total",
			Help: "Events that arrived for a channel after its Hangup (delivered, in order).",
		}),
		nodeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "media", Name: "node_up",
			Help: "1 while a media node is up (started, no BackendDown since its last BackendUp), else 0.",
		}, []string{"node", "backend"}),
		nodeChans: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "media", Name: "node_channels",
			Help: "Live channels per media node, as the Core counts them (placement's load).",
		}, []string{"node"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.commands, m.latency, m.events, m.hangups, m.queued, m.channels, m.lateEvents, m.nodeUp, m.nodeChans} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// resultLabel classifies an error for the commands_total counter with a
// bounded label set.
func resultLabel(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, ErrNoSuchChannel), errors.Is(err, ErrNoSuchBridge),
		errors.Is(err, ErrNoSuchPlayback), errors.Is(err, ErrNoSuchRecording):
		return "not_found"
	case errors.Is(err, ErrInvalidEndpoint), errors.Is(err, ErrInvalidArgument):
		return "invalid"
	case errors.Is(err, ErrBackendUnavailable), errors.Is(err, ErrClosed):
		return "unavailable"
	case errors.Is(err, ErrNotSupported):
		return "not_supported"
	case errors.Is(err, ErrNotFound):
		return "endpoint_not_found"
	case errors.Is(err, ErrChannelState):
		return "state"
	}
	return "error"
}

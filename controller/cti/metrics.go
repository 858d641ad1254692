package cti

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	published   prometheus.Counter
	lagged      prometheus.Counter
	gaps        prometheus.Counter
	subscribers prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "cti", Name: "events_published_total",
			Help: "CTI events published."}),
		lagged: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "cti", Name: "subscriber_lagged_total",
			Help: "Times a subscriber's buffer was full and it fell back to catching up from retention."}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "cti", Name: "gaps_total",
			Help: "Gap events sent (events lost to a subscriber: out of retention, or a since from another run)."}),
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "cti", Name: "subscribers",
			Help: "Open subscriptions."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.published, m.lagged, m.gaps, m.subscribers} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

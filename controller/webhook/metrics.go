package webhook

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec // endpoint, result
	attempts   *prometheus.CounterVec // endpoint, outcome
}

func newMetrics(reg prometheus.Registerer, d *Dispatcher) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "webhook", Name: "deliveries_total",
			Help: "Webhook events by endpoint and result: delivered, failed (gave up), dropped (queue full or closing)."},
			[]string{"endpoint", "result"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "webhook", Name: "attempts_total",
			Help: "Webhook HTTP attempts by endpoint and outcome (2xx, 4xx, 5xx, error)."},
			[]string{"endpoint", "outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "webhook", Name: "queued",
		Help: "Events waiting in the endpoint queues."}, func() float64 {
		n := 0
		for _, ep := range d.eps {
			n += len(ep.queue)
		}
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.deliveries, m.attempts, queued} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

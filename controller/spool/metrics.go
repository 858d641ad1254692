package spool

import "github.com/prometheus/client_golang/prometheus"

type spoolMetrics struct {
	appended    prometheus.Counter
	bytes       prometheus.Counter
	fsyncs      prometheus.Counter
	writeErrors prometheus.Counter
	truncated   prometheus.Counter
	pending     prometheus.Gauge
}

func newSpoolMetrics(reg prometheus.Registerer) (*spoolMetrics, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "spool", Name: name, Help: help})
	}
	m := &spoolMetrics{
		appended:    c("records_appended_total", "Records appended to the spool."),
		bytes:       c("bytes_appended_total", "Bytes (frames) appended to the spool."),
		fsyncs:      c("fsyncs_total", "fsync calls; records per fsync shows the group commit."),
		writeErrors: c("write_errors_total", "Failed writes (nothing appended)."),
		truncated:   c("truncated_bytes_total", "Bytes cut from torn or corrupt segment tails at Open."),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "spool", Name: "records_unacked",
			Help: "Records in the spool not yet acknowledged."}),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.appended, m.bytes, m.fsyncs, m.writeErrors, m.truncated, m.pending} {
			if err := reg.Register(col); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

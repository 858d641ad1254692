package spool

import "github.com/prometheus/client_golang/prometheus"

type writerMetrics struct {
	submitted  prometheus.Counter
	overloaded prometheus.Counter
	written    prometheus.Counter
	sinkErrors prometheus.Counter
}

func newWriterMetrics(reg prometheus.Registerer) (*writerMetrics, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "spool", Name: name, Help: help})
	}
	m := &writerMetrics{
		submitted:  c("records_submitted_total", "Records accepted by Writer.Submit."),
		overloaded: c("records_refused_total", "Records refused by Writer.Submit because MaxPending records waited for the disk."),
		written:    c("records_written_total", "Records written to the sink (a batch written twice counts twice)."),
		sinkErrors: c("sink_errors_total", "Failed sink writes (each is retried with backoff)."),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.submitted, m.overloaded, m.written, m.sinkErrors} {
			if err := reg.Register(col); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

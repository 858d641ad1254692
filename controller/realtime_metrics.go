package controller

import (
	"github.com/prometheus/client_golang/prometheus"
)

// realtimeCollector exports the figures of the latest real-time push as
// per-queue gauges, so /metrics, the CTI stream and the REST route show
// the same numbers (at most one push period old). Figures without a
// value (a service level with nothing offered) are left out rather than
// exported as 0 or NaN.
type realtimeCollector struct{ r *Realtime }

var (
	rtWaiting = prometheus.NewDesc("hotline_queue_waiting_calls",
		"Callers on the line in the queue not yet answered (in line or ringing an agent).", []string{"queue"}, nil)
	rtRinging = prometheus.NewDesc("hotline_queue_ringing_calls",
		"Callers of the queue whose offer is ringing an agent.", []string{"queue"}, nil)
	rtCallbacks = prometheus.NewDesc("hotline_queue_callbacks_waiting",
		"Callback requests keeping a place in the queue.", []string{"queue"}, nil)
	rtLongest = prometheus.NewDesc("hotline_queue_longest_wait_seconds",
		"Current wait of the queue's longest-waiting caller (0 when nobody waits).", []string{"queue"}, nil)
	rtAgents = prometheus.NewDesc("hotline_queue_agents",
		"The queue's members by state (logged-out, ready, not-ready, reserved, busy, wrap-up).", []string{"queue", "state"}, nil)
	rtOffered = prometheus.NewDesc("hotline_queue_offered_today",
		"Queue segments offered today (docs/METRICS.md; the node's time zone).", []string{"queue"}, nil)
	rtAnswered = prometheus.NewDesc("hotline_queue_answered_today",
		"Queue segments answered today.", []string{"queue"}, nil)
	rtAbandoned = prometheus.NewDesc("hotline_queue_abandoned_today",
		"Queue segments abandoned today (short abandons excluded when configured).", []string{"queue"}, nil)
	rtSL = prometheus.NewDesc("hotline_queue_service_level_today",
		"Service level today, 0-1 (absent when nothing was offered).", []string{"queue"}, nil)
	rtASA = prometheus.NewDesc("hotline_queue_asa_today_seconds",
		"Average speed of answer today (absent when nothing was answered).", []string{"queue"}, nil)
	rtSLWindow = prometheus.NewDesc("hotline_queue_service_level_window",
		"Service level over the sliding window (default 15 minutes), 0-1 (absent when nothing was offered).", []string{"queue"}, nil)
	rtAbandonedWindow = prometheus.NewDesc("hotline_queue_abandoned_window",
		"Queue segments abandoned over the sliding window.", []string{"queue"}, nil)
	rtAnsweredWindow = prometheus.NewDesc("hotline_queue_answered_window",
		"Queue segments answered over the sliding window.", []string{"queue"}, nil)
)

func (realtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{rtWaiting, rtRinging, rtCallbacks, rtLongest, rtAgents, rtOffered, rtAnswered,
		rtAbandoned, rtSL, rtASA, rtSLWindow, rtAbandonedWindow, rtAnsweredWindow} {
		ch <- d
	}
}

func (c realtimeCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.r.Last()
	if !ok {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	opt := func(d *prometheus.Desc, v *float64, q string) {
		if v != nil {
			gauge(d, *v, q)
		}
	}
	for _, q := range st.Queues {
		id := q.QueueID
		gauge(rtWaiting, float64(q.Waiting), id)
		gauge(rtRinging, float64(q.Ringing), id)
		gauge(rtCallbacks, float64(q.Callbacks), id)
		gauge(rtLongest, q.LongestWait, id)
		for _, s := range agentStateNames {
			gauge(rtAgents, float64(q.Agents[s]), id, s)
		}
		gauge(rtOffered, float64(q.Today.Offered), id)
		gauge(rtAnswered, float64(q.Today.Answered), id)
		gauge(rtAbandoned, float64(q.Today.Abandoned), id)
		opt(rtSL, q.Today.ServiceLevel, id)
		opt(rtASA, q.Today.ASA, id)
		opt(rtSLWindow, q.Window.ServiceLevel, id)
		gauge(rtAbandonedWindow, float64(q.Window.Abandoned), id)
		gauge(rtAnsweredWindow, float64(q.Window.Answered), id)
	}
}

package mediacore

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value reads a counter or gauge (testutil would pull a module the build does
// not otherwise need).
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	t.Fatal("not a counter or gauge")
	return 0
}

func gatheredFamilies(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range fams {
		out[f.GetName()] = true
	}
	return out
}

func TestNodeMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFake()
	c, err := New(f, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if got := value(t, c.m.nodeUp.WithLabelValues("fake", "fake")); got != 0 {
		t.Fatalf("node_up before Start = %v", got)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f.emit(Event{Type: EventChannelCreated, Channel: "c1"})
	f.emit(Event{Type: EventChannelCreated, Channel: "c2"})
	f.emit(Event{Type: EventHangup, Channel: "c1"})
	if got := value(t, c.m.nodeChans.WithLabelValues("fake")); got != 1 {
		t.Fatalf("node_channels = %v, want 1", got)
	}
	f.emit(Event{Type: EventBackendDown})
	if got := value(t, c.m.nodeUp.WithLabelValues("fake", "fake")); got != 0 {
		t.Fatalf("node_up after BackendDown = %v", got)
	}
	if fams := gatheredFamilies(t, reg); !fams["hotline_media_node_up"] || !fams["hotline_media_node_channels"] {
		t.Fatalf("families %v", fams)
	}
}

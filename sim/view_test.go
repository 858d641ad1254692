package sim

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// plainRenderer renders without escape codes, as on a dumb terminal.
func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

func ptr(f float64) *float64 { return &f }

func TestRenderView(t *testing.T) {
	base := Snapshot{Elapsed: 30 * time.Second, Duration: 2 * time.Minute, Placed: 15, Total: 60,
		Waiting: 2, Talking: 9, Abandoned: 1, Ended: 3, CallsPerSecond: 0.5}
	withQueues := base
	withQueues.Realtime = true
	withQueues.Queues = []QueueSnapshot{
		{Name: "sim", Waiting: 2, LongestWait: 7.25, ServiceLevel: ptr(0.875), Offered: 16, Answered: 14, Abandoned: 1,
			Agents: map[string]int{"busy": 9, "wrap-up": 2, "ready": 0, "on-break": 1}},
		{Name: "a-very-long-queue-name", Agents: map[string]int{}},
	}
	withQueues.AgentStates = map[string]int{"busy": 9, "wrap-up": 2, "logged-out": 6}
	load := withQueues
	load.Failed = 3
	load.SetupP50, load.SetupP95 = 2400*time.Microsecond, 31*time.Millisecond
	load.Process = &ProcessSample{RSS: 64 << 20, Goroutines: 412}
	unreachable := base
	unreachable.RealtimeErr = "GET /api/v1/stats/realtime: status 503: " + strings.Repeat("x", 100)
	over := base
	over.Elapsed = 3 * time.Minute

	tests := []struct {
		name      string
		snap      Snapshot
		want, not []string
	}{
		{"before the first figures", base, []string{
			"[########......................]  25%    30s of 120s  placed 15 of 60 calls  0.50 calls/s",
			"callers: waiting 2  talking 9  abandoned 1  ended 3  failed 0",
			"Hotline real-time figures: waiting for the first figures",
		}, []string{"INVITE to answer", "daemon:", "queue "}},
		{"queues and agents", withQueues, []string{
			"queue      waiting   longest SL today  offered answered abandoned  agents",
			"sim              2      7.2s    87.5%       16       14         1  busy 9  wrap-up 2  on-break 1",
			"a-very-lo…       0      0.0s        -        0        0         0  none",
			"agents: busy 9  wrap-up 2  logged-out 6",
		}, []string{"ready 0", "waiting for the first figures"}},
		{"load mode", load, []string{
			"failed 3", "INVITE to answer: p50 2ms  p95 31ms", "daemon: rss 64.0 MiB  goroutines 412",
		}, nil},
		{"real-time figures unreachable", unreachable, []string{
			"Hotline real-time figures: GET /api/v1/stats/realtime: status 503: " + strings.Repeat("x", 19) + "…",
		}, []string{strings.Repeat("x", 60)}},
		{"calls still ending after the arrivals", over, []string{"[##############################] 100%   180s of 120s"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RenderView(tc.snap, plainRenderer())
			if strings.Contains(got, "\x1b[") {
				t.Errorf("escape codes with the Ascii profile:\n%q", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("view lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("view has %q:\n%s", n, got)
				}
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	s := Snapshot{Elapsed: 12 * time.Second, Duration: time.Minute, Placed: 7, Total: 30, Waiting: 1, Talking: 4,
		Abandoned: 1, Ended: 1, Failed: 2, CallsPerSecond: 0.6}
	tests := []struct {
		name string
		snap func(Snapshot) Snapshot
		want string
	}{
		{"counts only", func(s Snapshot) Snapshot { return s },
			"sim   12s/60s  placed 7/30  waiting 1  talking 4  abandoned 1  ended 1  failed 2  0.60 calls/s"},
		{"load figures", func(s Snapshot) Snapshot {
			s.SetupP50, s.SetupP95 = 3*time.Millisecond, 40*time.Millisecond
			s.Process = &ProcessSample{RSS: 100 << 20, Goroutines: 80}
			return s
		}, "sim   12s/60s  placed 7/30  waiting 1  talking 4  abandoned 1  ended 1  failed 2  0.60 calls/s  answer p50 3ms p95 40ms  rss 100.0 MiB  goroutines 80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ProgressLine(tc.snap(s)); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    map[string]float64
		wantErr error
	}{
		{"process and go collectors", `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 160
go_gc_duration_seconds{quantile="0"} 2.1e-05
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 6.547456e+07
`, map[string]float64{metricGoroutines: 160, metricRSS: 65474560}, nil},
		{"with a timestamp", "go_goroutines 12 1700000000000\n", map[string]float64{metricGoroutines: 12}, nil},
		{"labeled samples are not the process figure", `go_goroutines{node="a"} 5` + "\n", map[string]float64{}, nil},
		{"a prefix is another metric", "go_goroutines_total 9\nprocess_resident_memory_bytes_max 1\n", map[string]float64{}, nil},
		{"bad value", "go_goroutines many\n", nil, ErrTarget},
		{"empty", "", map[string]float64{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMetrics(strings.NewReader(tc.text), metricRSS, metricGoroutines)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add("# TYPE go_goroutines gauge\ngo_goroutines 160\nprocess_resident_memory_bytes 6.5e+07\n")
	f.Add("go_goroutines{a=\"b\"} 1\ngo_goroutines NaN 17\n")
	f.Add("process_resident_memory_bytes +Inf\n\n#\n")
	f.Fuzz(func(t *testing.T, text string) {
		got, err := parseMetrics(strings.NewReader(text), metricRSS, metricGoroutines)
		if err != nil {
			if !errors.Is(err, ErrTarget) {
				t.Fatalf("error %v is not ErrTarget", err)
			}
			return
		}
		for k := range got {
			if k != metricRSS && k != metricGoroutines {
				t.Fatalf("unasked metric %q", k)
			}
		}
	})
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one", ms(7), 0.95, 7 * time.Millisecond},
		{"median of four is the second (nearest rank)", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p95 of twenty is the nineteenth", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 0.95, 19 * time.Millisecond},
		{"p100 is the largest", ms(1, 5, 9), 1, 9 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWriteLoadSummary(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    LoadSummary
		want string
	}{
		{"with process figures", LoadSummary{Placed: 600, Failed: 1, Elapsed: 62 * time.Second, CallsPerSecond: 10,
			SetupP50: 2 * time.Millisecond, SetupP95: 9 * time.Millisecond, Process: []ProcessSample{
				{At: t0, RSS: 40 << 20, Goroutines: 50}, {At: t0.Add(time.Second), RSS: 90 << 20, Goroutines: 700},
				{At: t0.Add(2 * time.Second), RSS: 60 << 20, Goroutines: 52}}},
			"load: 600 calls placed in 1m2s (10.00 calls/s achieved), 1 failed\n" +
				"load: INVITE to answer p50 2ms  p95 9ms\n" +
				"load: daemon rss start 40.0 MiB  peak 90.0 MiB  end 60.0 MiB; goroutines start 50  peak 700  end 52\n"},
		{"no /metrics", LoadSummary{Placed: 1, Elapsed: time.Second, CallsPerSecond: 1},
			"load: 1 calls placed in 1s (1.00 calls/s achieved), 0 failed\n" +
				"load: INVITE to answer p50 0s  p95 0s\n" +
				"load: the daemon's /metrics did not answer: no memory or goroutine figures\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteLoadSummary(&b, tc.s); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

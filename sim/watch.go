package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hotline/controller/reports"
)

// Process figures the load mode scrapes from /metrics (the Prometheus
// Go and process collectors the daemon registers).
const (
	metricRSS        = "process_resident_memory_bytes"
	metricGoroutines = "go_goroutines"
)

// parseMetrics reads the Prometheus text exposition format (version
// 0.0.4) and returns the value of each unlabeled sample named in names.
// Comments, labeled samples and other metrics are skipped; a named
// sample whose value does not parse is an error.
func parseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// name value [timestamp]; a label set would follow the name in braces.
		fields := strings.Fields(line)
		if len(fields) < 2 || !slices.Contains(names, fields[0]) {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%w: /metrics: %s: %w", ErrTarget, fields[0], err)
		}
		out[fields[0]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: /metrics: %w", ErrTarget, err)
	}
	return out, nil
}

// scrapeProcess reads the daemon's resident memory and goroutines from
// its /metrics route.
func scrapeProcess(ctx context.Context, c *client) (ProcessSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return ProcessSample{}, fmt.Errorf("%w: %w", ErrTarget, err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return ProcessSample{}, fmt.Errorf("%w: GET /metrics: %w", ErrTarget, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return ProcessSample{}, fmt.Errorf("%w: GET /metrics: status %d", ErrTarget, res.StatusCode)
	}
	m, err := parseMetrics(res.Body, metricRSS, metricGoroutines)
	if err != nil {
		return ProcessSample{}, err
	}
	return ProcessSample{At: time.Now(), RSS: m[metricRSS], Goroutines: m[metricGoroutines]}, nil
}

// realtimeStatus is the part of GET /api/v1/stats/realtime the live view
// shows.
type realtimeStatus struct {
	Queues []struct {
		Name        string               `json:"name"`
		Waiting     int                  `json:"waiting"`
		LongestWait float64              `json:"longest_wait"`
		Agents      map[string]int       `json:"agents"`
		Today       reports.QueueFigures `json:"today"`
		Window      reports.QueueFigures `json:"window"`
	} `json:"queues"`
	Agents []struct {
		State string `json:"state"`
	} `json:"agents"`
}

// fillRealtime reads Hotline's real-time figures into s.
func fillRealtime(ctx context.Context, c *client, s *Snapshot) {
	var st realtimeStatus
	if err := c.do(ctx, http.MethodGet, "/api/v1/stats/realtime", nil, &st); err != nil {
		s.RealtimeErr = err.Error()
		return
	}
	s.Realtime = true
	for _, q := range st.Queues {
		s.Queues = append(s.Queues, QueueSnapshot{Name: q.Name, Waiting: q.Waiting, LongestWait: q.LongestWait,
			ServiceLevel: q.Today.ServiceLevel, Offered: q.Today.Offered, Answered: q.Today.Answered, Abandoned: q.Today.Abandoned,
			Agents: q.Agents, WindowServiceLevel: q.Window.ServiceLevel, WindowOffered: q.Window.Offered, WindowAnswered: q.Window.Answered})
	}
	s.AgentStates = map[string]int{}
	for _, a := range st.Agents {
		s.AgentStates[a.State]++
	}
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// LoadSummary is the load mode's account of a run.
type LoadSummary struct {
	Placed, Failed int
	// Elapsed is the time from the first arrival to the last call's end.
	Elapsed time.Duration
	// CallsPerSecond is the achieved arrival rate: placed calls over the
	// arrival period.
	CallsPerSecond     float64
	SetupP50, SetupP95 time.Duration
	// Process is the daemon's resident memory and goroutines over time,
	// one sample per snapshot (absent when /metrics did not answer).
	Process []ProcessSample
}

// WriteLoadSummary prints the load figures: rate, failures, the
// INVITE-to-answer percentiles, and the daemon's memory and goroutines at
// start, peak and end.
func WriteLoadSummary(w io.Writer, s LoadSummary) error {
	fmt.Fprintf(w, "load: %d calls placed in %s (%.2f calls/s achieved), %d failed\n",
		s.Placed, s.Elapsed.Round(time.Second), s.CallsPerSecond, s.Failed)
	fmt.Fprintf(w, "load: INVITE to answer p50 %s  p95 %s\n", s.SetupP50.Round(time.Millisecond), s.SetupP95.Round(time.Millisecond))
	if len(s.Process) == 0 {
		_, err := fmt.Fprintln(w, "load: the daemon's /metrics did not answer: no memory or goroutine figures")
		return err
	}
	first, last := s.Process[0], s.Process[len(s.Process)-1]
	var peakRSS, peakG float64
	for _, p := range s.Process {
		peakRSS, peakG = max(peakRSS, p.RSS), max(peakG, p.Goroutines)
	}
	_, err := fmt.Fprintf(w, "load: daemon rss start %s  peak %s  end %s; goroutines start %.0f  peak %.0f  end %.0f\n",
		formatMiB(first.RSS), formatMiB(peakRSS), formatMiB(last.RSS), first.Goroutines, peakG, last.Goroutines)
	return err
}

// watcher takes a snapshot of the run every second: the ledger's counts,
// and as configured Hotline's real-time figures and the daemon's process
// figures. It hands each to cfg.OnSnapshot, or prints it as a line to
// cfg.Progress every cfg.ProgressEvery.
type watcher struct {
	cfg   LiveConfig
	c     *client
	l     *ledger
	start time.Time
	total int

	mu      sync.Mutex // guards process
	process []ProcessSample
	// lastRealtime is the last snapshot with real-time figures: a read
	// that times out on a busy daemon shows them again rather than an
	// error (only the snapshot loop touches it).
	lastRealtime *Snapshot
}

func (w *watcher) snapshot(ctx context.Context) Snapshot {
	s := Snapshot{Elapsed: time.Since(w.start), Duration: w.cfg.Traffic.Duration, Total: w.total}
	w.l.mu.Lock()
	s.Placed, s.Waiting, s.Talking, s.Abandoned, s.Ended, s.Failed = w.l.placed, w.l.waiting, w.l.talking, w.l.abandoned, w.l.done, w.l.failed
	setup := slices.Clone(w.l.setup)
	w.l.mu.Unlock()
	slices.Sort(setup)
	s.SetupP50, s.SetupP95 = percentile(setup, 0.5), percentile(setup, 0.95)
	// A slow daemon must not stall the snapshots: each read gets a second.
	if w.cfg.Watch {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		fillRealtime(rctx, w.c, &s)
		cancel()
		switch {
		case s.Realtime:
			last := s
			w.lastRealtime = &last
		case w.lastRealtime != nil:
			s.Realtime, s.Queues, s.AgentStates = true, w.lastRealtime.Queues, w.lastRealtime.AgentStates
		}
	}
	if w.cfg.Load {
		w.sampleProcess(ctx, &s)
	}
	return s
}

func (w *watcher) sampleProcess(ctx context.Context, s *Snapshot) {
	mctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	p, err := scrapeProcess(mctx, w.c)
	if err != nil {
		return
	}
	if s != nil {
		s.Process = &p
	}
	w.mu.Lock()
	w.process = append(w.process, p)
	w.mu.Unlock()
}

// rateWindow is how far back a snapshot's calls per second look.
const rateWindow = 5 * time.Second

// run takes snapshots until ctx ends or stop is closed.
func (w *watcher) run(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	every := w.cfg.ProgressEvery
	if every <= 0 {
		every = rateWindow
	}
	type mark struct {
		at     time.Time
		placed int
	}
	marks := []mark{{w.start, 0}}
	lastLine := w.start
	if w.cfg.Load {
		w.sampleProcess(ctx, nil) // the daemon before the first call
	}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := w.snapshot(ctx)
		now := time.Now()
		for len(marks) > 1 && now.Sub(marks[1].at) >= rateWindow {
			marks = marks[1:]
		}
		if dt := now.Sub(marks[0].at).Seconds(); dt > 0 {
			s.CallsPerSecond = float64(s.Placed-marks[0].placed) / dt
		}
		marks = append(marks, mark{now, s.Placed})
		if w.cfg.OnSnapshot != nil {
			w.cfg.OnSnapshot(s)
		}
		if w.cfg.Progress != nil && now.Sub(lastLine) >= every-time.Second/2 {
			fmt.Fprintln(w.cfg.Progress, ProgressLine(s))
			lastLine = now
		}
	}
}

// summary is the load figures of the finished run.
func (w *watcher) summary(ctx context.Context, l *ledger, from, to time.Time) LoadSummary {
	if w.cfg.Load {
		w.sampleProcess(ctx, nil) // the daemon after the last call
	}
	l.mu.Lock()
	setup := slices.Clone(l.setup)
	s := LoadSummary{Placed: l.placed, Failed: l.failed, Elapsed: to.Sub(from)}
	l.mu.Unlock()
	slices.Sort(setup)
	s.SetupP50, s.SetupP95 = percentile(setup, 0.5), percentile(setup, 0.95)
	if d := w.cfg.Traffic.Duration.Seconds(); d > 0 {
		s.CallsPerSecond = float64(s.Placed) / d
	}
	w.mu.Lock()
	s.Process = slices.Clone(w.process)
	w.mu.Unlock()
	return s
}

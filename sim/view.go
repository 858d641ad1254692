package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
)

// Snapshot is what the simulator knows once a second while it runs: its
// own counters (the ledger), Hotline's real-time figures
// (GET /api/v1/stats/realtime) and, in load mode, the daemon's process
// figures scraped from /metrics. It is the input of the live view and of
// the plain progress lines; fields Hotline did not answer stay zero.
type Snapshot struct {
	Elapsed, Duration time.Duration
	// The simulator's own counts of the run's calls.
	Placed, Total, Waiting, Talking, Abandoned, Ended, Failed int
	// CallsPerSecond is the achieved arrival rate since the previous
	// snapshot (placed calls over wall-clock time).
	CallsPerSecond float64
	// SetupP50 and SetupP95 are INVITE-to-answer percentiles of the
	// calls placed so far: from the caller's INVITE to Hotline's 200 OK
	// (Hotline answers a call when it enters the queue).
	SetupP50, SetupP95 time.Duration
	// Queues are Hotline's real-time figures per queue, by name.
	Queues []QueueSnapshot
	// AgentStates counts every agent Hotline knows by state.
	AgentStates map[string]int
	// Realtime says whether the real-time figures were read; RealtimeErr
	// says why not.
	Realtime    bool
	RealtimeErr string
	// Process holds the daemon's figures when /metrics was scraped.
	Process *ProcessSample
	// Reconciling marks the last snapshot: every call has ended and the
	// simulator compares its ground truth with Hotline's reports.
	Reconciling bool
}

// QueueSnapshot is one queue's real-time figures (docs/METRICS.md).
type QueueSnapshot struct {
	Name        string
	Waiting     int
	LongestWait float64 // seconds, of the calls waiting now
	// ServiceLevel is today's, nil before the first offered call.
	ServiceLevel                  *float64
	Offered, Answered, Abandoned  int64
	Agents                        map[string]int
	WindowServiceLevel            *float64
	WindowOffered, WindowAnswered int64
}

// ProcessSample is the daemon's resident memory and goroutines at a time.
type ProcessSample struct {
	At         time.Time
	RSS        float64 // bytes: process_resident_memory_bytes
	Goroutines float64 // go_goroutines
}

// agentStateOrder lists agent states in the order the view shows them
// (controller/acd states); a state not listed comes after, by name.
var agentStateOrder = []string{"ready", "reserved", "busy", "wrap-up", "not-ready", "logged-out"}

// formatStates writes counts by state in agentStateOrder, skipping
// states nobody is in; "none" when everybody is nowhere.
func formatStates(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	rank := func(s string) int {
		if i := slices.Index(agentStateOrder, s); i >= 0 {
			return i
		}
		return len(agentStateOrder)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, n := range names {
		if m[n] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", n, m[n]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "  ")
}

func formatPercent(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *p*100)
}

func formatMiB(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// ProgressLine is the snapshot as one line of text, for logs (stdout is
// not a terminal) and for load mode.
func ProgressLine(s Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sim %4.0fs/%.0fs  placed %d/%d  waiting %d  talking %d  abandoned %d  ended %d  failed %d  %.2f calls/s",
		s.Elapsed.Seconds(), s.Duration.Seconds(), s.Placed, s.Total, s.Waiting, s.Talking, s.Abandoned, s.Ended, s.Failed, s.CallsPerSecond)
	if s.SetupP50 > 0 {
		fmt.Fprintf(&b, "  answer p50 %s p95 %s", s.SetupP50.Round(time.Millisecond), s.SetupP95.Round(time.Millisecond))
	}
	if s.Process != nil {
		fmt.Fprintf(&b, "  rss %s  goroutines %.0f", formatMiB(s.Process.RSS), s.Process.Goroutines)
	}
	return b.String()
}

// viewStyles are the live view's styles, from one renderer (its color
// profile decides whether they emit escape codes).
type viewStyles struct {
	title, head, dim, good, bad lipgloss.Style
	box                         lipgloss.Style
}

func newViewStyles(r *lipgloss.Renderer) viewStyles {
	return viewStyles{
		title: r.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		head:  r.NewStyle().Bold(true),
		dim:   r.NewStyle().Faint(true),
		good:  r.NewStyle().Foreground(lipgloss.Color("10")),
		bad:   r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		box:   r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
	}
}

// RenderView is the live terminal view of a snapshot: a progress line
// with a bar, one row per queue (waiting calls, longest wait, service
// level today, offered / answered / abandoned today, agents by state), all
// agents by state, and in load mode the daemon's memory and goroutines.
// It is a pure function of its input: r decides only the escape codes
// (a renderer with the Ascii profile gives plain text).
func RenderView(s Snapshot, r *lipgloss.Renderer) string {
	st := newViewStyles(r)
	var b strings.Builder
	b.WriteString(st.title.Render("Hotline demo: simulated call center") + "\n")
	frac := 0.0
	if s.Duration > 0 {
		frac = min(1, s.Elapsed.Seconds()/s.Duration.Seconds())
	}
	const barWidth = 30
	full := int(frac*barWidth + 0.5)
	fmt.Fprintf(&b, "%s %3.0f%%  %4.0fs of %.0fs  placed %d of %d calls  %.2f calls/s\n",
		"["+strings.Repeat("#", full)+strings.Repeat(".", barWidth-full)+"]", frac*100,
		s.Elapsed.Seconds(), s.Duration.Seconds(), s.Placed, s.Total, s.CallsPerSecond)
	failed := fmt.Sprintf("failed %d", s.Failed)
	if s.Failed > 0 {
		failed = st.bad.Render(failed)
	}
	fmt.Fprintf(&b, "callers: waiting %d  talking %d  abandoned %d  ended %d  %s\n",
		s.Waiting, s.Talking, s.Abandoned, s.Ended, failed)
	if s.SetupP50 > 0 {
		fmt.Fprintf(&b, "INVITE to answer: p50 %s  p95 %s\n", s.SetupP50.Round(time.Millisecond), s.SetupP95.Round(time.Millisecond))
	}
	b.WriteString("\n")
	if !s.Realtime {
		why := s.RealtimeErr
		if why == "" {
			why = "waiting for the first figures"
		}
		b.WriteString(st.dim.Render("Hotline real-time figures: "+truncate(why, 60)) + "\n")
	} else {
		fmt.Fprintf(&b, "%s\n", st.head.Render(fmt.Sprintf("%-10s %7s %9s %8s %8s %8s %9s  %s",
			"queue", "waiting", "longest", "SL today", "offered", "answered", "abandoned", "agents")))
		for _, q := range s.Queues {
			sl := formatPercent(q.ServiceLevel)
			slCell := fmt.Sprintf("%8s", sl)
			if q.ServiceLevel != nil {
				if *q.ServiceLevel >= 0.8 {
					slCell = st.good.Render(slCell)
				} else {
					slCell = st.bad.Render(slCell)
				}
			}
			fmt.Fprintf(&b, "%-10s %7d %8.1fs %s %8d %8d %9d  %s\n", truncate(q.Name, 10), q.Waiting, q.LongestWait,
				slCell, q.Offered, q.Answered, q.Abandoned, formatStates(q.Agents))
		}
		fmt.Fprintf(&b, "agents: %s\n", formatStates(s.AgentStates))
	}
	if p := s.Process; p != nil {
		fmt.Fprintf(&b, "daemon: rss %s  goroutines %.0f\n", formatMiB(p.RSS), p.Goroutines)
	}
	b.WriteString(st.dim.Render("q: stop the run early"))
	return st.box.Render(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

package sim

import (
	"fmt"
	"io"
	"slices"

	"hotline/controller/reports"
)

// Observed holds Hotline's figures by scope and name, as Expected.
type Observed map[string]map[string]float64

// Observe reads the figures of one queue's total row and the agents'
// total rows (reports over the same range with interval total).
func Observe(queue reports.Report, agents reports.Report) Observed {
	obs := Observed{}
	for _, r := range queue.Rows {
		obs["queue "+r.Key] = figureMap(r.Figures)
	}
	for _, r := range agents.Rows {
		obs["agent "+r.Key] = figureMap(r.Figures)
	}
	return obs
}

func figureMap(f reports.Figures) map[string]float64 {
	m := map[string]float64{
		"offered": float64(f.Offered), "answered": float64(f.Answered), "abandoned": float64(f.Abandoned),
		"short_abandoned": float64(f.ShortAbandoned), "answered_in_sl": float64(f.AnsweredInSL),
		"longest_wait": f.LongestWait,
	}
	for name, p := range map[string]*float64{"service_level": f.ServiceLevel, "asa": f.ASA, "avg_abandon_wait": f.AvgAbandonWait} {
		if p != nil {
			m[name] = *p
		}
	}
	return m
}

// Difference is one figure that does not reconcile.
type Difference struct {
	Scope, Figure string
	Want          Range
	Got           float64
	Missing       bool // Hotline reported no such figure
}

func (d Difference) String() string {
	if d.Missing {
		return fmt.Sprintf("%s %s: ground truth %s, Hotline reports nothing", d.Scope, d.Figure, d.Want)
	}
	return fmt.Sprintf("%s %s: ground truth %s, Hotline %g", d.Scope, d.Figure, d.Want, d.Got)
}

// ratioDenominator names, for a figure Hotline computes as a ratio, the
// count it divides by: Hotline reports the ratio as null when that count
// is zero (docs/METRICS.md).
var ratioDenominator = map[string]string{"avg_abandon_wait": "abandoned", "asa": "answered"}

// mayBeAbsent says whether Hotline may rightly report no figure n in
// scope s: n is a ratio whose denominator the ground truth allows to be
// zero. Every abandon of a run may lie within tolerance of the short
// abandon threshold S; Hotline may have counted them all as short, so
// abandoned may be 0 and the average abandon wait null.
func mayBeAbsent(exp Expected, s, n string) bool {
	den, ok := ratioDenominator[n]
	return ok && exp[s][den].Lo == 0
}

// Reconcile compares every expected figure with Hotline's, in scope and
// figure order, and returns the differences. A scope Hotline reports with
// calls that the ground truth does not know is a difference too.
func Reconcile(exp Expected, obs Observed) []Difference {
	var out []Difference
	scopes := make([]string, 0, len(exp))
	for s := range exp {
		scopes = append(scopes, s)
	}
	slices.Sort(scopes)
	for _, s := range scopes {
		names := make([]string, 0, len(exp[s]))
		for n := range exp[s] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			want := exp[s][n]
			got, ok := obs[s][n]
			switch {
			case !ok && mayBeAbsent(exp, s, n):
			case !ok:
				out = append(out, Difference{Scope: s, Figure: n, Want: want, Missing: true})
			case !want.Contains(got):
				out = append(out, Difference{Scope: s, Figure: n, Want: want, Got: got})
			}
		}
	}
	extra := make([]string, 0)
	for s, m := range obs {
		if _, ok := exp[s]; !ok && (m["offered"] > 0 || m["answered"] > 0) {
			extra = append(extra, s)
		}
	}
	slices.Sort(extra)
	for _, s := range extra {
		out = append(out, Difference{Scope: s, Figure: "answered", Want: exact(0), Got: obs[s]["answered"]})
	}
	return out
}

// WriteVerdict prints the differences (or that everything reconciles)
// and returns ErrMismatch when there is any.
func WriteVerdict(w io.Writer, calls int, diffs []Difference) error {
	if len(diffs) == 0 {
		_, err := fmt.Fprintf(w, "reconciliation: %d calls, every figure matches the ground truth\n", calls)
		return err
	}
	fmt.Fprintf(w, "reconciliation: %d calls, %d figures differ:\n", calls, len(diffs))
	for _, d := range diffs {
		fmt.Fprintf(w, "  %s\n", d)
	}
	return fmt.Errorf("%w: %d figures differ", ErrMismatch, len(diffs))
}

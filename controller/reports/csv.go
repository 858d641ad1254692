package reports

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"time"
)

var figureHeader = []string{"offered", "answered", "abandoned", "short_abandoned", "overflowed", "callbacks",
	"rejected", "failed", "voicemail", "self_service", "answered_in_sl", "service_level", "asa", "avg_abandon_wait",
	"longest_wait", "handled", "talk", "hold", "wrap_up", "aht", "transfers", "survey_score", "survey_count"}

var agentHeader = []string{"login", "ready", "not_ready", "reserved", "busy", "agent_wrap_up", "occupancy", "utilization"}

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func fopt(v *float64) string {
	if v == nil {
		return ""
	}
	return fnum(*v)
}

func inum(v int64) string { return strconv.FormatInt(v, 10) }

func (f *Figures) cells() []string {
	return []string{inum(f.Offered), inum(f.Answered), inum(f.Abandoned), inum(f.ShortAbandoned), inum(f.Overflowed),
		inum(f.Callbacks), inum(f.Rejected), inum(f.Failed), inum(f.Voicemail), inum(f.SelfService), inum(f.AnsweredInSL),
		fopt(f.ServiceLevel), fopt(f.ASA), fopt(f.AvgAbandonWait), fnum(f.LongestWait), inum(f.Handled), fnum(f.Talk),
		fnum(f.Hold), fnum(f.WrapUp), fopt(f.AHT), inum(f.Transfers), fopt(f.SurveyScore), inum(f.SurveyCount)}
}

// WriteCSV writes a report as CSV: a header, then one line per row.
// Times are RFC 3339 with the zone's offset; durations are seconds; an
// empty cell is a null figure. Agent reports add state time columns and
// one "not_ready:<reason>" column per reason present.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	var reasons []string
	agent := false
	for _, row := range r.Rows {
		if row.Agent != nil {
			agent = true
			for _, rs := range row.Agent.reasons() {
				if !slices.Contains(reasons, rs) {
					reasons = append(reasons, rs)
				}
			}
		}
	}
	slices.Sort(reasons)
	header := append([]string{"key", "start", "end"}, figureHeader...)
	if agent || r.Kind == "agents" {
		header = append(header, agentHeader...)
		for _, rs := range reasons {
			header = append(header, "not_ready:"+rs)
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range r.Rows {
		rec := append([]string{row.Key, row.Start.Format(time.RFC3339), row.End.Format(time.RFC3339)}, row.cells()...)
		if a := row.Agent; a != nil {
			rec = append(rec, fnum(a.Login), fnum(a.Ready), fnum(a.NotReady), fnum(a.Reserved), fnum(a.Busy),
				fnum(a.WrapUp), fopt(a.Occupancy), fopt(a.Utilization))
			for _, rs := range reasons {
				rec = append(rec, fnum(a.NotReadyBy[rs]))
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteAbandonedCSV writes abandoned-call detail as CSV.
func WriteAbandonedCSV(w io.Writer, calls []AbandonedCall) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"call_id", "queue", "entered_at", "abandoned_at", "wait_seconds", "short"}); err != nil {
		return err
	}
	for _, c := range calls {
		if err := cw.Write([]string{c.CallID, c.Queue, c.EnteredAt.Format(time.RFC3339Nano), c.AbandonedAt.Format(time.RFC3339Nano),
			fnum(c.WaitSeconds), strconv.FormatBool(c.Short)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteRankingCSV writes an agent ranking as CSV.
func WriteRankingCSV(w io.Writer, rs []RankedAgent) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"rank", "agent_id", "value"}, figureHeader...)); err != nil {
		return err
	}
	for _, r := range rs {
		if err := cw.Write(append([]string{strconv.Itoa(r.Rank), r.AgentID, fopt(r.Value)}, r.Figures.cells()...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

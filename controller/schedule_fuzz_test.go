package controller

import (
	"testing"
	"time"

	"hotline/controller/ivr"
	"hotline/controller/store"
)

// FuzzScheduleStateAt feeds the schedule evaluator arbitrary hours, dates
// and zones: it never panics, and a state is always one of the three.
func FuzzScheduleStateAt(f *testing.F) {
	for _, s := range [][4]string{
		{"09:00", "18:00", "Asia/Shanghai", "2026-12-07"},
		{"00:00", "24:00", "UTC", "2026-10-01"},
		{"9", "x", "", ""},
		{"24:30", "-1:00", "Mars/Olympus", "2026-13-40"},
		{"12:00", "11:00", "Europe/Paris", "2026-09-27"},
	} {
		f.Add(s[0], s[1], s[2], s[3], int64(0))
	}
	f.Fuzz(func(t *testing.T, start, end, zone, date string, at int64) {
		sc := store.Schedule{TimeZone: zone,
			Weekly:        []store.WeeklyHours{{Weekday: time.Monday, Start: start, End: end}},
			Holidays:      []store.Holiday{{Date: date}},
			ExtraWorkdays: []string{date}}
		st, _ := ScheduleStateAt(sc, time.Unix(at%(1<<40), 0))
		switch st {
		case ivr.StateOpen, ivr.StateClosed, ivr.StateHoliday:
		default:
			t.Fatalf("state %q", st)
		}
		if m, err := hhmm(start); err == nil && (m < 0 || m > 24*60) {
			t.Fatalf("hhmm(%q) = %d", start, m)
		}
	})
}

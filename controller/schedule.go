package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"hotline/controller/ivr"
	"hotline/controller/store"
)

// ScheduleStateAt evaluates a work calendar at t, in the schedule's time
// zone (UTC when empty): a listed holiday is ivr.StateHoliday whatever the
// hours; an extra workday (调休) is open with the weekly hours of
// ExtraWorkdayAs; otherwise the instant is open when it falls in one of
// the weekday's [Start, End) intervals, closed when not.
func ScheduleStateAt(s store.Schedule, t time.Time) (ivr.ScheduleState, error) {
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return ivr.StateClosed, fmt.Errorf("schedule %q: time zone: %w", s.ID, err)
		}
		loc = l
	}
	lt := t.In(loc)
	date := lt.Format(time.DateOnly)
	if slices.ContainsFunc(s.Holidays, func(h store.Holiday) bool { return h.Date == date }) {
		return ivr.StateHoliday, nil
	}
	wd := lt.Weekday()
	if slices.Contains(s.ExtraWorkdays, date) {
		wd = s.ExtraWorkdayAs
	}
	m := lt.Hour()*60 + lt.Minute()
	for _, w := range s.Weekly {
		if w.Weekday != wd {
			continue
		}
		from, err1 := hhmm(w.Start)
		to, err2 := hhmm(w.End)
		if err1 != nil || err2 != nil {
			return ivr.StateClosed, fmt.Errorf("schedule %q: bad hours %q-%q", s.ID, w.Start, w.End)
		}
		if m >= from && m < to {
			return ivr.StateOpen, nil
		}
	}
	return ivr.StateClosed, nil
}

// hhmm parses "HH:MM" into minutes after midnight ("24:00" is the end of
// the day).
func hhmm(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, fmt.Errorf("bad time %q", s)
	}
	hi, err := strconv.Atoi(h)
	if err != nil {
		return 0, err
	}
	mi, err := strconv.Atoi(m)
	if err != nil {
		return 0, err
	}
	if hi < 0 || hi > 24 || mi < 0 || mi > 59 || hi == 24 && mi != 0 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hi*60 + mi, nil
}

// storeSchedules answers IVR condition nodes on a schedule by id or name.
type storeSchedules struct {
	repo store.ScheduleRepo
	now  func() time.Time
}

func (s storeSchedules) ScheduleState(ctx context.Context, name string) (ivr.ScheduleState, error) {
	sc, err := s.repo.Get(ctx, name)
	if err != nil {
		found := false
		err = eachRecord(ctx, store.Repo[store.Schedule](s.repo), func(v store.Schedule) {
			if !found && v.Name == name {
				sc, found = v, true
			}
		})
		if err != nil {
			return ivr.StateClosed, err
		}
		if !found {
			return ivr.StateClosed, fmt.Errorf("%w: schedule %q", store.ErrNotFound, name)
		}
	}
	return ScheduleStateAt(sc, s.now())
}

// storeLists answers IVR condition nodes on a list (blacklist, whitelist,
// dnc).
type storeLists struct {
	repo store.ListRepo
	now  func() time.Time
}

func (l storeLists) InList(ctx context.Context, list, number string) (bool, error) {
	m, err := l.repo.Match(ctx, store.ListKind(list), number, l.now())
	return len(m) > 0, err
}

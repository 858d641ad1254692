package storetest

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"hotline/controller/store"
)

// Bench measures the store operations on hot paths: token lookup (every
// API request), list matching (every inbound call), queue reads and writes,
// audit appends, and the journal's batched writes of queue events and
// CDRs (every call writes several events and one CDR). open returns a new,
// empty store.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	now := at(10, 0)
	b.Run("TokenGetByHash", func(b *testing.B) {
		s := open(b)
		for i := range 1000 {
			tok := store.Token{UserID: "u", Kind: store.TokenAPI, Hash: fmt.Sprintf("%064d", i), ExpiresAt: ptr(now.Add(time.Hour))}
			if err := s.Tokens().Create(b.Context(), &tok); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Tokens().GetByHash(b.Context(), fmt.Sprintf("%064d", i%1000), now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListMatch", func(b *testing.B) {
		s := open(b)
		for i := range 1000 {
			e := store.ListEntry{List: store.ListBlacklist, Pattern: fmt.Sprintf("+86138%04d", i), Match: store.MatchPrefix}
			if err := s.Lists().Create(b.Context(), &e); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Lists().Match(b.Context(), store.ListBlacklist, fmt.Sprintf("+86138%04d0000", i%1000), now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("QueueGet", func(b *testing.B) {
		s := open(b)
		q := queueSuite.make(0)
		if err := s.Queues().Create(b.Context(), &q); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.Queues().Get(b.Context(), q.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("QueueCreate", func(b *testing.B) {
		s := open(b)
		for i := 0; b.Loop(); i++ {
			q := queueSuite.make(i)
			if err := s.Queues().Create(b.Context(), &q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("QueueUpdate", func(b *testing.B) {
		s := open(b)
		q := queueSuite.make(0)
		if err := s.Queues().Create(b.Context(), &q); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			q.Priority++
			if err := s.Queues().Update(b.Context(), &q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AuditAppend", func(b *testing.B) {
		s := open(b)
		for i := 0; b.Loop(); i++ {
			e := store.AuditEntry{UserID: "u1", Action: "update", Resource: "queues", ResourceID: fmt.Sprint(i), Result: 200}
			if err := s.Audit().Append(b.Context(), &e); err != nil {
				b.Fatal(err)
			}
		}
	}) // A journal batch as the spool writer hands it over when calls end
	// one by one: runs of a few queue events, then a CDR.
	b.Run("QueueEventsPut8", func(b *testing.B) {
		s := open(b)
		defer reportCPU(b)()
		for i := 0; b.Loop(); i++ {
			evs := make([]store.QueueEvent, 8)
			for k := range evs {
				evs[k] = store.QueueEvent{At: now, Kind: "offer", CallID: fmt.Sprint("c", i), Queue: "q1", AgentID: "a1",
					Source: "bench", Pos: int64(8*i + k + 1)}
			}
			if err := s.QueueEvents().Put(b.Context(), evs...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CDRPut4", func(b *testing.B) {
		s := open(b)
		defer reportCPU(b)()
		for i := 0; b.Loop(); i++ {
			cdrs := make([]store.CDR, 4)
			for k := range cdrs {
				cdrs[k] = store.CDR{ID: fmt.Sprint("call-", i, "-", k), Direction: "inbound", Caller: "+8613800000000", Called: "800",
					Start: now, End: now.Add(time.Minute), Queue: "q1", AgentID: "a1", Outcome: store.OutcomeAnswered}
			}
			if err := s.CDRs().Put(b.Context(), cdrs...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU reports the process's CPU time (user + system, every thread)
// per operation as cpu-us/op when the returned func runs: unlike ns/op
// it does not count the wait for the disk's fsync, nor the time other
// work on a shared machine took the CPU.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-us/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package storetest

import (
	"fmt"
	"testing"
	"time"

	"hotline/controller/store"
)

// Bench measures the store operations on hot paths: token lookup (every
// API request), list matching (every inbound call), queue reads and writes,
// and audit appends. open returns a new, empty store.
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
	})
}

package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"hotline/controller/store"
	"hotline/controller/store/sqlite"
)

// Open a store, create a queue, and see optimistic concurrency refuse a
// write from a stale copy.
func ExampleOpen() {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.MemoryPath, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	q := store.Queue{Name: "support", Strategy: store.StrategyLongestIdle}
	if err := s.Queues().Create(ctx, &q); err != nil {
		fmt.Println(err)
		return
	}
	stale := q
	q.WrapUp = 15
	if err := s.Queues().Update(ctx, &q); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("version", q.Version)

	stale.WrapUp = 30
	err = s.Queues().Update(ctx, &stale)
	fmt.Println("stale write refused:", errors.Is(err, store.ErrVersionMismatch))
	// Output:
	// version 2
	// stale write refused: true
}

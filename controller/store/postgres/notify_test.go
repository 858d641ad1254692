package postgres

import (
	"context"
	"testing"
	"time"

	"hotline/controller/store"
)

// TestWatchWakesOtherNode: a commit through one pool wakes the watcher of
// another pool on the same schema (LISTEN/NOTIFY), and not a watcher of
// another schema.
func TestWatchWakesOtherNode(t *testing.T) {
	t.Parallel()
	cfg := freshSchema(t)
	a := openConfig(t, cfg.Copy())
	b := openConfig(t, cfg.Copy())
	other := openConfig(t, freshSchema(t))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	wakeB := b.Watch(ctx)
	wakeOther := other.Watch(ctx)
	// The listeners wake once when they start listening: drain that, so
	// the next wake-up can only come from a's commit.
	for _, w := range []<-chan struct{}{wakeB, wakeOther} {
		select {
		case <-w:
		case <-ctx.Done():
			t.Fatal("listener never started")
		}
	}
	k := store.Skill{Name: "billing"}
	if err := a.Skills().Create(ctx, &k); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wakeB:
	case <-ctx.Done():
		t.Fatal("b's watcher did not wake after a's commit")
	}
	got, err := b.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != k.ID || got[0].Op != store.OpCreate {
		t.Fatalf("b sees changes %+v", got)
	}
	select {
	case <-wakeOther:
		t.Fatal("a store on another schema was woken")
	default:
	}
}

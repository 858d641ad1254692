package registrar

import (
	"fmt"
	"testing"
	"time"

	"hotline/internal/clock"
)

// TestSlowGuessing guesses one user's password from one source below the
// burst guard's rate, on a virtual clock: the 11th failure within 10
// minutes refuses that user's credentials from that source (even the
// right password) for 10 minutes, the next block lasts 20; the real user
// registers from another source all along; an administrator sees and
// lifts the block.
func TestSlowGuessing(t *testing.T) {
	for _, every := range []time.Duration{time.Second * 2 / 15, 30 * time.Second} { // 7.5/s and 2/min
		t.Run(fmt.Sprintf("one guess every %v", every), func(t *testing.T) {
			clk := clock.NewFake(t0)
			creds := NewStaticCredentials(DefaultRealm, map[string]string{testUser: testPass})
			r, err := New(creds, WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			attacker := newPhone(t, testUser, "127.0.0.1:5090")
			real := newPhone(t, testUser, "127.0.0.2:5090")
			guess := func(n int) int {
				res := attacker.register(r, "MD5", fmt.Sprintf("guess-%d", n))
				clk.Advance(every)
				return res.StatusCode
			}
			for i := 1; i <= DefaultUserBudgetFailures; i++ {
				if code := guess(i); code != 401 {
					t.Fatalf("guess %d: %d, want 401", i, code)
				}
			}
			if code := guess(11); code != 403 {
				t.Fatalf("guess 11 within 10 minutes: %d, want 403", code)
			}
			if res := attacker.register(r, "MD5", testPass, "Contact: "+attacker.contact); res.StatusCode != 403 {
				t.Fatalf("right password from the blocked source: %d, want 403", res.StatusCode)
			}
			if res := real.register(r, "MD5", testPass, "Contact: "+real.contact); res.StatusCode != 200 {
				t.Fatalf("the real user from another source: %d, want 200", res.StatusCode)
			}
			bs := r.Blocks()
			if len(bs) != 1 || bs[0].Kind != "user" || bs[0].User != testUser || bs[0].Source != "127.0.0.1" || bs[0].Count != 1 {
				t.Fatalf("blocks %+v", bs)
			}
			first := bs[0].Until.Sub(clk.Now())

			// The block ends; guessing again earns a block twice as long.
			clk.Set(bs[0].Until)
			for i := 1; i <= DefaultUserBudgetFailures; i++ {
				if code := guess(100 + i); code != 401 {
					t.Fatalf("second round, guess %d: %d, want 401", i, code)
				}
			}
			if code := guess(111); code != 403 {
				t.Fatalf("second round, guess 11: %d, want 403", code)
			}
			bs = r.Blocks()
			if len(bs) != 1 || bs[0].Count != 2 {
				t.Fatalf("blocks %+v", bs)
			}
			if second := bs[0].Until.Sub(clk.Now()); second < 2*first-time.Minute || second > 2*DefaultUserBudgetBlock {
				t.Errorf("second block %v, want about twice the first (%v)", second, first)
			}

			if n := r.Unblock("127.0.0.1", testUser); n != 1 {
				t.Fatalf("Unblock lifted %d blocks, want 1", n)
			}
			if len(r.Blocks()) != 0 {
				t.Fatalf("blocks after Unblock: %+v", r.Blocks())
			}
			if res := attacker.register(r, "MD5", testPass, "Contact: "+attacker.contact); res.StatusCode != 200 {
				t.Fatalf("after Unblock: %d, want 200", res.StatusCode)
			}
		})
	}
}

// TestSlowGuessingOverUsers spreads slow guesses over many users from one
// source: each user stays under its budget, the source's own budget
// (60 failures an hour) refuses every digest answer from it, even a
// known user's right password; other sources are not affected.
func TestSlowGuessingOverUsers(t *testing.T) {
	clk := clock.NewFake(t0)
	creds := NewStaticCredentials(DefaultRealm, map[string]string{testUser: testPass})
	r, err := New(creds, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= DefaultSourceBudgetFailures; i++ {
		p := newPhone(t, fmt.Sprintf("u%d", i), "127.0.0.1:5091")
		if res := p.register(r, "MD5", "guess"); res.StatusCode != 401 {
			t.Fatalf("guess %d: %d, want 401", i, res.StatusCode)
		}
		clk.Advance(50 * time.Second)
	}
	p := newPhone(t, "u61", "127.0.0.1:5091")
	if res := p.register(r, "MD5", "guess"); res.StatusCode != 403 {
		t.Fatalf("guess 61 within the hour: %d, want 403", res.StatusCode)
	}
	known := newPhone(t, testUser, "127.0.0.1:5092")
	if res := known.register(r, "MD5", testPass, "Contact: "+known.contact); res.StatusCode != 403 {
		t.Fatalf("known user's right password from the blocked source: %d, want 403", res.StatusCode)
	}
	elsewhere := newPhone(t, testUser, "127.0.0.3:5092")
	if res := elsewhere.register(r, "MD5", testPass, "Contact: "+elsewhere.contact); res.StatusCode != 200 {
		t.Fatalf("from another source: %d, want 200", res.StatusCode)
	}
	bs := r.Blocks()
	if len(bs) != 1 || bs[0].Kind != "source" || bs[0].Source != "127.0.0.1" || bs[0].User != "" {
		t.Fatalf("blocks %+v", bs)
	}
	if n := r.Unblock("127.0.0.1", ""); n != 1 {
		t.Fatalf("Unblock lifted %d, want 1", n)
	}
	if res := known.register(r, "MD5", testPass, "Contact: "+known.contact); res.StatusCode != 200 {
		t.Fatalf("after Unblock: %d, want 200", res.StatusCode)
	}
}

// TestBudgetForgetsAndBounds: failures older than the window do not count
// (a phone with a stale password retrying every 2 minutes is never
// blocked), the doubling stops at MaxBlock, and sweep forgets idle keys.
func TestBudgetForgetsAndBounds(t *testing.T) {
	b := newBudget("user", Budget{Failures: 3, Window: 10 * time.Minute, Block: time.Hour, MaxBlock: 3 * time.Hour, ForgetAfter: 24 * time.Hour}, 100)
	k := budgetKey{"1001", "127.0.0.1"}
	now := t0
	for i := 0; i < 50; i++ {
		if until := b.fail(k, now); !until.IsZero() {
			t.Fatalf("failure %d, 4 minutes apart, blocked until %v", i, until)
		}
		now = now.Add(4 * time.Minute)
	}
	var periods []time.Duration
	for range 4 {
		var until time.Time
		for until.IsZero() {
			until = b.fail(k, now)
		}
		periods = append(periods, until.Sub(now))
		now = until
	}
	want := []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour, 3 * time.Hour}
	for i := range want {
		if periods[i] != want[i] {
			t.Fatalf("block periods %v, want %v", periods, want)
		}
	}
	b.sweep(now.Add(25 * time.Hour))
	if len(b.keys) != 0 {
		t.Errorf("%d keys after a quiet day", len(b.keys))
	}
	// The key space is bounded.
	for i := range 500 {
		b.fail(budgetKey{fmt.Sprint(i), "127.0.0.1"}, now)
	}
	if len(b.keys) > 100 {
		t.Errorf("%d keys tracked, cap 100", len(b.keys))
	}
}

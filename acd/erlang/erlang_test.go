package erlang

import (
	"errors"
	"math"
	"testing"
	"time"
)

// The textbook case: 360 calls per 30 minutes, 240 s handle time = 48
// Erlangs; with 55 agents about 84.6% are answered within 15 s and the ASA
// is about 8.2 s.
func TestTextbookCase(t *testing.T) {
	a := Traffic(360, 30*time.Minute, 240*time.Second)
	if a != 48 {
		t.Fatalf("traffic = %g, want 48", a)
	}
	sl, err := ServiceLevel(55, a, 240*time.Second, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sl-0.846) > 0.001 {
		t.Errorf("service level = %.4f, want 0.846", sl)
	}
	asa, err := ASA(55, a, 240*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(asa.Seconds()-8.2) > 0.05 {
		t.Errorf("ASA = %v, want about 8.2s", asa)
	}
	n, err := AgentsFor(a, 240*time.Second, 15*time.Second, 0.80)
	if err != nil {
		t.Fatal(err)
	}
	if n != 55 {
		t.Errorf("agents for 80/15 = %d, want 55", n)
	}
}

func TestC(t *testing.T) {
	tests := []struct {
		name string
		n    int
		a    float64
		want float64
		err  error
	}{
		{name: "no traffic", n: 3, a: 0, want: 0},
		{name: "one server", n: 1, a: 0.5, want: 0.5}, // M/M/1: P(wait) = rho
		{name: "two servers", n: 2, a: 1, want: 1.0 / 3},
		{name: "unstable", n: 2, a: 2, err: ErrUnstable},
		{name: "negative", n: 2, a: -1, err: ErrInvalid},
		{name: "nan", n: 2, a: math.NaN(), err: ErrInvalid},
		{name: "large", n: 2000, a: 1950, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := C(tt.n, tt.a)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want < 0 {
				if !(got > 0 && got < 1) {
					t.Fatalf("C = %g, want a probability", got)
				}
				return
			}
			if math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("C = %g, want %g", got, tt.want)
			}
		})
	}
}

func TestAgentsForIsMinimal(t *testing.T) {
	for _, a := range []float64{0.5, 5, 48, 300} {
		n, err := AgentsFor(a, 180*time.Second, 20*time.Second, 0.9)
		if err != nil {
			t.Fatal(err)
		}
		sl, _ := ServiceLevel(n, a, 180*time.Second, 20*time.Second)
		if sl < 0.9 {
			t.Errorf("a=%g: %d agents give %.3f", a, n, sl)
		}
		if n-1 > int(a) {
			if sl1, _ := ServiceLevel(n-1, a, 180*time.Second, 20*time.Second); sl1 >= 0.9 {
				t.Errorf("a=%g: %d agents not minimal (%d give %.3f)", a, n, n-1, sl1)
			}
		}
	}
	if _, err := AgentsFor(10, 0, time.Second, 0.8); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero aht: err = %v", err)
	}
}

package erlang

import (
	"fmt"
	"math"
	"time"
)

// Traffic returns the offered load in Erlangs for calls arriving at rate
// calls per interval with average handle time aht.
func Traffic(calls float64, interval, aht time.Duration) float64 {
	if interval <= 0 {
		return 0
	}
	return calls * aht.Seconds() / interval.Seconds()
}

// B returns the Erlang B blocking probability for n servers and traffic a.
func B(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

func check(n int, a float64) error {
	if n < 0 || a < 0 || math.IsNaN(a) || math.IsInf(a, 0) {
		return fmt.Errorf("%w: n=%d a=%g", ErrInvalid, n, a)
	}
	if a >= float64(n) {
		return fmt.Errorf("%w: n=%d a=%g", ErrUnstable, n, a)
	}
	return nil
}

// C returns the Erlang C probability that a call waits, for n agents and
// traffic a Erlangs.
func C(n int, a float64) (float64, error) {
	if err := check(n, a); err != nil {
		return 0, err
	}
	if a == 0 {
		return 0, nil
	}
	b := B(n, a)
	return float64(n) * b / (float64(n) - a*(1-b)), nil
}

// ServiceLevel returns the fraction of calls answered within t.
func ServiceLevel(n int, a float64, aht, t time.Duration) (float64, error) {
	c, err := C(n, a)
	if err != nil {
		return 0, err
	}
	if aht <= 0 {
		return 0, fmt.Errorf("%w: aht=%v", ErrInvalid, aht)
	}
	return 1 - c*math.Exp(-(float64(n)-a)*t.Seconds()/aht.Seconds()), nil
}

// ASA returns the average speed of answer (mean wait over all calls).
func ASA(n int, a float64, aht time.Duration) (time.Duration, error) {
	c, err := C(n, a)
	if err != nil {
		return 0, err
	}
	return time.Duration(c * aht.Seconds() / (float64(n) - a) * float64(time.Second)), nil
}

// AgentsFor returns the fewest agents that answer at least target (0..1)
// of calls within t, for traffic a Erlangs and handle time aht.
func AgentsFor(a float64, aht, t time.Duration, target float64) (int, error) {
	if a < 0 || math.IsNaN(a) || math.IsInf(a, 0) || aht <= 0 || t < 0 || !(target >= 0 && target < 1) {
		return 0, fmt.Errorf("%w: a=%g aht=%v t=%v target=%g", ErrInvalid, a, aht, t, target)
	}
	for n := int(math.Floor(a)) + 1; ; n++ {
		sl, err := ServiceLevel(n, a, aht, t)
		if err != nil {
			return 0, err
		}
		if sl >= target {
			return n, nil
		}
	}
}

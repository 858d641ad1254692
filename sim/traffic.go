package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Traffic describes the calls to place.
type Traffic struct {
	// Rate is the mean arrival rate in calls per second (Poisson); 0.5
	// is one call every two seconds on average.
	Rate float64
	// Duration is how long calls arrive for.
	Duration time.Duration
	// AHT is the mean talk time; talk times are lognormal with
	// HandleSigma (default 0.5) as the log standard deviation.
	AHT         time.Duration
	HandleSigma float64
	// Patience is the mean time a caller waits before hanging up
	// (exponential); 0 means callers never abandon.
	Patience time.Duration
	// Seed makes the traffic reproducible.
	Seed uint64
}

// Arrival is one call of the traffic.
type Arrival struct {
	N        int           // 1-based call number
	At       time.Duration // since the start
	Patience time.Duration // 0: waits forever
	Talk     time.Duration
}

func (t Traffic) validate() error {
	switch {
	case !(t.Rate > 0) || math.IsInf(t.Rate, 0):
		return fmt.Errorf("%w: rate must be a positive number of calls per second", ErrInvalidTraffic)
	case t.Duration <= 0:
		return fmt.Errorf("%w: duration must be positive", ErrInvalidTraffic)
	case t.AHT <= 0:
		return fmt.Errorf("%w: aht must be positive", ErrInvalidTraffic)
	case t.Patience < 0:
		return fmt.Errorf("%w: patience must not be negative", ErrInvalidTraffic)
	case t.HandleSigma < 0 || t.HandleSigma > 3:
		return fmt.Errorf("%w: handle sigma must be within 0-3", ErrInvalidTraffic)
	case t.Rate*t.Duration.Seconds() > 10_000_000:
		return fmt.Errorf("%w: more than 10 million calls", ErrInvalidTraffic)
	}
	return nil
}

// Generate returns the arrivals of t in time order. The same Traffic
// (seed included) always gives the same arrivals.
func Generate(t Traffic) ([]Arrival, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	sigma := t.HandleSigma
	if sigma == 0 {
		sigma = 0.5
	}
	// A lognormal with mean AHT: mu = ln(AHT) - sigma²/2.
	mu := math.Log(t.AHT.Seconds()) - sigma*sigma/2
	rng := rand.New(rand.NewPCG(t.Seed, t.Seed^0x9e3779b97f4a7c15))
	var out []Arrival
	at := 0.0
	for {
		at += rng.ExpFloat64() / t.Rate
		if at >= t.Duration.Seconds() {
			return out, nil
		}
		a := Arrival{N: len(out) + 1, At: dur(at)}
		if t.Patience > 0 {
			a.Patience = max(dur(rng.ExpFloat64()*t.Patience.Seconds()), time.Millisecond)
		}
		a.Talk = max(dur(math.Exp(mu+sigma*rng.NormFloat64())), time.Second)
		out = append(out, a)
	}
}

// dur converts seconds to a duration rounded to the millisecond.
func dur(s float64) time.Duration { return time.Duration(math.Round(s*1000)) * time.Millisecond }

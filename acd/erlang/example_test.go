package erlang_test

import (
	"fmt"
	"time"

	"hotline/acd/erlang"
)

// Staffing the textbook interval: 360 calls in 30 minutes, 4 minutes each,
// target 80% answered within 15 seconds.
func ExampleAgentsFor() {
	a := erlang.Traffic(360, 30*time.Minute, 4*time.Minute)
	n, _ := erlang.AgentsFor(a, 4*time.Minute, 15*time.Second, 0.80)
	sl, _ := erlang.ServiceLevel(n, a, 4*time.Minute, 15*time.Second)
	asa, _ := erlang.ASA(n, a, 4*time.Minute)
	fmt.Printf("%.0f Erlangs: %d agents, %.1f%% within 15s, ASA %.1fs\n", a, n, sl*100, asa.Seconds())
	// Output: 48 Erlangs: 55 agents, 84.6% within 15s, ASA 8.2s
}

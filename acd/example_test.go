package acd_test

import (
	"fmt"
	"strings"
	"time"

	"hotline/acd"
)

// The basic flow: configure, log an agent in, a call arrives and is offered,
// the agent answers, the call ends, wrap-up runs on the engine's timer.
func Example() {
	clock := acd.NewVirtualClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	e, _ := acd.New(clock)
	show := func(evs []acd.Event, err error) {
		if err != nil {
			fmt.Println("error:", err)
		}
		for _, ev := range evs {
			switch ev.Kind {
			case acd.EventAgentState:
				fmt.Println(strings.TrimSpace(fmt.Sprint(ev.At.Format("15:04:05"), " ", ev.Agent, ": ", ev.From, " -> ", ev.To, " ", ev.Reason)))
			case acd.EventQueued:
				fmt.Println(ev.At.Format("15:04:05"), ev.Kind, ev.Call)
			default:
				fmt.Println(ev.At.Format("15:04:05"), ev.Kind, ev.Call, ev.Agent)
			}
		}
	}
	show(e.SetAgent(acd.AgentConfig{ID: "alice", Skills: map[acd.Skill]int{"en": 5}}))
	show(e.SetQueue(acd.QueueConfig{
		ID:       "support",
		Strategy: acd.StrategyLongestIdle,
		Members:  []acd.Member{{Agent: "alice"}},
		Skills:   []acd.SkillReq{{Skill: "en", MinLevel: 3}},
		WrapUp:   30 * time.Second,
	}))
	show(e.Login("alice", acd.Origin{}))
	show(e.SetReady("alice", acd.Origin{}))

	clock.Advance(time.Minute)
	show(e.EnqueueCall(acd.Call{ID: "c1", Queue: "support", Caller: "+15550100"}))
	clock.Advance(3 * time.Second)
	show(e.OfferAccepted("c1", "alice"))
	clock.Advance(2 * time.Minute)
	show(e.CallEnded("c1"))

	// The owner sleeps until the next deadline, then ticks.
	next, _ := e.NextDeadline()
	clock.Set(next)
	show(e.Tick(), nil)
	// Output:
	// 09:00:00 alice: logged-out -> not-ready login
	// 09:00:00 alice: not-ready -> ready
	// 09:01:00 queued c1
	// 09:01:00 alice: ready -> reserved
	// 09:01:00 offer c1 alice
	// 09:01:03 offer-accepted c1 alice
	// 09:01:03 alice: reserved -> busy
	// 09:03:03 call-ended c1 alice
	// 09:03:03 alice: busy -> wrap-up
	// 09:03:33 alice: wrap-up -> ready
}

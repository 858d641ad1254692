package sim

import (
	"container/heap"
	"fmt"
	"slices"
	"time"

	"hotline/controller/store"
)

// Model is the queue Simulate serves traffic with.
type Model struct {
	Queue  string
	Agents int
	// Wrap is each agent's wrap-up after a call.
	Wrap time.Duration
	// Start is the wall-clock time of the traffic's zero.
	Start time.Time
}

// Simulated is what Simulate produces: the ground truth and the event log a
// Hotline would write for the same calls.
type Simulated struct {
	Truth  Truth
	Events []store.QueueEvent
}

type simEvent struct {
	at   time.Time
	kind int // 0 agent free, 1 abandon, 2 arrival (in this order at a tie)
	n    int // call index or agent index
	seq  int
}

type simHeap []simEvent

func (h simHeap) Len() int { return len(h) }
func (h simHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	if h[i].kind != h[j].kind {
		return h[i].kind < h[j].kind
	}
	return h[i].seq < h[j].seq
}
func (h simHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)   { *h = append(*h, x.(simEvent)) }
func (h *simHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Simulate serves arrivals in virtual time: callers wait FIFO, the agent
// idle longest answers at once, a caller whose patience runs out first
// abandons; an agent talks for the call's talk time, then wraps up. It
// runs until every call has ended.
func Simulate(m Model, arrivals []Arrival) (Simulated, error) {
	if m.Agents <= 0 || m.Queue == "" {
		return Simulated{}, fmt.Errorf("%w: a model needs a queue and agents", ErrInvalidTraffic)
	}
	r := Simulated{Truth: Truth{Queue: m.Queue, Calls: make([]CallTruth, len(arrivals))}}
	var seq int64
	log := func(e store.QueueEvent) {
		seq++
		e.Seq = seq
		r.Events = append(r.Events, e)
	}
	agentID := func(i int) string { return fmt.Sprintf("sim-agent-%d", i+1) }
	callID := func(n int) string { return fmt.Sprintf("sim-call-%d", n) }
	idle := []int{} // agents by idle-since order
	for i := range m.Agents {
		log(store.QueueEvent{At: m.Start, Kind: "agent-state", AgentID: agentID(i), State: "ready"})
		idle = append(idle, i)
	}
	h := &simHeap{}
	k := 0
	push := func(e simEvent) {
		k++
		e.seq = k
		heap.Push(h, e)
	}
	for i, a := range arrivals {
		push(simEvent{at: m.Start.Add(a.At), kind: 2, n: i})
	}
	var waiting []int // call indexes, FIFO
	gone := make([]bool, len(arrivals))
	answer := func(at time.Time) {
		for len(waiting) > 0 && len(idle) > 0 {
			ci := waiting[0]
			waiting = waiting[1:]
			if gone[ci] {
				continue
			}
			ag := idle[0]
			idle = idle[1:]
			c := &r.Truth.Calls[ci]
			c.Answered, c.Agent, c.Talk = at, agentID(ag), arrivals[ci].Talk
			gone[ci] = true
			log(store.QueueEvent{At: at, Kind: "offer-accepted", CallID: callID(c.N), Queue: m.Queue, AgentID: c.Agent})
			log(store.QueueEvent{At: at, Kind: "agent-state", AgentID: c.Agent, State: "busy"})
			end := at.Add(c.Talk)
			log(store.QueueEvent{At: end, Kind: "call-ended", CallID: callID(c.N), AgentID: c.Agent})
			log(store.QueueEvent{At: end, Kind: "agent-state", AgentID: c.Agent, State: "wrap-up"})
			push(simEvent{at: end.Add(m.Wrap), kind: 0, n: ag})
		}
	}
	for h.Len() > 0 {
		e := heap.Pop(h).(simEvent)
		switch e.kind {
		case 2:
			a := arrivals[e.n]
			r.Truth.Calls[e.n] = CallTruth{N: a.N, Arrival: e.at, Enqueued: e.at}
			log(store.QueueEvent{At: e.at, Kind: "queued", CallID: callID(a.N), Queue: m.Queue})
			waiting = append(waiting, e.n)
			if a.Patience > 0 {
				push(simEvent{at: e.at.Add(a.Patience), kind: 1, n: e.n})
			}
			answer(e.at)
		case 1:
			if gone[e.n] {
				continue
			}
			gone[e.n] = true
			c := &r.Truth.Calls[e.n]
			c.Abandoned = e.at
			log(store.QueueEvent{At: e.at, Kind: "abandoned", CallID: callID(c.N), Queue: m.Queue})
		case 0:
			log(store.QueueEvent{At: e.at, Kind: "agent-state", AgentID: agentID(e.n), State: "ready"})
			idle = append(idle, e.n)
			answer(e.at)
		}
	}
	// The log is written in decision order; events stamped later (call
	// ends) were appended early, as the engine's log would hold them in
	// time order: sort by time, keeping decision order at a tie.
	sortByTime(r.Events)
	return r, nil
}

func sortByTime(evs []store.QueueEvent) {
	slices.SortStableFunc(evs, func(a, b store.QueueEvent) int { return a.At.Compare(b.At) })
	for i := range evs {
		evs[i].Seq = int64(i + 1)
	}
}

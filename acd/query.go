package acd

import (
	"fmt"
	"time"
)

// Agent returns an agent's status.
func (e *Engine) Agent(id AgentID) (AgentStatus, error) {
	a, err := e.agent(id)
	if err != nil {
		return AgentStatus{}, err
	}
	st := AgentStatus{State: a.state, Busy: a.busy, Reason: a.reason, Pending: a.pending, Since: a.since,
		Calls: a.calls, TalkTime: a.talk, IdleSince: a.idleSince, NoAnswers: a.noAnswer}
	if a.call != nil {
		st.Call = a.call.id
	}
	if a.state == StateWrapUp {
		st.WrapUpUntil = a.wrapUntil
	}
	return st, nil
}

// QueueStats returns a queue's current load.
func (e *Engine) QueueStats(id QueueID) (QueueStats, error) {
	q := e.queues[id]
	if q == nil {
		return QueueStats{}, fmt.Errorf("%w: %q", ErrUnknownQueue, id)
	}
	st := QueueStats{Waiting: q.nLive, Callbacks: q.nCallbacks, Outbound: q.nOutbound,
		Members: len(q.members), LoggedIn: q.nLoggedIn, Available: q.nAvailable}
	for _, b := range q.buckets {
		st.Ready += len(b.h)
	}
	for _, hd := range q.heads {
		if hd.n > 0 && (st.Oldest.IsZero() || hd.entered < st.Oldest.UnixNano()) {
			st.Oldest = time.Unix(0, hd.entered).In(e.now.Location())
		}
	}
	st.AvgHandle = q.aht
	return st, nil
}

// Position returns a waiting call's 1-based place in its queue (calls of
// higher priority and earlier calls of equal priority, callbacks included,
// are ahead), or 0 for a call that is ringing, answered or waiting for its
// sticky agent. It costs O(calls in the queue): meant for announcements.
func (e *Engine) Position(id CallID) (int, error) {
	c, err := e.call(id)
	if err != nil {
		return 0, err
	}
	if c.state != csWaiting {
		return 0, nil
	}
	pos := 1
	for _, l := range c.q.lists {
		for _, x := range l.h {
			if x != c && callBetter(x, c) {
				pos++
			}
		}
	}
	return pos, nil
}

// ExpectedWait estimates how long a waiting call still waits, for
// announcements: its position times the queue's average handle time,
// divided by the members available to serve. It is a rough figure (members
// also serve other queues) and zero before the queue has any history or
// for a call that is not waiting in line.
func (e *Engine) ExpectedWait(id CallID) (time.Duration, error) {
	pos, err := e.Position(id)
	if err != nil || pos == 0 {
		return 0, err
	}
	q := e.calls[id].q
	return time.Duration(pos) * q.aht / time.Duration(max(1, q.nAvailable)), nil
}

package mediacore

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// lostHangup is the Hangup Core synthesizes for a channel of a lost node.
func lostHangup(ch ChannelID) Event {
	return Event{Type: EventHangup, Channel: ch, Cause: CauseNodeLost, SIPCode: CauseNodeLost.SIPCode(), Q850: CauseNodeLost.Q850()}
}

// endLost ends a channel of a lost node: the Handler gets a Hangup with
// CauseNodeLost, in order after the channel's earlier events, and later
// backend events for it are dropped. c.mu must be held.
func (c *Core) endLost(e *chanEntry) {
	if !e.alive || e.lost {
		return
	}
	e.lost = true
	c.synth(e.node, lostHangup(e.id))
}

// nodeLost runs when node n stayed down for Options.NodeLostAfter: every
// channel Core believed alive on it ends with CauseNodeLost, and its
// bridges are forgotten.
func (c *Core) nodeLost(n *node, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.up || n.gen != gen || c.closed {
		return
	}
	n.lost = nil
	c.log.Warn("media node lost: ending its calls", "node", n.name, "channels", n.live, "after", c.opts.NodeLostAfter)
	for _, e := range n.chans {
		c.endLost(e)
	}
	for _, b := range n.bridges {
		c.unbindBridge(b)
	}
}

// reconcile runs after node n came back (BackendUp after BackendDown): it
// lists the node's channels and ends with CauseNodeLost every channel Core
// believed alive there that the node no longer has; channels the node has
// and Core did not know are adopted, and channels Core had already ended as
// lost are hung up on the node (CauseNodeLost; their events stay hidden).
// A failed listing keeps the node suspect: the node-lost timer starts
// again.
func (c *Core) reconcile(n *node, gen uint64) {
	defer c.bg.Done()
	c.mu.Lock()
	before := map[*chanEntry]bool{}
	for _, e := range n.chans {
		if e.alive && e.created && !e.lost {
			before[e] = true
		}
	}
	c.mu.Unlock()

	var list []ChannelInfo
	err := c.do(context.Background(), "reconcile", func(ctx context.Context) error {
		var err error
		list, err = n.b.Channels(ctx)
		return err
	})
	orphans := c.reconciled(n, gen, before, list, err)
	for _, raw := range orphans {
		err := c.do(context.Background(), "hangup", func(ctx context.Context) error { return n.b.Hangup(ctx, raw, CauseNodeLost) })
		if err != nil && !errors.Is(err, ErrNoSuchChannel) {
			c.log.Warn("reconcile: hang up a channel already ended as lost", "node", n.name, "channel", raw, "err", err)
		}
	}
}

// reconciled applies a node's channel list; it returns the backend ids of
// channels Core had ended as lost that the node still has.
func (c *Core) reconciled(n *node, gen uint64, before map[*chanEntry]bool, list []ChannelInfo, err error) []ChannelID {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.gen != gen || c.closed {
		return nil // the node went down again meanwhile; a later BackendUp reconciles
	}
	if err != nil {
		c.log.Warn("reconcile: listing a node's channels failed", "node", n.name, "err", err)
		if n.lost == nil {
			n.lost = c.clock.AfterFunc(c.opts.NodeLostAfter, func() { c.nodeLostAfterReconcile(n, gen) })
		}
		return nil
	}
	var orphans []ChannelID
	listed := map[ChannelID]bool{}
	for _, ci := range list {
		listed[ci.ID] = true
		switch e := n.chans[ci.ID]; {
		case e == nil:
			id := ChannelID(adoptID(n, string(ci.ID), func(s string) bool { _, ok := c.chans[ChannelID(s)]; return ok }))
			c.bindChannel(n, ci.ID, id, true).created = true
		case e.lost:
			orphans = append(orphans, ci.ID)
		}
	}
	ended := 0
	for e := range before {
		// A channel that hung up meanwhile is no longer alive; one created
		// after the snapshot is not in before.
		if e.alive && !listed[e.raw] && n.chans[e.raw] == e {
			c.endLost(e)
			ended++
		}
	}
	if ended > 0 {
		c.log.Warn("reconcile: channels gone from a node that came back", "node", n.name, "ended", ended)
	}
	return orphans
}

// nodeLostAfterReconcile is nodeLost for a node that is up but could not
// be listed.
func (c *Core) nodeLostAfterReconcile(n *node, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.gen != gen || c.closed {
		return
	}
	n.lost = nil
	for _, e := range n.chans {
		c.endLost(e)
	}
}

// Channels lists the channels of every node (Node filled, ids in Core
// ids); channels Core did not know are adopted, so commands reach them.
// Nodes that fail are left out and their errors joined (wrapped with the
// node name), so a partial list comes with a non-nil error.
//
// A channel Core holds locally (Hold on a node that is not a
// ReinviteHolder) is listed as the contract sees it, not as the backend
// does: ChannelHeld, and Bridge the bridge Unhold puts it back in (the
// backend reports it up and out of any bridge). Bridges lists it as a
// member with its role likewise. So a controller that rebuilds its view
// sees the same thing whichever way the node holds.
func (c *Core) Channels(ctx context.Context) ([]ChannelInfo, error) {
	lists := make([][]ChannelInfo, len(c.nodes))
	err := c.eachNode(ctx, "channels", func(ctx context.Context, i int, n *node) error {
		var err error
		lists[i], err = n.b.Channels(ctx)
		return err
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ChannelInfo
	for i, n := range c.nodes {
		for _, ci := range lists[i] {
			e := n.chans[ci.ID]
			if e != nil && !e.alive && e.created {
				// Ended (or ended as lost): the controller had its
				// Hangup; a listing that races it must not revive it.
				continue
			}
			if e == nil {
				e = c.channelFromRaw(n, ci.ID, EventChannelCreated)
			}
			ci.ID, ci.Node = e.id, n.name
			if ci.Bridge != "" {
				ci.Bridge = c.bridgeFromRaw(n, ci.Bridge).id
			}
			if h := c.holds[e.id]; h != nil {
				if ci.State == ChannelUp {
					ci.State = ChannelHeld
				}
				if ci.Bridge == "" && h.inBridge && c.bridges[h.bridge] != nil {
					ci.Bridge = h.bridge
				}
			}
			out = append(out, ci)
		}
	}
	return out, err
}

// Bridges lists the bridges of every node (Node filled, ids in Core ids),
// like Channels.
func (c *Core) Bridges(ctx context.Context) ([]BridgeInfo, error) {
	lists := make([][]BridgeInfo, len(c.nodes))
	err := c.eachNode(ctx, "bridges", func(ctx context.Context, i int, n *node) error {
		var err error
		lists[i], err = n.b.Bridges(ctx)
		return err
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []BridgeInfo
	for i, n := range c.nodes {
		for _, bi := range lists[i] {
			be := c.bridgeFromRaw(n, bi.ID)
			members := make(map[ChannelID]Member, len(bi.Members))
			for ch, m := range bi.Members {
				id := c.lookupChannelRaw(n, ch)
				if m.WhisperTo != "" {
					m.WhisperTo = c.lookupChannelRaw(n, m.WhisperTo)
				}
				members[id] = m
				c.joinBridge(be.id, id, m)
			}
			// Members Core took out for a local hold (see Channels).
			for ch, h := range c.holds {
				if _, listed := members[ch]; !listed && h.inBridge && h.bridge == be.id {
					members[ch] = h.member
				}
			}
			out = append(out, BridgeInfo{ID: be.id, Node: n.name, Members: members})
		}
	}
	return out, err
}

// eachNode runs f for every node at once under the command timeout.
func (c *Core) eachNode(ctx context.Context, op string, f func(ctx context.Context, i int, n *node) error) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.do(ctx, op, func(ctx context.Context) error { return f(ctx, i, n) })
			if err != nil && len(c.nodes) > 1 {
				err = fmt.Errorf("node %s: %w", n.name, err)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

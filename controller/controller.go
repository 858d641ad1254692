package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hotline/acd"
	"hotline/controller/store"
	"hotline/internal/clock"
	"hotline/mediacore"
)

// DefaultCatchUp is how often a controller reads the change feed even
// without a wake-up: a safety net for a notification lost with a broken
// database connection, not the way changes normally arrive.
const DefaultCatchUp = 5 * time.Second

// applyTimeout bounds one application of the change feed when no caller's
// context does (the follower's own runs).
const applyTimeout = 30 * time.Second

// TrunkSetter is what the controller needs of the media layer to apply the
// stored trunks: *mediacore.Core implements it (and hands the trunks to
// every node whose backend implements mediacore.TrunkConfigurer).
type TrunkSetter interface {
	SetTrunks(ctx context.Context, trunks []mediacore.TrunkConfig) error
}

// Options configure a Controller. Store is required.
type Options struct {
	Store store.Store
	// Media receives the stored trunks at start and after every trunk
	// change; nil: no media layer (tests, `hotline migrate`).
	Media TrunkSetter
	// Clock drives the ACD's timers; nil means clock.Real.
	Clock clock.Clock
	// Logger; nil discards.
	Logger *slog.Logger
	// OnACDEvents receives, in order and on the ACD goroutine, every event
	// the ACD engine produces: its decisions (offers, overflows, ...) for
	// the call actors, and agent and call state changes. It must not block
	// and must not call into the ACD synchronously. nil drops them.
	OnACDEvents func([]acd.Event)
	// ACDOptions are passed to acd.New (a seeded random source in tests).
	ACDOptions []acd.Option
	// CatchUp is the change feed's safety-net period (DefaultCatchUp when
	// zero).
	CatchUp time.Duration
}

// Controller owns Hotline's configuration and live state. Every create,
// update and delete of configuration goes through its repositories (the
// API's only way to write): a write is committed to the store, which
// records it in the change feed, and the controller then applies every
// change it has not applied yet to its live parts before the write
// returns: the ACD engine (agents and queues), the media core's trunks and
// the number routes. Changes committed by other controller nodes on the
// same database arrive through the feed (Watch, plus a periodic catch-up)
// and are applied the same way, in revision order, exactly once each.
//
// Agents' SIP credentials are read from the store on every registrar
// lookup (Credentials), so a changed password or a disabled agent takes
// effect on the next REGISTER, on every node.
type Controller struct {
	st      store.Store
	media   TrunkSetter
	log     *slog.Logger
	catchUp time.Duration

	acd    *ACD
	acdCfg *acdConfig // owned by the ACD goroutine
	routes *Routes

	// applyMu serializes applying the feed and guards applied and
	// trunksDirty (trunk changes read but not yet handed to the media).
	applyMu     sync.Mutex
	applied     int64
	trunksDirty bool

	stopFollow context.CancelFunc
	followDone chan struct{}
	closeOnce  sync.Once
}

// New loads the configuration from the store into the live parts and
// starts following the change feed. Close stops it.
func New(ctx context.Context, opt Options) (*Controller, error) {
	if opt.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrInvalidOptions)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.CatchUp <= 0 {
		opt.CatchUp = DefaultCatchUp
	}
	c := &Controller{
		st: opt.Store, media: opt.Media, log: opt.Logger, catchUp: opt.CatchUp,
		acdCfg: newACDConfig(opt.Logger), routes: newRoutes(),
	}
	a, err := newACD(opt.Clock, opt.Logger, opt.OnACDEvents, opt.ACDOptions...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	c.acd = a
	// Watch before loading: a change committed while loading wakes the
	// follower, which reads it after the revision load started from.
	fctx, cancel := context.WithCancel(context.Background())
	wake := c.st.Watch(fctx)
	if err := c.load(ctx); err != nil {
		cancel()
		a.close()
		return nil, err
	}
	c.stopFollow, c.followDone = cancel, make(chan struct{})
	go c.follow(fctx, wake)
	return c, nil
}

// Close stops following the feed and stops the ACD owner. It does not
// close the store.
func (c *Controller) Close() error {
	c.closeOnce.Do(func() {
		c.stopFollow()
		<-c.followDone
		c.acd.close()
	})
	return nil
}

// ACD returns the owner of the live ACD engine.
func (c *Controller) ACD() *ACD { return c.acd }

// Routes returns the live number routes.
func (c *Controller) Routes() *Routes { return c.routes }

// Credentials returns the SIP credentials of the agents for a registrar.
func (c *Controller) Credentials() AgentCredentials { return AgentCredentials{Agents: c.st.Agents()} }

// Revision returns the last change revision applied to the live parts.
func (c *Controller) Revision() int64 {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	return c.applied
}

// QueueConfig returns the configuration the live ACD engine has for a
// queue; ok is false when it has none.
func (c *Controller) QueueConfig(ctx context.Context, id string) (cfg acd.QueueConfig, ok bool, err error) {
	err = c.acd.Do(ctx, func(*acd.Engine) ([]acd.Event, error) {
		cfg, ok = c.acdCfg.applied[acd.QueueID(id)]
		return nil, nil
	})
	return cfg, ok, err
}

// load reads the revision, then the whole configuration: changes
// committed while it loads are applied again by the first sync, which is
// harmless (applying a change reloads the record).
func (c *Controller) load(ctx context.Context) error {
	rev, err := c.st.Revision(ctx)
	if err != nil {
		return fmt.Errorf("controller: load: %w", err)
	}
	var agents []store.Agent
	var queues []store.Queue
	var numbers []store.Number
	if err := eachRecord(ctx, c.st.Agents(), func(a store.Agent) { agents = append(agents, a) }); err != nil {
		return fmt.Errorf("controller: load agents: %w", err)
	}
	if err := eachRecord(ctx, c.st.Queues(), func(q store.Queue) { queues = append(queues, q) }); err != nil {
		return fmt.Errorf("controller: load queues: %w", err)
	}
	if err := eachRecord(ctx, c.st.Numbers(), func(n store.Number) { numbers = append(numbers, n) }); err != nil {
		return fmt.Errorf("controller: load numbers: %w", err)
	}
	err = c.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		var out []acd.Event
		for _, a := range agents {
			c.acdCfg.setAgent(e, a, &out)
		}
		for _, q := range queues {
			c.acdCfg.setQueue(e, q, &out)
		}
		return out, nil
	})
	if err != nil {
		return fmt.Errorf("controller: load the ACD: %w", err)
	}
	for _, n := range numbers {
		c.routes.set(n)
	}
	if err := c.applyTrunks(ctx); err != nil {
		return err
	}
	c.applyMu.Lock()
	c.applied = rev
	c.applyMu.Unlock()
	c.log.Info("controller loaded", "revision", rev, "agents", len(agents), "queues", len(queues), "numbers", len(numbers))
	return nil
}

// follow applies the feed whenever the store says something committed,
// and every catchUp period in case a wake-up was lost.
func (c *Controller) follow(ctx context.Context, wake <-chan struct{}) {
	defer close(c.followDone)
	tick := time.NewTicker(c.catchUp)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				return
			}
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, applyTimeout)
		if err := c.Sync(sctx); err != nil && ctx.Err() == nil {
			c.log.Warn("applying the change feed failed; retrying on the next wake-up", "err", err)
		}
		cancel()
	}
}

// Sync applies every committed change after the last applied revision, in
// order. A change whose record cannot be read is retried by the next
// Sync; a change the live parts refuse (an invalid queue) is logged and
// passed over, so one bad record never stalls the feed.
func (c *Controller) Sync(ctx context.Context) error {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	for {
		changes, err := c.st.Changes(ctx, c.applied, store.MaxLimit)
		if err != nil {
			return fmt.Errorf("controller: read changes: %w", err)
		}
		if len(changes) == 0 {
			break
		}
		for _, ch := range changes {
			if ch.Kind == store.KindTrunk {
				// Trunks are handed over as one set, once per Sync; until
				// that succeeds trunksDirty keeps them due.
				c.trunksDirty = true
			} else if err := c.apply(ctx, ch); err != nil {
				return err
			}
			c.applied = ch.Revision
		}
	}
	if c.trunksDirty {
		if err := c.applyTrunks(ctx); err != nil {
			return err
		}
		c.trunksDirty = false
	}
	return nil
}

// apply brings one change to the live parts by reading the record as it
// is now (a later change to the same record is applied again after it:
// harmless).
func (c *Controller) apply(ctx context.Context, ch store.Change) error {
	switch ch.Kind {
	case store.KindAgent:
		a, err := c.st.Agents().Get(ctx, ch.ID)
		gone := errors.Is(err, store.ErrNotFound)
		if err != nil && !gone {
			return fmt.Errorf("controller: apply %s %s: %w", ch.Kind, ch.ID, err)
		}
		return c.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			var out []acd.Event
			if gone {
				c.acdCfg.removeAgent(e, ch.ID, &out)
			} else {
				c.acdCfg.setAgent(e, a, &out)
			}
			return out, nil
		})
	case store.KindQueue:
		q, err := c.st.Queues().Get(ctx, ch.ID)
		gone := errors.Is(err, store.ErrNotFound)
		if err != nil && !gone {
			return fmt.Errorf("controller: apply %s %s: %w", ch.Kind, ch.ID, err)
		}
		return c.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			var out []acd.Event
			if gone {
				c.acdCfg.removeQueue(e, ch.ID, &out)
			} else {
				c.acdCfg.setQueue(e, q, &out)
			}
			return out, nil
		})
	case store.KindNumber:
		n, err := c.st.Numbers().Get(ctx, ch.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c.routes.remove(ch.ID)
		case err != nil:
			return fmt.Errorf("controller: apply %s %s: %w", ch.Kind, ch.ID, err)
		default:
			c.routes.set(n)
		}
	}
	// Users, skills (referred to by name), schedules and lists have no
	// live copy yet: call handling reads them from the store.
	return nil
}

// applyTrunks hands every stored trunk to the media layer.
func (c *Controller) applyTrunks(ctx context.Context) error {
	if c.media == nil {
		return nil
	}
	var trunks []store.Trunk
	if err := eachRecord(ctx, c.st.Trunks(), func(t store.Trunk) { trunks = append(trunks, t) }); err != nil {
		return fmt.Errorf("controller: load trunks: %w", err)
	}
	if err := c.media.SetTrunks(ctx, TrunkConfigs(trunks)); err != nil {
		// The store holds the trunks: a refusal is the media layer's to
		// report, not a reason to stop following the feed.
		c.log.Error("the media core refused the trunks", "err", err)
	}
	return nil
}

// StoredTrunks returns every stored trunk in the media core's terms, for
// building media nodes at start (mediacore.Services.Trunks).
func StoredTrunks(ctx context.Context, st store.Store) ([]mediacore.TrunkConfig, error) {
	var trunks []store.Trunk
	if err := eachRecord(ctx, st.Trunks(), func(t store.Trunk) { trunks = append(trunks, t) }); err != nil {
		return nil, err
	}
	return TrunkConfigs(trunks), nil
}

// eachRecord calls fn for every record of repo, page by page.
func eachRecord[T any](ctx context.Context, repo store.Repo[T], fn func(T)) error {
	opt := store.ListOptions{Limit: store.MaxLimit}
	for {
		p, err := repo.List(ctx, opt)
		if err != nil {
			return err
		}
		for _, v := range p.Items {
			fn(v)
		}
		if p.Next == "" {
			return nil
		}
		opt.After = p.Next
	}
}

// wrote applies the feed after a successful write, so the change is live
// when the write returns. The write itself is committed: a failure to
// apply is logged and left to the follower, never reported as a failed
// write.
func (c *Controller) wrote(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	if serr := c.Sync(ctx); serr != nil {
		c.log.Warn("a committed change is not live yet; the follower retries", "err", serr)
	}
	return nil
}

package native

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"hotline/mediacore"
)

// trunkSet holds the live trunks and their outbound registrations.
// SetTrunks replaces it while calls run: a call keeps the trunk copy it
// started with.
type trunkSet struct {
	// opMu serialises SetTrunks, Start's and Close's changes of regs.
	opMu sync.Mutex

	// mu guards the fields below.
	mu      sync.Mutex
	list    []Trunk              // every trunk, disabled ones included
	regs    map[string]*trunkReg // running registrations by trunk name
	running bool                 // Start ran and Close did not
	wg      sync.WaitGroup       // registration goroutines
}

// trunkReg is one trunk's registration goroutine.
type trunkReg struct {
	trunk  Trunk // guarded by trunkSet.mu; the goroutine has its own copy
	cancel context.CancelFunc
	done   chan struct{}

	// mu guards registered.
	mu         sync.Mutex
	registered bool // the last REGISTER was accepted
}

// trunkList returns the trunks in use (not disabled). The slice is the
// caller's; the Trunk values share read-only InboundFrom arrays.
func (b *Backend) trunkList() []Trunk {
	b.trunks.mu.Lock()
	defer b.trunks.mu.Unlock()
	out := make([]Trunk, 0, len(b.trunks.list))
	for _, t := range b.trunks.list {
		if !t.Disabled {
			out = append(out, t)
		}
	}
	return out
}

// SetTrunks implements mediacore.TrunkConfigurer: it replaces every trunk
// (those of Config.Trunks included) by trunks, validated like
// Config.Trunks. New trunks with Register start registering; removed or
// disabled ones unregister (REGISTER with Expires: 0); a trunk whose
// registration changed (address, transport, credentials, expiry)
// unregisters the old binding and registers the new one. Calls in
// progress keep the trunk they started with. Invalid input changes
// nothing and wraps mediacore.ErrInvalidArgument.
func (b *Backend) SetTrunks(ctx context.Context, cfgs []mediacore.TrunkConfig) error {
	list := make([]Trunk, 0, len(cfgs))
	for _, tc := range cfgs {
		t, err := trunkFromConfig(tc)
		if err != nil {
			return fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
		}
		list = append(list, t)
	}
	list, err := validateTrunks(list)
	if err != nil {
		return fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return mediacore.ErrClosed
	}
	b.trunks.opMu.Lock()
	defer b.trunks.opMu.Unlock()
	b.trunks.mu.Lock()
	b.trunks.list = list
	b.trunks.mu.Unlock()
	b.reconcileRegistrations()
	return nil
}

// trunkFromConfig maps the contract's neutral trunk to a native Trunk.
// InboundFrom entries are prefixes ("10.0.0.0/8") or single addresses.
func trunkFromConfig(tc mediacore.TrunkConfig) (Trunk, error) {
	t := Trunk{
		Name: tc.Name, Address: tc.Address, Transport: strings.ToLower(tc.Transport), Priority: tc.Priority,
		Username: tc.Username, Password: tc.Password, Register: tc.Register, RegisterExpiry: tc.RegisterExpiry,
		CallerID: tc.CallerID, Timeout: tc.Timeout, Disabled: tc.Disabled,
	}
	for _, s := range tc.InboundFrom {
		p, err := parseSource(s)
		if err != nil {
			return Trunk{}, fmt.Errorf("%w: trunk %s inbound_from %q", ErrConfig, tc.Name, s)
		}
		t.InboundFrom = append(t.InboundFrom, p)
	}
	return t, nil
}

// parseSource parses "10.0.0.0/8" or "192.0.2.7" (a /32 or /128).
func parseSource(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("4in6 prefix %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// TrunkConfigs returns the live trunks in the contract's form (for
// reconcile and tests).
func (b *Backend) TrunkConfigs() []mediacore.TrunkConfig {
	b.trunks.mu.Lock()
	defer b.trunks.mu.Unlock()
	out := make([]mediacore.TrunkConfig, 0, len(b.trunks.list))
	for _, t := range b.trunks.list {
		tc := mediacore.TrunkConfig{
			Name: t.Name, Address: t.Address, Transport: t.Transport, Priority: t.Priority,
			Username: t.Username, Password: t.Password, Register: t.Register, RegisterExpiry: t.RegisterExpiry,
			CallerID: t.CallerID, Timeout: t.Timeout, Disabled: t.Disabled,
		}
		for _, p := range t.InboundFrom {
			tc.InboundFrom = append(tc.InboundFrom, p.String())
		}
		out = append(out, tc)
	}
	return out
}

// sameRegistration reports whether a and c register the same binding.
func sameRegistration(a, c Trunk) bool {
	return a.Address == c.Address && a.Transport == c.Transport && a.Username == c.Username &&
		a.Password == c.Password && a.RegisterExpiry == c.RegisterExpiry
}

// startTrunkRegistrations starts the registrations of the trunks with
// Register set (called by Start once SIP listens).
func (b *Backend) startTrunkRegistrations() {
	b.trunks.opMu.Lock()
	defer b.trunks.opMu.Unlock()
	b.trunks.mu.Lock()
	b.trunks.running = true
	b.trunks.mu.Unlock()
	b.reconcileRegistrations()
}

// stopTrunkRegistrations stops every registration, each unregistering
// with a short deadline, and waits for them (Close, before the SIP stack
// goes).
func (b *Backend) stopTrunkRegistrations() {
	b.trunks.opMu.Lock()
	b.trunks.mu.Lock()
	b.trunks.running = false
	regs := b.trunks.regs
	b.trunks.regs = nil
	b.trunks.mu.Unlock()
	b.trunks.opMu.Unlock()
	for _, r := range regs {
		r.cancel()
	}
	b.trunks.wg.Wait()
}

// reconcileRegistrations makes the running registrations match the list:
// it stops those no longer wanted or changed and starts the missing ones.
// A restarted trunk's new goroutine waits for the old one's un-REGISTER,
// so the carrier never sees the removal after the new binding. Callers
// hold trunks.opMu.
func (b *Backend) reconcileRegistrations() {
	b.trunks.mu.Lock()
	defer b.trunks.mu.Unlock()
	if !b.trunks.running {
		return
	}
	want := map[string]Trunk{}
	for _, t := range b.trunks.list {
		if t.Register && !t.Disabled {
			want[t.Name] = t
		}
	}
	if b.trunks.regs == nil {
		b.trunks.regs = map[string]*trunkReg{}
	}
	stopped := map[string]*trunkReg{}
	for name, r := range b.trunks.regs {
		if w, ok := want[name]; ok && sameRegistration(w, r.trunk) {
			r.trunk = w // priority, caller id... need no new binding
			continue
		}
		r.cancel()
		stopped[name] = r
		delete(b.trunks.regs, name)
	}
	for name, t := range want {
		if b.trunks.regs[name] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(b.ctx)
		r := &trunkReg{trunk: t, cancel: cancel, done: make(chan struct{})}
		b.trunks.regs[name] = r
		b.trunks.wg.Add(1)
		go b.runRegistration(ctx, r, t, stopped[name])
	}
}

// runRegistration keeps one trunk registered (RFC 3261 §10.2), refreshed
// at 80% of the granted lifetime and retried every 30 s after a failure;
// when ctx ends it unregisters (Expires: 0) with a short deadline, so a
// carrier that does not answer stalls neither SetTrunks nor Close.
func (b *Backend) runRegistration(ctx context.Context, r *trunkReg, t Trunk, prev *trunkReg) {
	defer b.trunks.wg.Done()
	defer close(r.done)
	if prev != nil {
		select {
		case <-prev.done:
		case <-ctx.Done():
		}
	}
	for ctx.Err() == nil {
		granted, err := b.registerTrunk(ctx, &t, t.RegisterExpiry)
		r.mu.Lock()
		r.registered = err == nil
		r.mu.Unlock()
		wait := 30 * time.Second
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("trunk registration failed", "trunk", t.Name, "err", err)
			}
		} else {
			wait = granted * 8 / 10
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
	}
	uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := b.registerTrunk(uctx, &t, 0); err != nil {
		b.log.Debug("trunk unregistration", "trunk", t.Name, "err", err)
	}
	r.mu.Lock()
	r.registered = false
	r.mu.Unlock()
}

// trunkRegistered reports whether the trunk's last REGISTER succeeded.
func (b *Backend) trunkRegistered(name string) bool {
	b.trunks.mu.Lock()
	r := b.trunks.regs[name]
	b.trunks.mu.Unlock()
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registered
}

package registrar

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Contact is one binding of a user: where the user's phone can be reached.
type Contact struct {
	// URI is the Contact URI as registered, e.g.
	// "sip:1001@192.0.2.10:5060;transport=udp". Parse it with sip.ParseUri.
	URI string
	// Expires is when the binding lapses unless refreshed.
	Expires time.Time
	// Registered is when this binding was first created.
	Registered time.Time
	// CallID and CSeq are those of the REGISTER that last refreshed it.
	CallID string
	CSeq   uint32
	// Source is the "ip:port" the REGISTER came from. A phone behind NAT is
	// reachable there, not at URI, so the core sends requests to Source
	// over Transport when the two differ.
	Source string
	// Transport is the transport of that REGISTER ("UDP", "TCP", ...).
	Transport string
	// UserAgent is the phone's User-Agent header, for display.
	UserAgent string
}

// EventKind says what happened to a binding.
type EventKind int

const (
	// Registered: a new binding exists (refreshes do not emit events).
	Registered EventKind = iota + 1
	// Unregistered: a binding is gone; Event.Reason says why.
	Unregistered
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case Registered:
		return "registered"
	case Unregistered:
		return "unregistered"
	default:
		return fmt.Sprintf("EventKind(%d)", int(k))
	}
}

// Reason says why a binding went away.
type Reason int

const (
	// ReasonNone is the reason of Registered events.
	ReasonNone Reason = iota
	// ReasonExpired: not refreshed in time (found by Sweep).
	ReasonExpired
	// ReasonRemoved: the phone unregistered (expires=0 or "Contact: *").
	ReasonRemoved
	// ReasonEvicted: the user reached the contact cap and this was the
	// binding closest to expiry.
	ReasonEvicted
	// ReasonAdmin: removed through Unbind.
	ReasonAdmin
)

// String names the reason.
func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return ""
	case ReasonExpired:
		return "expired"
	case ReasonRemoved:
		return "removed"
	case ReasonEvicted:
		return "evicted"
	case ReasonAdmin:
		return "admin"
	default:
		return fmt.Sprintf("Reason(%d)", int(r))
	}
}

// Event reports a binding change to OnChange subscribers.
type Event struct {
	Kind    EventKind
	User    string
	Contact Contact
	Reason  Reason
}

// binding is a stored Contact plus its comparison key.
type binding struct {
	key string
	Contact
}

// contactUpdate is one Contact of a REGISTER after parsing.
type contactUpdate struct {
	// key compares contacts (RFC 3261 §10.3 step 7 asks for URI
	// equivalence; scheme and host are case-folded, the rest compared as
	// written, which is what phones reproduce on every refresh).
	key string
	uri string
	// expires is the requested duration: the contact's expires param, else
	// the Expires header, else the default, already resolved.
	expires time.Duration
}

// update is a parsed, authenticated REGISTER.
type update struct {
	user      string
	callID    string
	cseq      uint32
	source    string
	transport string
	userAgent string
	// wildcard is "Contact: *"; contacts is then empty.
	wildcard bool
	contacts []contactUpdate
}

// limits are the expiry rules applied to an update.
type limits struct {
	min, max    time.Duration
	maxContacts int
}

// intervalError carries the minimum for the Min-Expires header.
type intervalError struct{ min time.Duration }

func (e *intervalError) Error() string {
	return fmt.Sprintf("%v: minimum is %d s", errIntervalTooBrief, int(e.min/time.Second))
}

func (e *intervalError) Unwrap() error { return errIntervalTooBrief }

// bindings is the in-memory store: user -> contacts. It does no I/O and
// takes time as an argument.
type bindings struct {
	// mu guards users.
	mu    sync.Mutex
	users map[string][]binding
}

func newBindings() *bindings { return &bindings{users: make(map[string][]binding)} }

// apply validates u against the stored bindings and applies it atomically
// (RFC 3261 §10.3 steps 5-8): either every contact is updated or nothing
// is. It returns the user's bindings afterwards and the events to emit.
func (b *bindings) apply(now time.Time, u update, lim limits) ([]Contact, []Event, error) {
	if u.wildcard && len(u.contacts) > 0 {
		return nil, nil, fmt.Errorf("%w: Contact * with other contacts", errBadRequest)
	}
	if len(u.contacts) > lim.maxContacts {
		return nil, nil, fmt.Errorf("%w: %d in one request, at most %d", errTooManyContacts, len(u.contacts), lim.maxContacts)
	}
	// Step 5: refuse too brief intervals before touching anything.
	for i, c := range u.contacts {
		switch {
		case c.expires == 0:
		case c.expires < lim.min:
			return nil, nil, &intervalError{min: lim.min}
		case c.expires > lim.max:
			u.contacts[i].expires = lim.max
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	cur, expired := b.splitLocked(u.user, now)
	// Expired bindings not yet swept leave with this update; they still get
	// their event, like those Sweep finds.
	var events []Event
	for _, x := range expired {
		events = append(events, Event{Kind: Unregistered, User: u.user, Contact: x.Contact, Reason: ReasonExpired})
	}

	if u.wildcard {
		// Step 6: remove all, unless a binding from this Call-ID has a CSeq
		// at least as high, in which case the whole request fails.
		for _, x := range cur {
			if x.CallID == u.callID && u.cseq <= x.CSeq {
				return nil, nil, fmt.Errorf("%w: CSeq %d <= %d", errOutOfOrder, u.cseq, x.CSeq)
			}
		}
		for _, x := range cur {
			events = append(events, Event{Kind: Unregistered, User: u.user, Contact: x.Contact, Reason: ReasonRemoved})
		}
		delete(b.users, u.user)
		return nil, events, nil
	}

	// Step 7, validation pass: any out-of-order contact aborts the request.
	for _, c := range u.contacts {
		if i := indexKey(cur, c.key); i >= 0 && cur[i].CallID == u.callID && u.cseq <= cur[i].CSeq {
			return nil, nil, fmt.Errorf("%w: CSeq %d <= %d", errOutOfOrder, u.cseq, cur[i].CSeq)
		}
	}
	// Apply pass.
	next := cur
	for _, c := range u.contacts {
		i := indexKey(next, c.key)
		if c.expires == 0 {
			if i >= 0 {
				events = append(events, Event{Kind: Unregistered, User: u.user, Contact: next[i].Contact, Reason: ReasonRemoved})
				next = slices.Delete(next, i, i+1)
			}
			continue
		}
		nb := binding{key: c.key, Contact: Contact{
			URI: c.uri, Expires: now.Add(c.expires), Registered: now,
			CallID: u.callID, CSeq: u.cseq, Source: u.source, Transport: u.transport, UserAgent: u.userAgent,
		}}
		if i >= 0 {
			nb.Registered = next[i].Registered
			next[i] = nb
			continue
		}
		if len(next) >= lim.maxContacts {
			// Evict the binding closest to expiry: most likely a phone that
			// rebooted with a new contact and will never refresh the old one.
			j := 0
			for k := range next {
				if next[k].Expires.Before(next[j].Expires) {
					j = k
				}
			}
			events = append(events, Event{Kind: Unregistered, User: u.user, Contact: next[j].Contact, Reason: ReasonEvicted})
			next = slices.Delete(next, j, j+1)
		}
		next = append(next, nb)
		events = append(events, Event{Kind: Registered, User: u.user, Contact: nb.Contact})
	}
	if len(next) == 0 {
		delete(b.users, u.user)
	} else {
		b.users[u.user] = next
	}
	return contactsOf(next), events, nil
}

// splitLocked returns copies of the user's bindings that are live at now and
// of those that have expired. Expired ones stay stored until sweep or the
// next update reports them, so that every binding gets its Unregistered
// event.
func (b *bindings) splitLocked(user string, now time.Time) (live, expired []binding) {
	for _, x := range b.users[user] {
		if now.Before(x.Expires) {
			live = append(live, x)
		} else {
			expired = append(expired, x)
		}
	}
	return live, expired
}

// lookup returns copies of the user's live bindings.
func (b *bindings) lookup(user string, now time.Time) []Contact {
	b.mu.Lock()
	defer b.mu.Unlock()
	live, _ := b.splitLocked(user, now)
	return contactsOf(live)
}

// snapshot returns copies of every user's live bindings.
func (b *bindings) snapshot(now time.Time) map[string][]Contact {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string][]Contact, len(b.users))
	for user := range b.users {
		if live, _ := b.splitLocked(user, now); len(live) > 0 {
			out[user] = contactsOf(live)
		}
	}
	return out
}

// sweep removes bindings expired at now and returns their events.
func (b *bindings) sweep(now time.Time) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var events []Event
	for user, bs := range b.users {
		keep := bs[:0]
		for _, x := range bs {
			if now.Before(x.Expires) {
				keep = append(keep, x)
				continue
			}
			events = append(events, Event{Kind: Unregistered, User: user, Contact: x.Contact, Reason: ReasonExpired})
		}
		if len(keep) == 0 {
			delete(b.users, user)
		} else {
			b.users[user] = keep
		}
	}
	return events
}

// remove drops all of a user's bindings.
func (b *bindings) remove(user string) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var events []Event
	for _, x := range b.users[user] {
		events = append(events, Event{Kind: Unregistered, User: user, Contact: x.Contact, Reason: ReasonAdmin})
	}
	delete(b.users, user)
	return events
}

// count returns the number of stored bindings (live or not yet swept).
func (b *bindings) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, bs := range b.users {
		n += len(bs)
	}
	return n
}

func indexKey(bs []binding, key string) int {
	for i := range bs {
		if bs[i].key == key {
			return i
		}
	}
	return -1
}

func contactsOf(bs []binding) []Contact {
	if len(bs) == 0 {
		return nil
	}
	out := make([]Contact, len(bs))
	for i := range bs {
		out[i] = bs[i].Contact
	}
	return out
}

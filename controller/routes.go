package controller

import (
	"sync"

	"hotline/controller/store"
)

// Routes is the live table of access numbers: the called number (DID) of
// an inbound call selects its route here, without a database read. The
// controller keeps it in step with every committed change of numbers (its
// own and, through the change feed, other nodes'). It is safe for
// concurrent use.
type Routes struct {
	// mu guards byNumber and byID.
	mu       sync.RWMutex
	byNumber map[string]store.Number
	byID     map[string]string // number id -> DID, to follow renumbering
}

func newRoutes() *Routes {
	return &Routes{byNumber: map[string]store.Number{}, byID: map[string]string{}}
}

// Lookup returns the stored number record of did (its Route, schedule and
// after-hours target); ok is false for a number nobody configured.
func (r *Routes) Lookup(did string) (store.Number, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n, ok := r.byNumber[did]
	return n, ok
}

// Len returns how many numbers are routed.
func (r *Routes) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byNumber)
}

func (r *Routes) set(n store.Number) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byID[n.ID]; ok && old != n.Number {
		delete(r.byNumber, old)
	}
	r.byID[n.ID] = n.Number
	r.byNumber[n.Number] = n
}

func (r *Routes) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if did, ok := r.byID[id]; ok {
		delete(r.byNumber, did)
		delete(r.byID, id)
	}
}

package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
)

// fakeBlocker is a registrar's block list in memory.
type fakeBlocker struct {
	mu     sync.Mutex // guards blocks
	blocks []SIPBlock
}

func (f *fakeBlocker) SIPBlocks() []SIPBlock {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SIPBlock(nil), f.blocks...)
}

func (f *fakeBlocker) ClearSIPBlocks(source, user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	kept := f.blocks[:0]
	for _, b := range f.blocks {
		if b.Source == source && (user == "" || b.User == user) {
			n++
			continue
		}
		kept = append(kept, b)
	}
	f.blocks = kept
	return n
}

func TestSIPBlocks(t *testing.T) {
	until := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	fb := &fakeBlocker{blocks: []SIPBlock{
		{Kind: "user", User: "1001", Source: "192.0.2.7", Until: until, Count: 2},
		{Kind: "user", User: "1002", Source: "192.0.2.7", Until: until, Count: 1},
		{Kind: "source", Source: "198.51.100.9", Until: until, Count: 1},
	}}
	clock := hclock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := memstore.New(clock.Now)
	ctl := newController(t, st)
	srv, err := New(Options{Controller: ctl, Now: clock.Now, BcryptCost: bcrypt.MinCost, SIPBlocks: fb})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, clock.Now()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, h: srv.Handler(), st: st, ctl: ctl, mem: st, clock: clock}

	var list sipBlockList
	e.admin("GET", "/api/v1/sip/blocks", nil, http.StatusOK, &list)
	if len(list.Items) != 3 || list.Items[0].User != "1001" || list.Items[0].Count != 2 || !list.Items[0].Until.Equal(until) {
		t.Fatalf("blocks %+v", list.Items)
	}
	_, sup := e.userToken("sup", store.RoleSupervisor, "")
	if got := e.do(req{method: "GET", path: "/api/v1/sip/blocks", token: sup}); got.Code != http.StatusForbidden {
		t.Errorf("supervisor lists blocks: %d, want 403", got.Code)
	}
	if got := e.do(req{method: "DELETE", path: "/api/v1/sip/blocks/192.0.2.7?user=1001", token: sup}); got.Code != http.StatusForbidden {
		t.Errorf("supervisor lifts a block: %d, want 403", got.Code)
	}
	e.admin("DELETE", "/api/v1/sip/blocks/192.0.2.7?user=1001", nil, http.StatusNoContent, nil)
	e.admin("GET", "/api/v1/sip/blocks", nil, http.StatusOK, &list)
	if len(list.Items) != 2 || list.Items[0].User != "1002" {
		t.Fatalf("after lifting 1001's block: %+v", list.Items)
	}
	e.admin("DELETE", "/api/v1/sip/blocks/198.51.100.9", nil, http.StatusNoContent, nil)
	e.admin("DELETE", "/api/v1/sip/blocks/198.51.100.9", nil, http.StatusNotFound, nil)
	if ae := e.admin("DELETE", "/api/v1/sip/blocks/not-an-ip", nil, http.StatusBadRequest, nil).err(t); ae.Field != "source" {
		t.Errorf("bad source: field %q, want source", ae.Field)
	}
}

package api

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/acd"
	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native"
)

// The conference routes over the real call path and the native core:
// rooms and the number are created over REST, two phones dial in with the
// PIN, a supervisor lists them, mutes one (the other stops hearing it),
// and kicks it (its call ends).
func TestConferenceRESTNative(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	st := memstore.New(nil)
	b, err := native.New(native.Config{Listen: "127.0.0.1:0", MediaDir: t.TempDir(), AllowUnknownSources: true,
		SetupTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ccp atomic.Pointer[controller.CallCenter]
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleMedia(ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ctl := newController(t, st, func(o *controller.Options) {
		o.Media = core
		o.OnACDEvents = func(evs []acd.Event) {
			if c := ccp.Load(); c != nil {
				c.HandleACD(evs)
			}
		}
	})
	cc, err := controller.NewCallCenter(controller.CallCenterOptions{Controller: ctl, Media: core})
	if err != nil {
		t.Fatal(err)
	}
	ccp.Store(cc)
	t.Cleanup(func() {
		cc.Close()
		_ = core.Close()
	})
	clock := hclock.NewFake(time.Now().UTC())
	srv, err := New(Options{Controller: ctl, Live: cc, Now: clock.Now, BcryptCost: bcrypt.MinCost, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(ctx, ctl, adminSecret, clock.Now()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, h: srv.Handler(), st: st, ctl: ctl, mem: st, clock: clock}
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")

	var room store.Conference
	e.must(req{method: "POST", path: "/api/v1/conferences", token: adminSecret,
		body: map[string]any{"name": "Daily", "number": "8800", "pin": "2468"}}, http.StatusCreated, &room)
	e.must(req{method: "POST", path: "/api/v1/numbers", token: adminSecret,
		body: map[string]any{"number": "8800", "route": map[string]any{"kind": "conference", "value": room.ID}}},
		http.StatusCreated, nil)

	dial := func(user string, tone float64) *sippeer.Call {
		p, err := sippeer.New(sippeer.Config{User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		c, err := p.Dial(ctx, "sip:8800@"+b.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SendDTMF("2468#")
		c.SetTone(tone)
		return c
	}
	a := dial("13900000001", 530)
	bCall := dial("13900000002", 1270)
	base := "/api/v1/conferences/" + room.ID + "/members"
	var list conferenceMemberList
	deadline := time.Now().Add(30 * time.Second)
	for {
		e.must(req{method: "GET", path: base, token: supTok}, http.StatusOK, &list)
		if len(list.Items) == 2 && list.Items[0].State == "joined" && list.Items[1].State == "joined" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members %+v", list.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var bID string
	for _, m := range list.Items {
		if m.Endpoint == "13900000002" {
			bID = m.ID
		}
	}
	hears := func(what string, c *sippeer.Call, f float64, want bool) {
		t.Helper()
		c.ClearHeard()
		deadline := time.Now().Add(15 * time.Second)
		for {
			if s := c.Heard(600 * time.Millisecond); len(s) >= 4800 {
				r := audio.ToneRatio(s, audio.SampleRate, f)
				if want && r > 0.3 || !want && r < 0.005 {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: hears %v Hz should be %v", what, f, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	hears("a before the mute", a, 1270, true)

	var m controller.ConferenceMember
	e.must(req{method: "POST", path: base + "/" + bID + "/mute", token: supTok}, http.StatusOK, &m)
	if !m.Muted {
		t.Fatalf("after mute %+v", m)
	}
	hears("a with b muted", a, 1270, false)
	hears("muted b", bCall, 530, true)

	e.must(req{method: "DELETE", path: base + "/" + bID, token: supTok}, http.StatusNoContent, nil)
	select {
	case <-bCall.Done():
	case <-ctx.Done():
		t.Fatal("the kicked member's call did not end")
	}
	e.must(req{method: "GET", path: base, token: supTok}, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Endpoint != "13900000001" {
		t.Errorf("members after the kick %+v", list.Items)
	}
	wantField(t, e.do(req{method: "POST", path: base + "/" + bID + "/unmute", token: supTok}), http.StatusNotFound, "")
	// The audit log has the supervisor's actions.
	var audit page[store.AuditEntry]
	e.must(req{method: "GET", path: "/api/v1/audit?resource=conferences", token: adminSecret}, http.StatusOK, &audit)
	var actions []string
	for _, a := range audit.Items {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "kick") || !strings.Contains(got, "mute") {
		t.Errorf("audited conference actions %q", got)
	}
	if err := a.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

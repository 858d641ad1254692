package storetest

import (
	"context"
	"fmt"
	"testing"

	"hotline/controller/store"
)

var voicemailBoxSuite = repoSuite[store.VoicemailBox]{
	repo: func(s store.Store) store.Repo[store.VoicemailBox] { return s.VoicemailBoxes() },
	make: func(i int) store.VoicemailBox {
		b := store.VoicemailBox{Name: fmt.Sprintf("box-%d", i), OwnerKind: store.VoicemailOwnerQueue, OwnerID: "q1",
			PIN: "1234"}
		if i%2 == 0 {
			b.OwnerKind, b.OwnerID = store.VoicemailOwnerAgent, "a1"
			b.Greeting = store.VoicemailGreeting{File: "greetings/a1.wav", Text: "请留言"}
			b.Email, b.Language = "a1@example.com", "en"
		}
		return b
	},
	mutate: func(v *store.VoicemailBox) {
		v.PIN = "987654"
		v.Greeting.Text = "changed"
		v.Email = "other@example.com"
	},
	setKey: func(v *store.VoicemailBox, from store.VoicemailBox) { v.Name = from.Name },
	getByKey: func(ctx context.Context, s store.Store, like store.VoicemailBox) (store.VoicemailBox, error) {
		return s.VoicemailBoxes().GetByName(ctx, like.Name)
	},
}

var voicemailMessageSuite = repoSuite[store.VoicemailMessage]{
	repo: func(s store.Store) store.Repo[store.VoicemailMessage] { return s.VoicemailMessages() },
	make: func(i int) store.VoicemailMessage {
		return store.VoicemailMessage{BoxID: fmt.Sprintf("box-%d", i%3), CallID: fmt.Sprintf("call-%d", i),
			Caller: "13800000001", Called: "800", At: at(1, i%60), Duration: 12.5, RecordingID: fmt.Sprintf("vm-call-%d", i),
			Path: "2026/03/01/vm.wav", Bytes: 1234, State: store.VoicemailNew}
	},
	mutate: func(v *store.VoicemailMessage) { v.State = store.VoicemailSaved },
	setKey: func(v *store.VoicemailMessage, from store.VoicemailMessage) { v.CallID = from.CallID },
}

// testVoicemailListByBox pages through one box's messages only.
func testVoicemailListByBox(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	var want []string
	for i := range 7 {
		m := voicemailMessageSuite.make(i)
		must(t, "create message", s.VoicemailMessages().Create(c, &m))
		if m.BoxID == "box-1" {
			want = append(want, m.ID)
		}
	}
	var got []string
	opt := store.ListOptions{Limit: 1}
	for {
		p, err := s.VoicemailMessages().ListByBox(c, "box-1", opt)
		must(t, "list by box", err)
		for _, m := range p.Items {
			if m.BoxID != "box-1" {
				t.Fatalf("message of %s listed for box-1", m.BoxID)
			}
			got = append(got, m.ID)
		}
		if p.Next == "" {
			break
		}
		opt.After = p.Next
	}
	equal(t, "box-1 messages", got, want)
	p, err := s.VoicemailMessages().ListByBox(c, "box-9", store.ListOptions{})
	must(t, "list an empty box", err)
	if p.Items == nil || len(p.Items) != 0 {
		t.Fatalf("empty box page = %#v", p)
	}
}

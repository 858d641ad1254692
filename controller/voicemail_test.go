package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hotline/controller/store"
	"hotline/internal/smtpmail"
	"hotline/mediacore"
)

// fakeMailer keeps what it is asked to send, or fails.
type fakeMailer struct {
	mu   sync.Mutex
	sent []smtpmail.Message
	fail bool
}

func (m *fakeMailer) Send(_ context.Context, msg smtpmail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("mail server down")
	}
	m.sent = append(m.sent, msg)
	return nil
}

func (m *fakeMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// A queue's overflow to voicemail reaches the box it names, or the box of
// the queue it names; the message is stored and mailed. A failing mail
// server loses no message. A target naming no box still records, with no
// message.
func TestVoicemailOverflowPicksTheBox(t *testing.T) {
	for _, tc := range []struct {
		name      string
		target    string // the overflow's voicemail value
		boxName   string // "" stores no box
		mailFails bool
	}{
		{"by box name", "short-box", "short-box", false},
		{"by queue name", "short", "7001", false},
		{"mail server down", "short-box", "short-box", true},
		{"no such box", "nobody", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mailer := &fakeMailer{fail: tc.mailFails}
			h := newHarness(t, func(o *CallCenterOptions) { o.Mailer = mailer })
			q := h.queue(store.Queue{Name: "short", Strategy: store.StrategyLongestIdle, RingTimeout: 10, MaxWait: 20,
				JoinWhenNoAgents: true, Overflow: &store.Target{Kind: store.TargetVoicemail, Value: tc.target},
				Members: []store.QueueMember{{AgentID: h.agents["1001"]}}})
			h.number(store.Number{Number: "810", Route: store.Target{Kind: store.TargetQueue, Value: q}})
			var box store.VoicemailBox
			if tc.boxName != "" {
				box = store.VoicemailBox{Name: tc.boxName, OwnerKind: store.VoicemailOwnerQueue, OwnerID: q, PIN: "1234",
					Email: "short@example.com"}
				if err := h.st.VoicemailBoxes().Create(h.ctx, &box); err != nil {
					t.Fatal(err)
				}
			}
			ch := h.fake.Inbound("13800000001", "810")
			h.until("voicemail recording", 30*time.Second, func() bool { return len(h.fake.CallsOf("record")) == 1 })
			if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
				t.Fatal(err)
			}
			h.until("the CDR", 40*time.Second, h.cdrCount(1))
			cdr := h.j.CDRs()[0]
			if cdr.Outcome != store.OutcomeVoicemail || cdr.Variables["voicemail_box"] != tc.target {
				t.Errorf("CDR = %+v", cdr)
			}
			msgs, err := h.st.VoicemailMessages().List(h.ctx, store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.boxName == "" {
				if len(msgs.Items) != 0 || cdr.Variables["voicemail_box_id"] != "" {
					t.Fatalf("a message without a box: %+v", msgs.Items)
				}
				return
			}
			if len(msgs.Items) != 1 {
				t.Fatalf("messages = %+v", msgs.Items)
			}
			m := msgs.Items[0]
			if m.BoxID != box.ID || m.CallID != cdr.ID || m.RecordingID != cdr.RecordingID || m.Path == "" ||
				cdr.Variables["voicemail_message_id"] != m.ID {
				t.Errorf("message = %+v, CDR variables %v", m, cdr.Variables)
			}
			if !tc.mailFails {
				h.waitReal("the e-mail", func() bool { return mailer.count() == 1 })
				sent := mailer.sent[0]
				if sent.To[0] != "short@example.com" || len(sent.Attachments) != 1 ||
					string(sent.Attachments[0].Data) != string(h.recs.get(m.Path)) {
					t.Errorf("e-mail = %+v", sent)
				}
			}
		})
	}
}

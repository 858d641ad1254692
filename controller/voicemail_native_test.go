package controller

import (
	"context"
	"encoding/binary"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/internal/smtpmail"
	"hotline/internal/smtpmail/smtptest"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// vmTone is what the caller says into voicemail: no DTMF frequency, no
// note of the music on hold.
const vmTone = 1100.0

// monoWAV returns the samples of a 16-bit PCM mono WAV and its rate.
func monoWAV(wav []byte) ([]int16, float64, bool) {
	if len(wav) < 12 || string(wav[:4]) != "RIFF" {
		return nil, 0, false
	}
	channels, rate := 0, 0.0
	for p := 12; p+8 <= len(wav); {
		id, size := string(wav[p:p+4]), int(binary.LittleEndian.Uint32(wav[p+4:p+8]))
		body := wav[p+8:]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = float64(binary.LittleEndian.Uint32(body[4:8]))
		case "data":
			if channels != 1 {
				return nil, 0, false
			}
			size = min(size, len(body))
			out := make([]int16, 0, size/2)
			for i := 0; i+2 <= size; i += 2 {
				out = append(out, int16(binary.LittleEndian.Uint16(body[i:])))
			}
			return out, rate, len(out) > 0
		}
		p += 8 + size + size&1
	}
	return nil, 0, false
}

// vmCenter is the native call center with a loopback SMTP server as its
// mailer (STARTTLS, AUTH), the queue "sales" owning box 8001 (PIN 1234) and the voicemail
// menu on 8500.
func vmCenter(t *testing.T) (*nativeCenter, *smtptest.Server, store.VoicemailBox) {
	t.Helper()
	srv, err := smtptest.StartTLS("hotline", "mail-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Addr())
	pn, _ := strconv.Atoi(port)
	mailer := smtpmail.Config{Host: host, Port: pn, StartTLS: true, TLS: srv.ClientTLS(), Username: "hotline",
		Password: "mail-secret", From: "Hotline <hotline@example.com>"}
	n := newNativeCenter(t, nil, func(o *CallCenterOptions) { o.Mailer = mailer })
	ctx := t.Context()
	q, err := n.st.Queues().GetByName(ctx, "sales")
	if err != nil {
		t.Fatal(err)
	}
	box := store.VoicemailBox{Name: "8001", OwnerKind: store.VoicemailOwnerQueue, OwnerID: q.ID, PIN: "1234",
		Email: "sales@example.com", Greeting: store.VoicemailGreeting{Text: "销售部语音信箱"}}
	if err := n.st.VoicemailBoxes().Create(ctx, &box); err != nil {
		t.Fatal(err)
	}
	if err := n.ctl.Numbers().Create(ctx, &store.Number{Number: "8500",
		Route: store.Target{Kind: store.TargetVoicemailAccess}}); err != nil {
		t.Fatal(err)
	}
	return n, srv, box
}

// leaveMessage: a caller dials 800, presses 1 for sales, waits with no
// agent, presses # (KeyVoicemail) and speaks tone for two seconds.
func leaveMessage(t *testing.T, n *nativeCenter, tone float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	phone, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	call, err := phone.Dial(ctx, n.uri("800"))
	if err != nil {
		t.Fatal(err)
	}
	call.SendDTMF("1")
	eventually(t, "queued", 10*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		return len(calls) == 1 && calls[0].State == "queued"
	})
	call.SendDTMF("#")
	eventually(t, "recording the message", 20*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		return len(calls) == 1 && calls[0].State == "voicemail" && calls[0].Recording != ""
	})
	call.SetTone(tone)
	time.Sleep(2 * time.Second) // two seconds of speech on the message
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// A voicemail left by DTMF from the queue reaches the queue's box: the
// message is stored, the CDR says voicemail, and the loopback SMTP server
// receives the e-mail with the WAV attached, which holds the caller's
// tone.
func TestNativeVoicemailLeftAndMailed(t *testing.T) {
	n, srv, box := vmCenter(t)
	leaveMessage(t, n, vmTone)
	var m smtptest.Message
	select {
	case m = <-srv.Messages:
	case <-time.After(30 * time.Second):
		t.Fatal("no e-mail")
	}
	if !m.TLS || m.Auth != "hotline" || len(m.To) != 1 || m.To[0] != "sales@example.com" || len(m.Parts) != 2 {
		t.Fatalf("e-mail = from %q to %v auth %q, %d parts", m.From, m.To, m.Auth, len(m.Parts))
	}
	att := m.Parts[1]
	if att.ContentType != "audio/wav" {
		t.Fatalf("attachment %q is %s", att.Filename, att.ContentType)
	}
	pcm, rate, ok := monoWAV(att.Data)
	if !ok {
		t.Fatalf("the attachment is not a mono WAV (%d bytes)", len(att.Data))
	}
	// The tone starts a moment after the recording: look at the second half.
	if tail := pcm[len(pcm)/2:]; !audio.HasTone(tail, rate, vmTone) {
		t.Fatalf("the mailed message does not hold the caller's %v Hz (%.1f s of audio)", vmTone, float64(len(pcm))/rate)
	}
	msgs, err := n.st.VoicemailMessages().ListByBox(t.Context(), box.ID, store.ListOptions{})
	if err != nil || len(msgs.Items) != 1 {
		t.Fatalf("messages = %+v, %v", msgs.Items, err)
	}
	msg := msgs.Items[0]
	if msg.State != store.VoicemailNew || msg.Caller != "13800000001" || msg.Bytes != int64(len(att.Data)) || msg.Duration < 1 {
		t.Errorf("message = %+v", msg)
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
	cdr := n.j.CDRs()[0]
	if cdr.Outcome != store.OutcomeVoicemail || cdr.Variables["voicemail_box_id"] != box.ID ||
		cdr.Variables["voicemail_message_id"] != msg.ID || cdr.RecordingID != msg.RecordingID {
		t.Errorf("CDR = %+v", cdr)
	}
}

// The owner listens by phone: three wrong PINs end the call with the
// message untouched; the right PIN plays the message (the caller's tone
// is heard) and 9 saves it.
func TestNativeVoicemailListenByPhone(t *testing.T) {
	n, srv, box := vmCenter(t)
	leaveMessage(t, n, vmTone)
	eventually(t, "the message", 20*time.Second, func() bool {
		p, _ := n.st.VoicemailMessages().ListByBox(t.Context(), box.ID, store.ListOptions{})
		return len(p.Items) == 1
	})
	<-srv.Messages
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	phone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	state := func() store.VoicemailState {
		p, err := n.st.VoicemailMessages().ListByBox(ctx, box.ID, store.ListOptions{})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("messages = %+v, %v", p.Items, err)
		}
		return p.Items[0].State
	}

	wrong, err := phone.Dial(ctx, n.uri("8500"))
	if err != nil {
		t.Fatal(err)
	}
	wrong.SendDTMF("8001#0000#1111#4321#")
	select {
	case <-wrong.Done():
	case <-ctx.Done():
		t.Fatal("three wrong PINs did not end the call")
	}
	eventually(t, "the refused call's CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 2 })
	if v := n.j.CDRs()[1].Variables; v["voicemail_access"] != "refused" || v["voicemail_box"] != "8001" {
		t.Errorf("refused call's variables = %v", v)
	}
	if audio.HasTone(wrong.Heard(time.Minute), audio.SampleRate, vmTone) {
		t.Error("a wrong PIN heard the message")
	}
	if s := state(); s != store.VoicemailNew {
		t.Fatalf("after wrong PINs the message is %s", s)
	}

	right, err := phone.Dial(ctx, n.uri("8500"))
	if err != nil {
		t.Fatal(err)
	}
	right.SendDTMF("8001#1234#")
	eventually(t, "the message heard", 30*time.Second, func() bool {
		return audio.HasTone(right.Heard(time.Second), audio.SampleRate, vmTone)
	})
	right.SendDTMF("9")
	select {
	case <-right.Done():
	case <-ctx.Done():
		t.Fatal("the menu did not end after the last message")
	}
	if s := state(); s != store.VoicemailSaved {
		t.Fatalf("after 9 the message is %s", s)
	}
	eventually(t, "the listener's CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 3 })
	if v := n.j.CDRs()[2].Variables; v["voicemail_access"] != "true" || v["voicemail_box_id"] != box.ID {
		t.Errorf("listener's variables = %v", v)
	}
}

// An extension that does not answer (busy) sends its caller to the
// voicemail box of the agent at that extension.
func TestNativeVoicemailOnNoAnswer(t *testing.T) {
	n, srv, _ := vmCenter(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	box := store.VoicemailBox{Name: "wang", OwnerKind: store.VoicemailOwnerAgent, OwnerID: n.agent, PIN: "8888",
		Email: "wang@example.com"}
	if err := n.st.VoicemailBoxes().Create(ctx, &box); err != nil {
		t.Fatal(err)
	}
	if err := n.ctl.Numbers().Create(ctx, &store.Number{Number: "801",
		Route: store.Target{Kind: store.TargetExtension, Value: "1001"}}); err != nil {
		t.Fatal(err)
	}
	// The agent's own CTI stream hears of the new message.
	sub, err := n.cc.Events().Subscribe(cti.All(cti.ForPrincipal(cti.RoleAgent, n.agent, nil), cti.Types("voicemail.*")), cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	busy, err := sippeer.New(sippeer.Config{User: "1001", Answer: func(*sip.Request) int { return 486 }})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if code, err := busy.Register(ctx, n.b.Addr().String(), e2ePassword, 300); err != nil || code != 200 {
		t.Fatalf("register: %d, %v", code, err)
	}
	phone, err := sippeer.New(sippeer.Config{User: "13800000002"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	call, err := phone.Dial(ctx, n.uri("801"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "recording the message", 20*time.Second, func() bool {
		calls, _ := n.cc.Calls(ctx, admin)
		return len(calls) == 1 && calls[0].State == "voicemail" && calls[0].Recording != ""
	})
	call.SetTone(vmTone)
	time.Sleep(time.Second) // a second of speech on the message
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-srv.Messages:
		if len(m.To) != 1 || m.To[0] != "wang@example.com" {
			t.Fatalf("mailed to %v", m.To)
		}
	case <-ctx.Done():
		t.Fatal("no e-mail")
	}
	p, err := n.st.VoicemailMessages().ListByBox(ctx, box.ID, store.ListOptions{})
	if err != nil || len(p.Items) != 1 || p.Items[0].Caller != "13800000002" {
		t.Fatalf("agent's box = %+v, %v", p.Items, err)
	}
	ev, err := sub.Next(ctx)
	if err != nil || ev.Type != "voicemail.new" || payload(t, ev)["message_id"] != p.Items[0].ID {
		t.Fatalf("agent's CTI event = %+v, %v", ev, err)
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
	if cdr := n.j.CDRs()[0]; cdr.Outcome != store.OutcomeVoicemail || cdr.Variables["voicemail_reason"] != "busy" ||
		len(cdr.Legs) != 2 || cdr.Legs[1].SIPCode != 486 {
		t.Errorf("CDR = %+v", cdr)
	}
}

// The menu's keys over two messages: 1 plays the first again, 7 deletes
// it and moves to the second, 9 saves that one and the menu ends.
func TestNativeVoicemailMenuKeys(t *testing.T) {
	const secondTone = 1900.0
	n, _, box := vmCenter(t)
	messages := func() []store.VoicemailMessage {
		p, err := n.st.VoicemailMessages().ListByBox(t.Context(), box.ID, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	leaveMessage(t, n, vmTone)
	eventually(t, "the first message", 20*time.Second, func() bool { return len(messages()) == 1 })
	eventually(t, "the first CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
	leaveMessage(t, n, secondTone)
	eventually(t, "the second message", 20*time.Second, func() bool { return len(messages()) == 2 })
	first, second := messages()[0], messages()[1]

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	phone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	call, err := phone.Dial(ctx, n.uri("8500"))
	if err != nil {
		t.Fatal(err)
	}
	// hears waits for a second of tone: each quarter of the last second
	// holds it (the tail of a playback a key just stopped does not count).
	hears := func(what string, tone float64) {
		t.Helper()
		eventually(t, what, 30*time.Second, func() bool {
			h := call.Heard(time.Second)
			if len(h) < audio.SampleRate {
				return false
			}
			for q := range 4 {
				if !audio.HasTone(h[q*len(h)/4:(q+1)*len(h)/4], audio.SampleRate, tone) {
					return false
				}
			}
			return true
		})
	}
	state := func(id string) store.VoicemailState {
		m, err := n.st.VoicemailMessages().Get(t.Context(), id)
		if err != nil {
			return ""
		}
		return m.State
	}
	call.SendDTMF("8001#1234#")
	hears("the first message", vmTone)
	call.SendDTMF("1")
	// The key was taken when the message is marked read; what plays after
	// it is the replay.
	eventually(t, "the first message read", 10*time.Second, func() bool { return state(first.ID) == store.VoicemailRead })
	call.ClearHeard()
	hears("the first message again", vmTone)
	call.SendDTMF("7")
	hears("the second message", secondTone)
	call.SendDTMF("9")
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the menu did not end after the last message")
	}
	left := messages()
	if len(left) != 1 || left[0].ID != second.ID || left[0].State != store.VoicemailSaved {
		t.Fatalf("after 1, 7, 9: %+v (first was %s)", left, first.ID)
	}
}

// Old messages are reachable by phone too, after the new ones: the first
// message, saved before, plays after the second (new) one; # moves on
// from the new one (now read) and 7 deletes the old one.
func TestNativeVoicemailOldAfterNew(t *testing.T) {
	const newTone = 1900.0
	n, _, box := vmCenter(t)
	messages := func() []store.VoicemailMessage {
		p, err := n.st.VoicemailMessages().ListByBox(t.Context(), box.ID, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	leaveMessage(t, n, vmTone)
	eventually(t, "the first message", 20*time.Second, func() bool { return len(messages()) == 1 })
	eventually(t, "the first CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
	saved := messages()[0]
	saved.State = store.VoicemailSaved
	if err := n.st.VoicemailMessages().Update(t.Context(), &saved); err != nil {
		t.Fatal(err)
	}
	leaveMessage(t, n, newTone)
	eventually(t, "the second message", 20*time.Second, func() bool { return len(messages()) == 2 })
	fresh := messages()[1]

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	phone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	call, err := phone.Dial(ctx, n.uri("8500"))
	if err != nil {
		t.Fatal(err)
	}
	// hears waits for a second of the tone and none of the other.
	hears := func(what string, tone, not float64) {
		t.Helper()
		eventually(t, what, 30*time.Second, func() bool {
			h := call.Heard(time.Second)
			if len(h) < audio.SampleRate || audio.HasTone(h, audio.SampleRate, not) {
				return false
			}
			for q := range 4 {
				if !audio.HasTone(h[q*len(h)/4:(q+1)*len(h)/4], audio.SampleRate, tone) {
					return false
				}
			}
			return true
		})
	}
	call.SendDTMF("8001#1234#")
	hears("the new message first", newTone, vmTone)
	call.SendDTMF("#")
	hears("the saved message after it", vmTone, newTone)
	call.SendDTMF("7")
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the menu did not end after the last message")
	}
	left := messages()
	if len(left) != 1 || left[0].ID != fresh.ID || left[0].State != store.VoicemailRead {
		t.Fatalf("after #, 7: %+v (the saved one was %s)", left, saved.ID)
	}
}

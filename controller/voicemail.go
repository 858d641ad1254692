package controller

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/internal/smtpmail"
	"hotline/mediacore"
)

// Voicemail (R2.5, R9.1). A voicemail target names a box (store.VoicemailBox
// by name, else by id): the caller hears the box's greeting (its recorded
// file or TTS text, else the built-in prompt) and a beep, and speaks until
// hanging up or VoicemailMax. The message is the mono recording of what
// the caller said, kept like any recording (R6) and stored as a
// store.VoicemailMessage in the box; the box's owner hears of it on the
// CTI stream (voicemail.new) and, when the box has an address and
// CallCenterOptions.Mailer is set, by e-mail with the WAV attached (sent
// off the call actor: a slow mail server holds up nobody). A target that
// names no stored box still takes the message (recorded, in the CDR's
// variables), as before boxes existed.
//
// The phone menu (store.TargetVoicemailAccess) lets the owner listen: box
// number (unless the target names the box), PIN, then the new messages
// one by one and after them the old ones (heard or saved before, as
// voicemail systems do: nothing kept is out of reach by phone), each
// followed by the menu 1 play again, 7 delete, 9 save, # next. Prompts
// are in the box's language (Chinese or English TTS).

// Defaults of voicemail.
const (
	// DefaultVoicemailMediaDir is where the media node keeps recordings,
	// relative to its media directory (the native core's default
	// RecordingsDir): the phone menu plays a message from there.
	DefaultVoicemailMediaDir = "recordings/"
	// vmPINTries wrong PINs end the menu call.
	vmPINTries = 3
	// vmMailTimeout bounds one notification e-mail (and so how long
	// CallCenter.Close may wait for one in flight).
	vmMailTimeout = 30 * time.Second
	// vmKeyTimeout is how long a menu waits for a key.
	vmKeyTimeout = 8 * time.Second
)

// VoicemailMailer sends a notification e-mail (smtpmail.Config does).
type VoicemailMailer interface {
	Send(ctx context.Context, m smtpmail.Message) error
}

// vmText holds a prompt in both languages.
type vmText struct{ zh, en string }

var (
	vmPromptLeave   = vmText{"请在提示音后留言，说完请挂机。", "Please leave a message after the tone, then hang up."}
	vmPromptBox     = vmText{"请输入信箱号码，以井号键结束。", "Please enter your mailbox number, then press pound."}
	vmPromptPIN     = vmText{"请输入密码，以井号键结束。", "Please enter your password, then press pound."}
	vmPromptWrong   = vmText{"密码错误。", "Wrong password."}
	vmPromptBye     = vmText{"再见。", "Goodbye."}
	vmPromptNone    = vmText{"没有留言。", "You have no messages."}
	vmPromptMenu    = vmText{"重听请按1，删除请按7，保存请按9，下一条请按井号键。", "To play again press 1, to delete press 7, to save press 9, for the next message press pound."}
	vmPromptDeleted = vmText{"留言已删除。", "Message deleted."}
	vmPromptSaved   = vmText{"留言已保存。", "Message saved."}
)

func (t vmText) in(lang string) string {
	if lang == ivr.LangEN {
		return t.en
	}
	return t.zh
}

// findBox looks a box up by name, then by id, then as the box of the
// queue of that name or the agent of that extension (a queue's KeyVoicemail
// names its queue); found is false when none is stored (or the store does
// not answer within the I/O bound).
func (c *call) findBox(ref string) (store.VoicemailBox, bool) {
	if ref == "" {
		return store.VoicemailBox{}, false
	}
	ctx, cancel := c.io()
	defer cancel()
	st := c.cc.ctl.st
	repo := st.VoicemailBoxes()
	b, err := repo.GetByName(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		b, err = repo.Get(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		if q, qerr := st.Queues().GetByName(ctx, ref); qerr == nil {
			b, err = boxOf(ctx, repo, store.VoicemailOwnerQueue, q.ID)
		} else if a, aerr := st.Agents().GetByExtension(ctx, ref); aerr == nil {
			b, err = boxOf(ctx, repo, store.VoicemailOwnerAgent, a.ID)
		}
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.Warn("voicemail box lookup failed", "box", ref, "err", err)
		}
		return store.VoicemailBox{}, false
	}
	return b, true
}

// boxOf finds the first box of an owner.
func boxOf(ctx context.Context, repo store.VoicemailBoxRepo, kind store.VoicemailOwnerKind, id string) (store.VoicemailBox, error) {
	opt := store.ListOptions{Limit: store.MaxLimit}
	for {
		p, err := repo.List(ctx, opt)
		if err != nil {
			return store.VoicemailBox{}, err
		}
		for _, b := range p.Items {
			if b.OwnerKind == kind && b.OwnerID == id {
				return b, nil
			}
		}
		if p.Next == "" {
			return store.VoicemailBox{}, fmt.Errorf("%w: no voicemail box of %s %q", store.ErrNotFound, kind, id)
		}
		opt.After = p.Next
	}
}

// leaveVoicemail takes a message into the box ref names (see the top of
// the file).
func (c *call) leaveVoicemail(ref string) *store.Target {
	c.cdr.Outcome = store.OutcomeVoicemail
	c.vars["voicemail_box"] = ref
	box, found := c.findBox(ref)
	dir := ref
	if found {
		c.vars["voicemail_box_id"] = box.ID
		dir = box.ID
		if box.Language != "" {
			c.lang = box.Language
		}
	}
	if err := c.answer(); err != nil {
		c.log.Warn("answer", "err", err)
	}
	c.setView(func(v *LiveCall) { v.State = "voicemail" })
	greeting := mediacore.TTS(c.voice(), vmPromptLeave.in(c.lang))
	switch {
	case box.Greeting.File != "":
		greeting = mediacore.File(box.Greeting.File)
	case box.Greeting.Text != "":
		greeting = mediacore.TTS(c.voice(), box.Greeting.Text)
	}
	c.sayAndWait([]mediacore.Media{greeting, mediacore.ToneFor(mediacore.ToneBeep, 0)})
	if c.gone {
		return nil
	}
	ctx, cancel := c.io()
	id := mediacore.RecordingID("vm-" + c.id)
	got, err := c.cc.media.Record(ctx, mediacore.ChannelTarget(c.ch), mediacore.RecordRequest{ID: id,
		Source: mediacore.RecordRead, Name: vmName(dir, c.id)})
	cancel()
	if err != nil {
		c.log.Error("voicemail not recorded", "err", err)
		c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
		return nil
	}
	c.rec = &recState{id: got, kind: "voicemail", start: c.now(), activated: true}
	c.cdr.RecordingID = string(got)
	c.setView(func(v *LiveCall) { v.Recording = string(got) })
	t := c.after(c.cc.opt.VoicemailMax, "voicemail-max")
	for !c.gone {
		m, ok := c.next()
		if !ok {
			return nil
		}
		if tm, isT := m.(timerMsg); isT && tm.id == t {
			c.stopRecording()
			c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
		}
	}
	c.stop(t)
	if found {
		c.storeMessage(box)
	}
	return nil
}

// noAnswerVoicemail is where an extension that did not answer (busy,
// no answer, unreachable) sends its caller: the voicemail box of the agent
// at that extension, if it has one; nil otherwise.
func (c *call) noAnswerVoicemail(endpoint, kind string) *store.Target {
	if kind != "extension" || c.gone {
		return nil
	}
	ext := strings.TrimPrefix(endpoint, "user/")
	box, ok := c.findBox(ext)
	if !ok {
		return nil
	}
	c.vars["voicemail_reason"] = "no-answer"
	return &store.Target{Kind: store.TargetVoicemail, Value: box.Name}
}

// vmName is a message's recording name on the media node (relative to
// its recordings directory).
func vmName(dir, callID string) string { return "voicemail/" + dir + "/" + callID + ".wav" }

// storeMessage waits for the message's recording to be finished (and
// copied to the recording store), then stores the message and tells the
// box's owner.
func (c *call) storeMessage(box store.VoicemailBox) {
	r := c.rec
	c.stopRecording()
	t := c.after(c.cc.opt.RecordingWait, "recording-wait")
	for !r.done {
		m, ok := c.next()
		if !ok {
			break
		}
		if tm, isT := m.(timerMsg); isT && tm.id == t {
			break
		}
	}
	c.stop(t)
	if !r.done || r.meta == nil {
		c.log.Warn("the voicemail recording did not finish in time; no message stored", "recording_id", r.id)
		return
	}
	meta := *r.meta
	msg := store.VoicemailMessage{BoxID: box.ID, CallID: c.id, Caller: c.in.Caller, Called: c.in.Called,
		At: r.start, Duration: meta.Duration, RecordingID: meta.ID, Path: meta.Path, Bytes: meta.Bytes,
		State: store.VoicemailNew}
	// The caller is gone: this store write delays nobody.
	ctx, cancel := c.io()
	err := c.cc.ctl.st.VoicemailMessages().Create(ctx, &msg)
	cancel()
	if err != nil {
		c.log.Error("voicemail message not stored", "box", box.ID, "err", err)
		return
	}
	c.vars["voicemail_message_id"] = msg.ID
	aud := c.audience("")
	if box.OwnerKind == store.VoicemailOwnerAgent {
		aud.Agents = appendUnique(aud.Agents, box.OwnerID)
	}
	c.publish("voicemail.new", "", &aud, map[string]any{"box_id": box.ID, "box": box.Name, "message_id": msg.ID,
		"caller": msg.Caller, "duration_seconds": msg.Duration})
	c.cc.mailVoicemail(c.log, box, msg)
}

// mailVoicemail e-mails a new message with its WAV attached, on its own
// goroutine (counted in the call center's wait group, so Close waits for
// it).
func (cc *CallCenter) mailVoicemail(log *slog.Logger, box store.VoicemailBox, msg store.VoicemailMessage) {
	if cc.opt.Mailer == nil || box.Email == "" {
		return
	}
	cc.wg.Add(1)
	go func() {
		defer cc.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), vmMailTimeout)
		defer cancel()
		wav, err := cc.messageAudio(ctx, msg)
		if err != nil {
			log.Warn("voicemail audio unreadable; the e-mail goes without it", "message_id", msg.ID, "err", err)
		}
		subject := fmt.Sprintf("New voicemail from %s (box %s) / 新语音留言", msg.Caller, box.Name)
		text := fmt.Sprintf("Box: %s\nFrom: %s\nTo: %s\nAt: %s\nDuration: %.0f s\nMessage: %s\n", box.Name, msg.Caller,
			msg.Called, msg.At.UTC().Format(time.RFC3339), msg.Duration, msg.ID)
		m := smtpmail.Message{To: []string{box.Email}, Subject: subject, Text: text}
		if len(wav) > 0 {
			m.Attachments = []smtpmail.Attachment{{Name: "voicemail-" + msg.ID + ".wav", ContentType: "audio/wav", Data: wav}}
		}
		if err := cc.opt.Mailer.Send(ctx, m); err != nil {
			log.Warn("voicemail e-mail not sent", "message_id", msg.ID, "to", box.Email, "err", err)
			return
		}
		log.Info("voicemail e-mailed", "message_id", msg.ID, "to", box.Email)
	}()
}

// messageAudio reads a message's WAV from the recording store (or, without
// one, from the media node).
func (cc *CallCenter) messageAudio(ctx context.Context, msg store.VoicemailMessage) ([]byte, error) {
	var rc io.ReadCloser
	var err error
	if rs := cc.opt.Recordings; rs != nil {
		rc, err = rs.Open(msg.Path)
	} else {
		rc, err = cc.media.OpenRecording(ctx, mediacore.RecordingID(msg.RecordingID))
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// voicemailAccess is the phone menu (see the top of the file). Keys
// pressed early wait in the mailbox, so a caller who knows the menu can
// type ahead: every prompt is part of the next question, never played
// alone while keys would be lost.
func (c *call) voicemailAccess(ref string) *store.Target {
	c.cdr.Outcome = store.OutcomeSelfServe
	c.vars["voicemail_access"] = "true"
	if err := c.answer(); err != nil {
		c.log.Warn("answer", "err", err)
	}
	c.setView(func(v *LiveCall) { v.State = "voicemail-menu" })
	tts := func(t vmText) mediacore.Media { return mediacore.TTS(c.voice(), t.in(c.lang)) }
	bye := func() *store.Target {
		c.sayAndWait([]mediacore.Media{tts(vmPromptBye)})
		c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
		return nil
	}
	if ref == "" {
		d, ok := c.menuAsk([]mediacore.Media{tts(vmPromptBox)}, 16, "#")
		if !ok {
			return nil
		}
		ref = d
	}
	box, found := c.findBox(ref)
	if found && box.Language != "" {
		c.lang = box.Language
	}
	c.vars["voicemail_box"] = ref
	opened := false
	var before []mediacore.Media
	for range vmPINTries {
		pin, ok := c.menuAsk(append(before, tts(vmPromptPIN)), 16, "#")
		if !ok {
			return nil
		}
		// A missing box and a wrong PIN sound the same: the menu does not
		// tell which box numbers exist.
		if found && box.PIN != "" && subtle.ConstantTimeCompare([]byte(pin), []byte(box.PIN)) == 1 {
			opened = true
			break
		}
		before = []mediacore.Media{tts(vmPromptWrong)}
	}
	if !opened {
		c.vars["voicemail_access"] = "refused"
		c.log.Info("voicemail menu: wrong PIN", "box", ref)
		c.sayAndWait(before)
		return bye()
	}
	c.vars["voicemail_box_id"] = box.ID
	msgs, nNew, err := c.boxMessages(box.ID)
	if err != nil {
		c.log.Warn("voicemail messages unreadable", "box", box.ID, "err", err)
	}
	nOld := len(msgs) - nNew
	count := vmText{"您有" + strconv.Itoa(nNew) + "条新留言，" + strconv.Itoa(nOld) + "条旧留言。",
		"You have " + strconv.Itoa(nNew) + " new and " + strconv.Itoa(nOld) + " old messages."}
	if len(msgs) == 0 {
		c.sayAndWait([]mediacore.Media{tts(vmPromptNone)})
		return bye()
	}
	before = []mediacore.Media{tts(count)}
	dir := c.cc.opt.VoicemailMediaDir
	if dir == "" {
		dir = DefaultVoicemailMediaDir
	}
	for i := 0; i < len(msgs) && !c.gone; {
		m := &msgs[i]
		head := vmText{"第" + strconv.Itoa(i+1) + "条留言，来自" + m.Caller + "。", "Message " + strconv.Itoa(i+1) + ", from " + m.Caller + "."}
		if i >= nNew {
			head = vmText{"第" + strconv.Itoa(i-nNew+1) + "条旧留言，来自" + m.Caller + "。", "Old message " + strconv.Itoa(i-nNew+1) + ", from " + m.Caller + "."}
		}
		key, ok := c.menuAsk(append(before, tts(head), mediacore.File(dir+vmName(m.BoxID, m.CallID)), tts(vmPromptMenu)), 1, "")
		if !ok {
			return nil
		}
		before = nil
		if m.State == store.VoicemailNew {
			c.setMessageState(m, store.VoicemailRead)
		}
		switch key {
		case "1":
			continue
		case "7":
			ctx, cancel := c.io()
			if err := c.cc.ctl.st.VoicemailMessages().Delete(ctx, m.ID, 0); err != nil {
				c.log.Warn("voicemail message not deleted", "message_id", m.ID, "err", err)
			}
			cancel()
			before = []mediacore.Media{tts(vmPromptDeleted)}
		case "9":
			c.setMessageState(m, store.VoicemailSaved)
			before = []mediacore.Media{tts(vmPromptSaved)}
		}
		i++
	}
	c.sayAndWait(before)
	return bye()
}

// menuAsk plays media and collects up to max keys (term ends early): the
// first key stops the prompts. Media the node cannot play as a whole (no
// TTS engine) is played without its TTS parts, so a menu still plays its
// files and collects. ok is false when the caller hung up.
func (c *call) menuAsk(media []mediacore.Media, max int, term string) (string, bool) {
	if c.gone {
		return "", false
	}
	c.dtmf(true)
	defer c.dtmf(false)
	pb, err := c.play(media, false)
	if err != nil {
		var rest []mediacore.Media
		for _, m := range media {
			if m.Kind != mediacore.MediaTTS {
				rest = append(rest, m)
			}
		}
		c.log.Debug("menu prompt not played; trying without TTS", "err", err)
		pb, err = c.play(rest, false)
		if err != nil {
			pb = ""
		}
	}
	var digits string
	var timer uint64
	if pb == "" {
		timer = c.after(vmKeyTimeout, "menu-key")
	}
	defer func() { c.stop(timer) }()
	for {
		m, ok := c.next()
		if !ok || c.gone {
			return digits, false
		}
		switch v := m.(type) {
		case timerMsg:
			if v.id == timer {
				c.stopPlayback(pb)
				return digits, true
			}
		case mediacore.Event:
			switch {
			case v.Type == mediacore.EventPlaybackFinished && v.Playback == pb:
				pb = ""
				if digits == "" {
					timer = c.after(vmKeyTimeout, "menu-key")
				}
			case v.Type == mediacore.EventDTMF && v.Channel == c.ch:
				if pb != "" {
					c.stopPlayback(pb)
					pb = ""
				}
				k := string(v.Digit)
				if term != "" && k == term {
					return digits, true
				}
				digits += k
				if len(digits) >= max {
					return digits, true
				}
				c.stop(timer)
				timer = c.after(vmKeyTimeout, "menu-key")
			}
		}
	}
}

// boxMessages lists a box's messages in menu order: the new ones
// (oldest first), then the old ones, read or saved (oldest first); nNew
// counts the new ones.
func (c *call) boxMessages(boxID string) (msgs []store.VoicemailMessage, nNew int, err error) {
	ctx, cancel := c.io()
	defer cancel()
	var old []store.VoicemailMessage
	opt := store.ListOptions{Limit: store.MaxLimit}
	for {
		p, err := c.cc.ctl.st.VoicemailMessages().ListByBox(ctx, boxID, opt)
		if err != nil {
			return append(msgs, old...), len(msgs), err
		}
		for _, m := range p.Items {
			if m.State == store.VoicemailNew {
				msgs = append(msgs, m)
			} else {
				old = append(old, m)
			}
		}
		if p.Next == "" {
			return append(msgs, old...), len(msgs), nil
		}
		opt.After = p.Next
	}
}

func (c *call) setMessageState(m *store.VoicemailMessage, st store.VoicemailState) {
	if m.State == st {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	old := m.State
	m.State = st
	if err := c.cc.ctl.st.VoicemailMessages().Update(ctx, m); err != nil {
		m.State = old
		c.log.Warn("voicemail message state not saved", "message_id", m.ID, "state", st, "err", err)
	}
}

// VoicemailBoxes returns the voicemail boxes (configuration; the call path
// reads them per call, so nothing is applied on a write).
func (c *Controller) VoicemailBoxes() store.VoicemailBoxRepo { return c.st.VoicemailBoxes() }

// VoicemailMessages returns the messages left in the boxes.
func (c *Controller) VoicemailMessages() store.VoicemailMessageRepo { return c.st.VoicemailMessages() }

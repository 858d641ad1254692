package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore"
)

// Conference rooms (R9.2). A stored room (store.Conference) comes alive
// when its first member joins, by dialling in through a number whose
// route is {conference, <room id>} or by being dialled out to from the
// API, and ends when its last member leaves. One goroutine (a room actor,
// like the call actor) owns a live room: its bridge, its members and its
// recording; live-control commands and the media events of the channels
// it originated reach it through its mailbox, in order.
//
// The mix is the media core's bridge: every member is a RoleSpeak member
// (mix-minus: nobody hears itself), a muted one RoleListen (it hears the
// room, nobody hears it), so a room works the same on every backend that
// implements the bridge contract. Entry and exit tones are played into
// the bridge; the room's recording is the bridge's mono mix, kept like a
// call's recording (recording store, journal).
//
// A member who dialled in stays owned by its call actor (its channel's
// events, its CDR); the room only moves the channel in and out of the
// bridge and asks the call actor to hang up on a kick. A dialled-out
// member's channel belongs to the room.

// Defaults of the conference rooms.
const (
	// conferencePINTries is how many PINs a caller may enter before the
	// call is refused.
	conferencePINTries = 3
	// conferencePINMax bounds the digits collected for a PIN.
	conferencePINMax = 12
	// conferenceFirstDigit and conferenceInterDigit bound PIN entry.
	conferenceFirstDigit = 10 * time.Second
	conferenceInterDigit = 5 * time.Second
	// conferenceDialTimeout is how long a dial-out rings.
	conferenceDialTimeout = 45 * time.Second
)

// The room's tones: two short high beeps when someone joins, one low tone
// when someone leaves, so members hear the room change without words.
var (
	confEntryTone = mediacore.Tone{Freqs: []float64{880}, On: 120 * time.Millisecond, Off: 80 * time.Millisecond}
	confExitTone  = mediacore.Tone{Freqs: []float64{440}, On: 300 * time.Millisecond}
)

const (
	conferenceEntryLen = 320 * time.Millisecond // two beeps of confEntryTone
	conferenceExitLen  = 300 * time.Millisecond
)

// ConferenceMember is one member of a live room.
type ConferenceMember struct {
	// ID is the member's channel id; mute, unmute and kick name it.
	ID string `json:"id"`
	// Endpoint is the caller's number (dial-in) or the dialled endpoint
	// (dial-out).
	Endpoint  string `json:"endpoint"`
	Direction string `json:"direction"` // dial-in or dial-out
	State     string `json:"state"`     // ringing or joined
	Moderator bool   `json:"moderator"`
	Muted     bool   `json:"muted"`
	// CallID is the call of a member who dialled in.
	CallID   string     `json:"call_id,omitempty"`
	JoinedAt *time.Time `json:"joined_at,omitempty"`
}

// ConferenceDialRequest is the body of a dial-out: Endpoint is
// user/<extension>, tel/<number> (through a trunk) or a sip: URI.
type ConferenceDialRequest struct {
	Endpoint string `json:"endpoint"`
	// CallerID is presented to the callee; empty: the room's number.
	CallerID string `json:"caller_id,omitempty"`
	// Muted joins the member muted (a listener).
	Muted bool `json:"muted,omitempty"`
}

// confTable is the live rooms and what routes media events to them. The
// zero value is ready.
type confTable struct {
	// mu guards rooms, byChan, byBridge and closed.
	mu       sync.Mutex
	rooms    map[string]*room              // by room id
	byChan   map[mediacore.ChannelID]*room // dialled-out channels
	byBridge map[mediacore.BridgeID]*room  // the rooms' bridges (playbacks, recordings)
	closed   bool
}

// roomCmd runs on the room actor's goroutine.
type roomCmd func(*room)

// room is one live conference room's actor. Nothing but its goroutine
// touches its fields, except view (under viewMu) and done.
type room struct {
	cc      *CallCenter
	id      string // the stored room's id
	session string // this life of the room (recording and bridge ids)
	cfg     store.Conference
	box     *mailbox
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when the actor ended
	log     *slog.Logger

	bridge  mediacore.BridgeID
	created bool // the bridge exists
	members map[mediacore.ChannelID]*member
	nOut    int
	rec     *confRec

	viewMu sync.Mutex
	view   []ConferenceMember
}

type member struct {
	ch        mediacore.ChannelID
	start     time.Time // when a dial-out was started
	callerID  string    // what a dial-out presented
	hangup    *mediacore.Event
	call      *call // the owning call actor of a dial-in member; nil for dial-outs
	endpoint  string
	dialOut   bool
	joined    bool
	joinedAt  time.Time
	moderator bool
	muted     bool
}

type confRec struct {
	id    mediacore.RecordingID
	start time.Time
	done  bool
}

// conferenceEvent hands the room the events of the channels it
// originated and of its bridge (playbacks, recordings); it reports whether
// a room took the event (HandleMedia's hook).
func (cc *CallCenter) conferenceEvent(ev mediacore.Event) bool {
	t := &cc.confs
	t.mu.Lock()
	var r *room
	switch {
	case ev.Channel != "":
		r = t.byChan[ev.Channel]
	case ev.Bridge != "":
		r = t.byBridge[ev.Bridge]
	}
	t.mu.Unlock()
	if r == nil {
		return false
	}
	r.box.put(ev)
	return true
}

// closeConferences ends every room actor (CallCenter.Close).
func (cc *CallCenter) closeConferences() {
	t := &cc.confs
	t.mu.Lock()
	t.closed = true
	rooms := make([]*room, 0, len(t.rooms))
	for _, r := range t.rooms {
		rooms = append(rooms, r)
	}
	t.mu.Unlock()
	for _, r := range rooms {
		r.cancel()
	}
}

// liveRoom returns the live room id, or starts it when create is set (the
// stored room is read first: ErrNoSuchConference when it does not exist).
func (cc *CallCenter) liveRoom(ctx context.Context, id string, create bool) (*room, error) {
	t := &cc.confs
	t.mu.Lock()
	r := t.rooms[id]
	closed := t.closed
	t.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case r != nil || !create:
		return r, nil
	}
	cfg, err := cc.ctl.st.Conferences().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchConference, id)
	}
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	if r := t.rooms[id]; r != nil {
		return r, nil
	}
	if t.rooms == nil {
		t.rooms, t.byChan, t.byBridge = map[string]*room{}, map[mediacore.ChannelID]*room{}, map[mediacore.BridgeID]*room{}
	}
	rctx, cancel := context.WithCancel(context.Background())
	session := mediacore.NewID("conf")
	r = &room{cc: cc, id: id, session: session, cfg: cfg, box: newMailbox(), ctx: rctx, cancel: cancel,
		done: make(chan struct{}), log: cc.log.With("conference_id", id, "session", session),
		bridge: mediacore.BridgeID("br-" + session), members: map[mediacore.ChannelID]*member{}}
	t.rooms[id] = r
	t.byBridge[r.bridge] = r
	cc.wg.Add(1)
	go r.run()
	return r, nil
}

// onRoom runs f on the room's actor and returns its error. A room that
// ended before running f (its last member left meanwhile) is started
// again when create is set; otherwise a room that is not live is
// errNotLive.
func (cc *CallCenter) onRoom(ctx context.Context, id string, create bool, f func(*room) error) error {
	for range 3 {
		r, err := cc.liveRoom(ctx, id, create)
		if err != nil {
			return err
		}
		if r == nil {
			return errNotLive
		}
		res := make(chan error, 1)
		if !r.box.put(roomCmd(func(r *room) { res <- f(r) })) {
			continue
		}
		select {
		case err := <-res:
			return err
		case <-r.done:
			select {
			case err := <-res:
				return err
			default:
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ErrClosed
}

// errNotLive: the room has no member now.
var errNotLive = errors.New("controller: conference room not live")

func (r *room) now() time.Time { return r.cc.clk.Now() }

func (r *room) io() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.ctx), ioTimeout)
}

func (r *room) run() {
	defer r.cc.wg.Done()
	for {
		m, ok := r.box.take()
		if !ok {
			select {
			case <-r.box.sig:
				continue
			case <-r.ctx.Done():
				r.end()
				return
			}
		}
		switch v := m.(type) {
		case roomCmd:
			v(r)
		case mediacore.Event:
			r.media(v)
		}
		if len(r.members) == 0 {
			r.end()
			return
		}
	}
}

// media handles an event of a dialled-out channel or of the bridge.
func (r *room) media(ev mediacore.Event) {
	switch ev.Type {
	case mediacore.EventAnswered:
		m := r.members[ev.Channel]
		if m == nil || m.joined {
			return
		}
		if err := r.join(m); err != nil {
			r.log.Warn("dialled member not joined", "channel", m.ch, "err", err)
			r.hangup(m.ch)
			r.remove(m, "failed")
		}
	case mediacore.EventHangup:
		if m := r.members[ev.Channel]; m != nil {
			m.hangup = &ev
			reason := "hangup"
			if !m.joined {
				reason = "no-answer"
			}
			r.remove(m, reason)
		}
	case mediacore.EventRecordingFinished:
		r.recordingFinished(ev)
	}
}

// ensureBridge creates the room's bridge before the first member joins.
func (r *room) ensureBridge() error {
	if r.created {
		return nil
	}
	ctx, cancel := r.io()
	defer cancel()
	if err := r.cc.media.CreateBridge(ctx, r.bridge); err != nil {
		return fmt.Errorf("create the room's bridge: %w", err)
	}
	r.created = true
	return nil
}

// startRecording records the bridge's mix once it has a member (a bridge
// lives on the node of its first member).
func (r *room) startRecording() {
	if !r.cfg.Record || r.rec != nil {
		return
	}
	ctx, cancel := r.io()
	defer cancel()
	id := mediacore.RecordingID("rec-" + r.session)
	got, err := r.cc.media.Record(ctx, mediacore.BridgeTarget(r.bridge), mediacore.RecordRequest{ID: id,
		Name: "conferences/" + r.now().UTC().Format("2006/01/02") + "/" + r.session + ".wav"})
	if err != nil {
		r.log.Error("conference recording not started", "err", err)
		return
	}
	r.rec = &confRec{id: got, start: r.now()}
}

// join puts an answered member into the mix and tells the room.
func (r *room) join(m *member) error {
	if err := r.ensureBridge(); err != nil {
		return err
	}
	ctx, cancel := r.io()
	role := mediacore.RoleSpeak
	if m.muted {
		role = mediacore.RoleListen
	}
	err := r.cc.media.AddToBridge(ctx, r.bridge, m.ch, mediacore.Member{Role: role})
	if err == nil {
		// In-band detection off keeps the mix clean of detector work;
		// RFC 4733 digits still arrive.
		if derr := r.cc.media.SetDTMFDetection(ctx, m.ch, false); derr != nil {
			r.log.Debug("dtmf detection off", "channel", m.ch, "err", derr)
		}
	}
	cancel()
	if err != nil {
		return fmt.Errorf("add to the room: %w", err)
	}
	m.joined, m.joinedAt = true, r.now()
	r.startRecording()
	r.tone(confEntryTone, conferenceEntryLen)
	r.publish("conference.joined", m, map[string]any{"endpoint": m.endpoint, "direction": m.direction(),
		"moderator": m.moderator, "muted": m.muted, "members": r.joinedCount()})
	r.refreshView()
	return nil
}

// tone plays a room tone into the bridge (everyone hears it).
func (r *room) tone(t mediacore.Tone, d time.Duration) {
	if !r.created || r.joinedCount() == 0 {
		return
	}
	ctx, cancel := r.io()
	defer cancel()
	if _, err := r.cc.media.Play(ctx, mediacore.BridgeTarget(r.bridge),
		mediacore.PlayRequest{Media: []mediacore.Media{mediacore.ToneFor(t, d)}}); err != nil {
		r.log.Debug("room tone", "err", err)
	}
}

// remove forgets a member that left (hung up, kicked, never answered).
func (r *room) remove(m *member, reason string) {
	delete(r.members, m.ch)
	if m.dialOut {
		t := &r.cc.confs
		t.mu.Lock()
		if t.byChan[m.ch] == r {
			delete(t.byChan, m.ch)
		}
		t.mu.Unlock()
	}
	if m.joined {
		r.tone(confExitTone, conferenceExitLen)
		r.publish("conference.left", m, map[string]any{"endpoint": m.endpoint, "reason": reason,
			"members": r.joinedCount()})
	} else if m.dialOut {
		r.publish("conference.dial_failed", m, map[string]any{"endpoint": m.endpoint, "reason": reason})
	}
	if m.dialOut {
		r.dialOutCDR(m, reason)
	}
	if m.joined && r.joinedCount() == 0 {
		// The last one in left: parties still ringing would answer into
		// an empty room, so they are called off and the room ends.
		for _, o := range r.members {
			r.hangupLater(o.ch)
			r.remove(o, "room-ended")
		}
	}
	r.refreshView()
}

func (r *room) hangup(ch mediacore.ChannelID) {
	ctx, cancel := r.io()
	defer cancel()
	if err := r.cc.media.Hangup(ctx, ch, mediacore.CauseNormal); err != nil && !errors.Is(err, mediacore.ErrNoSuchChannel) {
		r.log.Warn("hang up a member", "channel", ch, "err", err)
	}
}

// hangupLater ends a channel that may still be ringing without holding
// the room's mailbox: a call without a provisional answer cannot be
// cancelled yet (RFC 3261 §9.1), so the node may wait for one.
func (r *room) hangupLater(ch mediacore.ChannelID) {
	r.cc.wg.Add(1)
	go func() {
		defer r.cc.wg.Done()
		r.hangup(ch)
	}()
}

func (r *room) joinedCount() int {
	n := 0
	for _, m := range r.members {
		if m.joined {
			n++
		}
	}
	return n
}

func (m *member) direction() string {
	if m.dialOut {
		return "dial-out"
	}
	return "dial-in"
}

// admitCall joins a caller who dialled in and passed the PIN (run on the
// room actor; it reads only the call's immutable fields).
func (r *room) admitCall(c *call, moderator bool) error {
	if len(r.members) >= r.cfg.MaxParties {
		return fmt.Errorf("%w: %d members", ErrConferenceFull, len(r.members))
	}
	m := &member{ch: c.ch, call: c, endpoint: c.in.Caller, moderator: moderator}
	r.members[m.ch] = m
	if err := r.join(m); err != nil {
		delete(r.members, m.ch)
		return err
	}
	return nil
}

// dial rings a new member; it joins when it answers.
func (r *room) dial(req ConferenceDialRequest) (ConferenceMember, error) {
	if len(r.members) >= r.cfg.MaxParties {
		return ConferenceMember{}, fmt.Errorf("%w: %d members", ErrConferenceFull, len(r.members))
	}
	r.nOut++
	ch := mediacore.ChannelID(fmt.Sprintf("%s-o%d", r.session, r.nOut))
	m := &member{ch: ch, endpoint: req.Endpoint, dialOut: true, muted: req.Muted, start: r.now()}
	t := &r.cc.confs
	t.mu.Lock()
	t.byChan[ch] = r
	t.mu.Unlock()
	r.members[ch] = m
	cid := req.CallerID
	if cid == "" {
		cid = r.cfg.Number
	}
	m.callerID = cid
	oreq := mediacore.OriginateRequest{ChannelID: ch, Endpoint: req.Endpoint, CallerIDNumber: cid,
		CallerIDName: r.cfg.Name, Timeout: conferenceDialTimeout}
	// Keep the room on one node: a bridge never spans two.
	for _, o := range r.members {
		if o.joined {
			oreq.Near = o.ch
			break
		}
	}
	ctx, cancel := r.io()
	_, err := r.cc.media.Originate(ctx, oreq)
	cancel()
	if err != nil {
		delete(r.members, ch)
		t.mu.Lock()
		delete(t.byChan, ch)
		t.mu.Unlock()
		return ConferenceMember{}, fmt.Errorf("dial %s: %w", req.Endpoint, err)
	}
	r.publish("conference.dialing", m, map[string]any{"endpoint": m.endpoint})
	r.refreshView()
	return m.viewOf(), nil
}

// mute moves a member between speaking and listening.
func (r *room) mute(id string, on bool) (ConferenceMember, error) {
	m := r.members[mediacore.ChannelID(id)]
	if m == nil {
		return ConferenceMember{}, fmt.Errorf("%w: %q", ErrNoSuchMember, id)
	}
	if m.muted == on {
		return m.viewOf(), nil
	}
	if m.joined {
		role := mediacore.RoleSpeak
		if on {
			role = mediacore.RoleListen
		}
		ctx, cancel := r.io()
		err := r.cc.media.SetMemberRole(ctx, r.bridge, m.ch, mediacore.Member{Role: role})
		cancel()
		if err != nil {
			return ConferenceMember{}, fmt.Errorf("set the member's role: %w", err)
		}
	}
	m.muted = on
	typ := "conference.unmuted"
	if on {
		typ = "conference.muted"
	}
	r.publish(typ, m, map[string]any{"endpoint": m.endpoint, "muted": on})
	r.refreshView()
	return m.viewOf(), nil
}

// kick takes a member out of the room and ends its call.
func (r *room) kick(id string) error {
	m := r.members[mediacore.ChannelID(id)]
	if m == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchMember, id)
	}
	if m.joined {
		ctx, cancel := r.io()
		if err := r.cc.media.RemoveFromBridge(ctx, r.bridge, m.ch); err != nil && !errors.Is(err, mediacore.ErrNoSuchChannel) {
			r.log.Debug("remove a kicked member", "channel", m.ch, "err", err)
		}
		cancel()
	}
	if m.call != nil {
		// The call actor owns its channel: it hangs up and writes the CDR.
		m.call.box.put(cmdMsg(func(c *call) {
			c.vars["conference_kicked"] = "true"
			c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
		}))
	} else {
		r.hangup(m.ch)
	}
	r.remove(m, "kicked")
	return nil
}

// dialOutCDR writes the detail record of a dialled-out member (a dial-in
// member's is its call's): answered when it joined, failed otherwise, with
// the room in its variables.
func (r *room) dialOutCDR(m *member, reason string) {
	end := r.now()
	node, _ := r.cc.media.NodeOf(m.ch)
	leg := store.CDRLeg{Channel: string(m.ch), Node: node, Role: "conference", Endpoint: m.endpoint, Start: m.start,
		End: end, Cause: mediacore.CauseNormal.String()}
	side := store.SideSystem
	if h := m.hangup; h != nil {
		if !h.Time.IsZero() {
			leg.End = h.Time
		}
		leg.Cause, leg.SIPCode, leg.Q850 = h.Cause.String(), h.SIPCode, h.Q850
		if reason == "hangup" {
			side = store.SideCaller
		}
	}
	cdr := store.CDR{ID: string(m.ch), Direction: "outbound", Caller: m.callerID, CallerName: r.cfg.Name,
		Called: m.endpoint, Node: node, Start: m.start, End: leg.End, Outcome: store.OutcomeFailed,
		HangupCause: leg.Cause, HangupSide: side, IVRPath: []store.IVRStep{}, Transfers: []store.CDRTransfer{},
		Variables: map[string]string{"conference_id": r.id, "conference_session": r.session, "conference_left": reason}}
	if m.joined {
		a := m.joinedAt
		leg.Answer, cdr.Answer = &a, &a
		cdr.Outcome = store.OutcomeAnswered
		cdr.TalkSeconds = leg.End.Sub(a).Seconds()
	}
	cdr.Legs = []store.CDRLeg{leg}
	r.cc.opt.Journal.CallEnded(cdr)
}

// memberGone is a dial-in member's call saying its channel ended.
func (r *room) memberGone(ch mediacore.ChannelID) {
	if m := r.members[ch]; m != nil {
		r.remove(m, "hangup")
	}
}

// end finishes the room: its recording, its bridge, its dialled-out
// channels (when the call center closes with members left).
func (r *room) end() {
	t := &r.cc.confs
	t.mu.Lock()
	if t.rooms[r.id] == r {
		delete(t.rooms, r.id)
	}
	t.mu.Unlock()
	for _, m := range r.members {
		if m.dialOut {
			r.hangupLater(m.ch)
		}
	}
	if r.rec != nil && !r.rec.done {
		ctx, cancel := r.io()
		if err := r.cc.media.StopRecording(ctx, r.rec.id); err != nil && !errors.Is(err, mediacore.ErrNoSuchRecording) {
			r.log.Debug("stop the room's recording", "err", err)
		}
		cancel()
		r.awaitRecording()
	}
	if r.created {
		ctx, cancel := r.io()
		if err := r.cc.media.DestroyBridge(ctx, r.bridge); err != nil && !errors.Is(err, mediacore.ErrNoSuchBridge) {
			r.log.Debug("destroy the room's bridge", "err", err)
		}
		cancel()
	}
	t.mu.Lock()
	delete(t.byBridge, r.bridge)
	for ch, x := range t.byChan {
		if x == r {
			delete(t.byChan, ch)
		}
	}
	t.mu.Unlock()
	r.box.close()
	r.viewMu.Lock()
	r.view = nil
	r.viewMu.Unlock()
	close(r.done)
	r.cancel()
}

// awaitRecording waits, at most RecordingWait, for the stopped recording
// to be finished by the node. Commands that arrive meanwhile are dropped:
// their senders see the room end and start a new one.
func (r *room) awaitRecording() {
	timeout := make(chan struct{})
	tm := r.cc.clk.AfterFunc(r.cc.opt.RecordingWait, func() { close(timeout) })
	defer tm.Stop()
	for !r.rec.done {
		m, ok := r.box.take()
		if !ok {
			select {
			case <-r.box.sig:
				continue
			case <-timeout:
				r.log.Warn("the room's recording did not finish in time", "recording_id", r.rec.id)
				return
			case <-r.ctx.Done():
				return
			}
		}
		if ev, isEv := m.(mediacore.Event); isEv {
			r.media(ev)
		}
	}
}

// recordingFinished copies the room's recording into the recording store
// and journals it, like a call's (recording.go).
func (r *room) recordingFinished(ev mediacore.Event) {
	rec := r.rec
	if rec == nil || ev.Recording != rec.id || rec.done {
		return
	}
	rec.done = true
	end := ev.Time
	if end.IsZero() {
		end = r.now()
	}
	dur := ev.Duration.Seconds()
	if dur <= 0 {
		dur = end.Sub(rec.start).Seconds()
	}
	node := ev.Node
	meta := store.Recording{ID: string(rec.id), CallID: r.session, Start: rec.start, End: end, Duration: dur,
		Caller: r.cfg.Name, Called: r.cfg.Number, Path: ev.Path, Pauses: []store.RecordPause{}, Node: node}
	if rs := r.cc.opt.Recordings; rs != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 2*time.Minute)
		rc, err := r.cc.media.OpenRecording(ctx, rec.id)
		if err == nil {
			meta.Path, meta.Bytes, err = rs.Save(ctx, string(rec.id), rc)
			rc.Close()
		}
		cancel()
		if err != nil {
			r.log.Error("conference recording not copied to the recording store; its metadata keeps the node's path",
				"recording_id", rec.id, "err", err)
			meta.Path = ev.Path
		}
	}
	r.cc.opt.Journal.RecordingFinished(meta)
	r.publish("conference.recorded", nil, map[string]any{"recording_id": meta.ID, "duration_seconds": dur})
}

// publish sends a conference CTI event (seen by admins: a room belongs to
// no team). The room id is in the payload; the member's call id, when it
// dialled in, is the event's call id.
func (r *room) publish(typ string, m *member, payload map[string]any) {
	payload["conference_id"] = r.id
	payload["conference"] = r.cfg.Name
	callID := ""
	if m != nil {
		payload["member_id"] = string(m.ch)
		if m.call != nil {
			callID = m.call.id
		}
	}
	r.cc.publish(typ, callID, "", "", r.now(), cti.Audience{}, payload)
}

func (m *member) viewOf() ConferenceMember {
	v := ConferenceMember{ID: string(m.ch), Endpoint: m.endpoint, Direction: m.direction(), State: "ringing",
		Moderator: m.moderator, Muted: m.muted}
	if m.call != nil {
		v.CallID = m.call.id
	}
	if m.joined {
		v.State = "joined"
		t := m.joinedAt
		v.JoinedAt = &t
	}
	return v
}

// refreshView publishes the members for ConferenceMembers (read without
// going through the mailbox).
func (r *room) refreshView() {
	v := make([]ConferenceMember, 0, len(r.members))
	for _, m := range r.members {
		v = append(v, m.viewOf())
	}
	sort.Slice(v, func(i, j int) bool { return v[i].ID < v[j].ID })
	r.viewMu.Lock()
	r.view = v
	r.viewMu.Unlock()
}

// canControl: admins and supervisors run conferences (agents join them
// as members only).
func canControl(by Actor) error {
	if by.Role == store.RoleAdmin || by.Role == store.RoleSupervisor {
		return nil
	}
	return ErrForbidden
}

// roomExists answers ErrNoSuchConference for an id no room has.
func (cc *CallCenter) roomExists(ctx context.Context, id string) error {
	if _, err := cc.ctl.st.Conferences().Get(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrNoSuchConference, id)
		}
		return err
	}
	return nil
}

// ConferenceMembers implements LiveControl: the members of a room now
// (none when nobody is in it).
func (cc *CallCenter) ConferenceMembers(ctx context.Context, by Actor, roomID string) ([]ConferenceMember, error) {
	if err := canControl(by); err != nil {
		return nil, err
	}
	r, err := cc.liveRoom(ctx, roomID, false)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return []ConferenceMember{}, cc.roomExists(ctx, roomID)
	}
	r.viewMu.Lock()
	defer r.viewMu.Unlock()
	return append([]ConferenceMember{}, r.view...), nil
}

// MuteConferenceMember implements LiveControl: a muted member hears the
// room and is heard by nobody (RoleListen); unmuting makes it speak again.
func (cc *CallCenter) MuteConferenceMember(ctx context.Context, by Actor, roomID, memberID string, mute bool) (ConferenceMember, error) {
	if err := canControl(by); err != nil {
		return ConferenceMember{}, err
	}
	var out ConferenceMember
	err := cc.onRoom(ctx, roomID, false, func(r *room) error {
		v, err := r.mute(memberID, mute)
		out = v
		return err
	})
	return out, cc.notLive(ctx, roomID, memberID, err)
}

// KickConferenceMember implements LiveControl: the member leaves the room
// and its call ends.
func (cc *CallCenter) KickConferenceMember(ctx context.Context, by Actor, roomID, memberID string) error {
	if err := canControl(by); err != nil {
		return err
	}
	err := cc.onRoom(ctx, roomID, false, func(r *room) error { return r.kick(memberID) })
	return cc.notLive(ctx, roomID, memberID, err)
}

// DialConference implements LiveControl: it rings an endpoint, which joins
// the room when it answers (the room comes alive if nobody is in it yet).
func (cc *CallCenter) DialConference(ctx context.Context, by Actor, roomID string, req ConferenceDialRequest) (ConferenceMember, error) {
	if err := canControl(by); err != nil {
		return ConferenceMember{}, err
	}
	if _, err := mediacore.ParseEndpoint(req.Endpoint); err != nil {
		return ConferenceMember{}, fmt.Errorf("%w: %w", ErrInvalidDevice, err)
	}
	var out ConferenceMember
	err := cc.onRoom(ctx, roomID, true, func(r *room) error {
		v, err := r.dial(req)
		out = v
		return err
	})
	return out, err
}

// notLive maps a room that is not live to the member not being there (or
// the room not existing).
func (cc *CallCenter) notLive(ctx context.Context, roomID, memberID string, err error) error {
	if !errors.Is(err, errNotLive) {
		return err
	}
	if err := cc.roomExists(ctx, roomID); err != nil {
		return err
	}
	return fmt.Errorf("%w: %q", ErrNoSuchMember, memberID)
}

// leaveRoom tells a room that a dial-in member's channel ended.
func (cc *CallCenter) leaveRoom(roomID string, ch mediacore.ChannelID) {
	r, _ := cc.liveRoom(context.Background(), roomID, false)
	if r != nil {
		r.box.put(roomCmd(func(r *room) { r.memberGone(ch) }))
	}
}

type conferencesRepo struct {
	store.ConferenceRepo
	c *Controller
}

// Conferences returns the conference rooms; their writes go through the
// change feed before they return. A live room keeps the configuration it
// started with until its last member leaves.
func (c *Controller) Conferences() store.ConferenceRepo {
	return conferencesRepo{c.st.Conferences(), c}
}

func (r conferencesRepo) Create(ctx context.Context, v *store.Conference) error {
	return r.c.wrote(ctx, r.ConferenceRepo.Create(ctx, v))
}

func (r conferencesRepo) Update(ctx context.Context, v *store.Conference) error {
	return r.c.wrote(ctx, r.ConferenceRepo.Update(ctx, v))
}

func (r conferencesRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.ConferenceRepo.Delete(ctx, id, version))
}

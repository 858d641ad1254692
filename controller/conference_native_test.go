package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// confCenter is the call path over the native core with a conference room
// "Daily" (PIN 1234, moderator PIN 9999, recorded) on the number 8800, and
// a log of the CTI events.
type confCenter struct {
	*nativeCenter
	room store.Conference

	mu  sync.Mutex
	evs []cti.Event
}

const (
	confPIN    = "1234"
	confModPIN = "9999"
	confNumber = "8800"
)

func newConfCenter(t *testing.T, maxParties int) *confCenter {
	t.Helper()
	n := newNativeCenter(t, nil)
	ctx := t.Context()
	room := store.Conference{Name: "Daily", Number: confNumber, PIN: confPIN, ModeratorPIN: confModPIN,
		MaxParties: maxParties, Record: true}
	if err := n.ctl.Conferences().Create(ctx, &room); err != nil {
		t.Fatal(err)
	}
	if err := n.ctl.Numbers().Create(ctx, &store.Number{Number: confNumber,
		Route: store.Target{Kind: store.TargetConference, Value: room.ID}}); err != nil {
		t.Fatal(err)
	}
	cc := &confCenter{nativeCenter: n, room: room}
	sub, err := n.cc.Events().Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := sub.Next(context.Background())
			if err != nil {
				return
			}
			cc.mu.Lock()
			cc.evs = append(cc.evs, ev)
			cc.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		sub.Close()
		<-done
	})
	return cc
}

// ctiOf returns the payloads of the CTI events of type typ so far.
func (cc *confCenter) ctiOf(t *testing.T, typ string) []map[string]any {
	t.Helper()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out []map[string]any
	for _, ev := range cc.evs {
		if ev.Type == typ {
			var m map[string]any
			if err := json.Unmarshal(ev.Payload, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// dialIn calls the room's number as user and enters pin followed by #.
func (cc *confCenter) dialIn(t *testing.T, ctx context.Context, user, pin string) *sippeer.Call {
	t.Helper()
	call, err := cc.tryDialIn(t, ctx, user, pin)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

// tryDialIn is dialIn for other goroutines than the test's.
func (cc *confCenter) tryDialIn(t *testing.T, ctx context.Context, user, pin string) (*sippeer.Call, error) {
	p, err := sippeer.New(sippeer.Config{User: user})
	if err != nil {
		return nil, err
	}
	t.Cleanup(p.Close)
	call, err := p.Dial(ctx, cc.uri(confNumber))
	if err != nil {
		return nil, fmt.Errorf("%s dials in: %w", user, err)
	}
	call.SendDTMF(pin + "#")
	return call, nil
}

// members returns the room's members now.
func (cc *confCenter) members(t *testing.T) []ConferenceMember {
	t.Helper()
	ms, err := cc.cc.ConferenceMembers(t.Context(), admin, cc.room.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// joined waits until exactly n members are joined and returns them.
func (cc *confCenter) joined(t *testing.T, n int) []ConferenceMember {
	t.Helper()
	var ms []ConferenceMember
	eventually(t, fmt.Sprintf("%d members joined", n), 30*time.Second, func() bool {
		ms = cc.members(t)
		k := 0
		for _, m := range ms {
			if m.State == "joined" {
				k++
			}
		}
		return k == n && len(ms) == n
	})
	return ms
}

func memberOf(t *testing.T, ms []ConferenceMember, endpoint string) ConferenceMember {
	t.Helper()
	for _, m := range ms {
		if m.Endpoint == endpoint {
			return m
		}
	}
	t.Fatalf("no member %s in %+v", endpoint, ms)
	return ConferenceMember{}
}

// partyMix checks one window of audio: each tone of want carries at least
// 2% of the energy (nine equal tones share it, about 11% each, less what
// the mix's saturation spreads), and each tone of not at most 0.5%.
func partyMix(s []int16, want, not []float64) error {
	if lvl := audio.LevelDBm0(s); lvl < -45 {
		return fmt.Errorf("silence (%.1f dBm0)", lvl)
	}
	var bad []string
	for _, f := range want {
		if r := audio.ToneRatio(s, audio.SampleRate, f); r < 0.02 {
			bad = append(bad, fmt.Sprintf("%v Hz missing (%.3f)", f, r))
		}
	}
	for _, f := range not {
		if r := audio.ToneRatio(s, audio.SampleRate, f); r > 0.005 {
			bad = append(bad, fmt.Sprintf("%v Hz heard (%.3f)", f, r))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// hearsParties waits until what c heard over the last 600 ms holds the
// tones want and none of not; a wrong mix never passes.
func hearsParties(t *testing.T, who string, c *sippeer.Call, want, not []float64) {
	t.Helper()
	c.ClearHeard()
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for {
		if s := c.Heard(600 * time.Millisecond); len(s) >= 4800 {
			if err = partyMix(s, want, not); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("not enough audio")
			}
			t.Fatalf("%s: %v", who, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func without(fs []float64, i int) []float64 {
	out := slices.Clone(fs)
	return slices.Delete(out, i, i+1)
}

// Ten callers dial in with the PIN. Each party sends its own tone (none
// near the room's entry and exit tones, the DTMF frequencies or another's
// third harmonic); a few parties are checked to hear the nine others and
// never themselves. A muted member still hears the room and is heard by
// nobody; unmuted, it is heard again. The room's recording, copied to the
// recording store and journaled, holds the parties' tones together.
func TestConferenceNativeTenParties(t *testing.T) {
	cc := newConfCenter(t, 10)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	freqs := []float64{310, 370, 530, 590, 1070, 1270, 1570, 1730, 1870, 2030}
	calls := make([]*sippeer.Call, len(freqs))
	errs := make([]error, len(freqs))
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			calls[i], errs[i] = cc.tryDialIn(t, ctx, "1390000000"+strconv.Itoa(i), confPIN)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ms := cc.joined(t, len(calls))
	for i, c := range calls {
		c.SetTone(freqs[i])
	}
	for _, i := range []int{0, 4, 9} {
		hearsParties(t, fmt.Sprintf("party %d", i), calls[i], without(freqs, i), freqs[i:i+1])
	}
	if got := len(cc.ctiOf(t, "conference.joined")); got != len(calls) {
		t.Errorf("%d conference.joined events, want %d", got, len(calls))
	}

	// Mute party 3: nobody hears it, it still hears everyone.
	m3 := memberOf(t, ms, "13900000003")
	if v, err := cc.cc.MuteConferenceMember(ctx, admin, cc.room.ID, m3.ID, true); err != nil || !v.Muted {
		t.Fatalf("mute: %+v, %v", v, err)
	}
	others := without(freqs, 3)
	hearsParties(t, "party 0, 3 muted", calls[0], without(others, 0), []float64{freqs[0], freqs[3]})
	hearsParties(t, "party 7, 3 muted", calls[7], slices.DeleteFunc(slices.Clone(others), func(f float64) bool { return f == freqs[7] }),
		[]float64{freqs[7], freqs[3]})
	hearsParties(t, "muted party 3", calls[3], others, freqs[3:4])
	if ev := cc.ctiOf(t, "conference.muted"); len(ev) != 1 || ev[0]["member_id"] != m3.ID {
		t.Errorf("conference.muted events %v", ev)
	}
	if _, err := cc.cc.MuteConferenceMember(ctx, admin, cc.room.ID, m3.ID, false); err != nil {
		t.Fatal(err)
	}
	hearsParties(t, "party 0, 3 unmuted", calls[0], without(freqs, 0), freqs[0:1])

	// Everyone leaves; the room ends and its recording is kept.
	for _, c := range calls {
		if err := c.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the CDRs", 30*time.Second, func() bool { return len(cc.j.CDRs()) == len(calls) })
	for _, cdr := range cc.j.CDRs() {
		if cdr.Outcome != store.OutcomeAnswered || cdr.Variables["conference_id"] != cc.room.ID || cdr.Answer == nil {
			t.Errorf("CDR %+v", cdr)
		}
	}
	eventually(t, "the room's recording", 30*time.Second, func() bool { return len(cc.j.Recordings()) == 1 })
	rec := cc.j.Recordings()[0]
	if rec.Called != cc.room.Number || rec.Stereo || rec.Bytes == 0 {
		t.Errorf("recording %+v", rec)
	}
	if got := len(cc.ctiOf(t, "conference.left")); got != len(calls) {
		t.Errorf("%d conference.left events, want %d", got, len(calls))
	}
	src, err := audio.NewWAVSource(bytes.NewReader(cc.recs.get(rec.Path)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := audio.ReadAll(src, 8000*600)
	if err != nil {
		t.Fatal(err)
	}
	// Some second of the recording holds all ten tones.
	best := ""
	for from := 0; from+8000 <= len(s); from += 4000 {
		err := partyMix(s[from:from+8000], freqs, nil)
		if err == nil {
			best = ""
			break
		}
		best = err.Error()
	}
	if best != "" || len(s) < 8000 {
		t.Errorf("no second of the recording (%d samples) holds every party's tone; last: %s", len(s), best)
	}
	if ms := cc.members(t); len(ms) != 0 {
		t.Errorf("members after everyone left: %+v", ms)
	}
}

// A wrong PIN three times is refused: the call ends, its CDR says so and
// nobody joins. The moderator PIN admits as moderator. Dial-out adds an
// extension (a registered phone) and an external number through a trunk
// (a phone playing the carrier); each hears the moderator and is heard.
// Kicking a dialled member ends its call; kicking the moderator ends its
// call too, and the room with it.
func TestConferenceNativePINDialOutKick(t *testing.T) {
	cc := newConfCenter(t, 5)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()

	intruder := cc.dialIn(t, ctx, "13900000099", "1111")
	intruder.SendDTMF("2222#")
	intruder.SendDTMF("3333#")
	select {
	case <-intruder.Done():
	case <-ctx.Done():
		t.Fatal("three wrong PINs: the call was not ended")
	}
	eventually(t, "the refused call's CDR", 20*time.Second, func() bool { return len(cc.j.CDRs()) == 1 })
	if cdr := cc.j.CDRs()[0]; cdr.Outcome != store.OutcomeRejected || cdr.Variables["conference_refused"] != "pin" {
		t.Errorf("refused CDR %+v", cdr)
	}
	if ms := cc.members(t); len(ms) != 0 || len(cc.ctiOf(t, "conference.joined")) != 0 {
		t.Fatalf("a wrong PIN joined: %+v", ms)
	}

	mod := cc.dialIn(t, ctx, "13900000001", confModPIN)
	ms := cc.joined(t, 1)
	if !ms[0].Moderator || ms[0].Direction != "dial-in" || ms[0].CallID == "" {
		t.Fatalf("moderator %+v", ms[0])
	}
	mod.SetTone(530)

	// Dial-out to an extension: the agent's registered phone.
	ext, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	if code, err := ext.Register(ctx, cc.b.Addr().String(), e2ePassword, 300); err != nil || code != 200 {
		t.Fatalf("register: %d, %v", code, err)
	}
	if _, err := cc.cc.DialConference(ctx, Actor{Role: store.RoleAgent, AgentID: cc.agent}, cc.room.ID,
		ConferenceDialRequest{Endpoint: "user/1001"}); err == nil {
		t.Fatal("an agent dialled out")
	}
	m, err := cc.cc.DialConference(ctx, admin, cc.room.ID, ConferenceDialRequest{Endpoint: "user/1001"})
	if err != nil || m.State != "ringing" || m.Direction != "dial-out" {
		t.Fatalf("dial-out: %+v, %v", m, err)
	}
	var extCall *sippeer.Call
	select {
	case extCall = <-ext.Incoming():
	case <-ctx.Done():
		t.Fatal("the extension never rang")
	}
	if from := extCall.HeaderValue("From"); !strings.Contains(from, confNumber) {
		t.Errorf("dial-out caller id %q, want the room's number", from)
	}
	extCall.SetTone(1270)
	cc.joined(t, 2)
	// The moderator heard the room's entry beeps when the extension came in.
	heardTone(t, "entry tone", mod, confEntryTone.Freqs[0])

	// Dial-out to an external number through a trunk.
	carrier, err := sippeer.New(sippeer.Config{User: "carrier"})
	if err != nil {
		t.Fatal(err)
	}
	defer carrier.Close()
	host, port, _ := strings.Cut(carrier.Addr(), ":")
	pn, _ := strconv.Atoi(port)
	if err := cc.ctl.Trunks().Create(ctx, &store.Trunk{Name: "carrier", Host: host, Port: pn,
		Transport: store.TransportUDP, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	ext2, err := cc.cc.DialConference(ctx, admin, cc.room.ID, ConferenceDialRequest{Endpoint: "tel/+8613900000000"})
	if err != nil {
		t.Fatal(err)
	}
	var telCall *sippeer.Call
	select {
	case telCall = <-carrier.Incoming():
	case <-ctx.Done():
		t.Fatal("the trunk never rang")
	}
	telCall.SetTone(1730)
	cc.joined(t, 3)
	hearsParties(t, "moderator", mod, []float64{1270, 1730}, []float64{530})
	hearsParties(t, "extension", extCall, []float64{530, 1730}, []float64{1270})
	hearsParties(t, "external", telCall, []float64{530, 1270}, []float64{1730})

	// Full: MaxParties 5 counts ringing dial-outs too.
	slow, err := sippeer.New(sippeer.Config{User: "slow", AnswerDelay: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	for range 2 {
		if _, err := cc.cc.DialConference(ctx, admin, cc.room.ID, ConferenceDialRequest{Endpoint: "sip:slow@" + slow.Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cc.cc.DialConference(ctx, admin, cc.room.ID, ConferenceDialRequest{Endpoint: "user/1001"}); !errorsIs(err, ErrConferenceFull) {
		t.Errorf("dial-out into a full room: %v", err)
	}

	// A caller with the right PIN is refused too, busy.
	late := cc.dialIn(t, ctx, "13900000077", confPIN)
	select {
	case <-late.Done():
	case <-ctx.Done():
		t.Fatal("a dial-in into a full room was not ended")
	}
	eventually(t, "the late caller's CDR", 20*time.Second, func() bool {
		return slices.ContainsFunc(cc.j.CDRs(), func(c store.CDR) bool { return c.Caller == "13900000077" })
	})
	for _, cdr := range cc.j.CDRs() {
		if cdr.Caller == "13900000077" && (cdr.Outcome != store.OutcomeRejected || cdr.Variables["conference_refused"] != "full") {
			t.Errorf("late caller's CDR %+v", cdr)
		}
	}

	// Kick the external party: its call ends, the others no longer hear it.
	if err := cc.cc.KickConferenceMember(ctx, admin, cc.room.ID, ext2.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-telCall.Done():
	case <-ctx.Done():
		t.Fatal("the kicked member's call did not end")
	}
	heardTone(t, "exit tone", mod, confExitTone.Freqs[0])
	hearsParties(t, "moderator after the kick", mod, []float64{1270}, []float64{530, 1730})
	left := cc.ctiOf(t, "conference.left")
	if len(left) != 1 || left[0]["reason"] != "kicked" || left[0]["member_id"] != ext2.ID {
		t.Errorf("conference.left %v", left)
	}
	if err := cc.cc.KickConferenceMember(ctx, admin, cc.room.ID, ext2.ID); !errorsIs(err, ErrNoSuchMember) {
		t.Errorf("kick twice: %v", err)
	}

	// Kick the moderator (a dial-in member): its call actor hangs up.
	if err := cc.cc.KickConferenceMember(ctx, admin, cc.room.ID, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mod.Done():
	case <-ctx.Done():
		t.Fatal("the kicked moderator's call did not end")
	}
	eventually(t, "the moderator's CDR", 20*time.Second, func() bool { return cdrOf(cc.j, ms[0].CallID) != nil })
	if cdr := cdrOf(cc.j, ms[0].CallID); cdr.Outcome != store.OutcomeAnswered || cdr.Variables["conference_kicked"] != "true" ||
		cdr.Variables["conference_moderator"] != "true" {
		t.Errorf("moderator's CDR %+v", cdr)
	}
	// The kicked dial-out has its own CDR: answered, outbound, the room's
	// number as caller.
	if cdr := cdrOf(cc.j, ext2.ID); cdr == nil || cdr.Outcome != store.OutcomeAnswered || cdr.Direction != "outbound" ||
		cdr.Caller != confNumber || cdr.Called != "tel/+8613900000000" || cdr.Variables["conference_left"] != "kicked" {
		t.Errorf("dial-out CDR %+v", cdr)
	}
	if err := extCall.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	// The last one in leaves: the ringing dial-outs are called off and
	// the room ends.
	eventually(t, "the room ends", 60*time.Second, func() bool { return len(cc.members(t)) == 0 })
	if _, err := cc.cc.MuteConferenceMember(ctx, admin, cc.room.ID, ms[0].ID, true); !errorsIs(err, ErrNoSuchMember) {
		t.Errorf("mute in an empty room: %v", err)
	}
	if _, err := cc.cc.ConferenceMembers(ctx, admin, "0123456789abcdef01234567"); !errorsIs(err, ErrNoSuchConference) {
		t.Errorf("members of an unknown room: %v", err)
	}
}

// heardTone waits until c heard freq in some 100 ms of the last 3 s.
func heardTone(t *testing.T, what string, c *sippeer.Call, freq float64) {
	t.Helper()
	eventually(t, what, 10*time.Second, func() bool {
		s := c.Heard(3 * time.Second)
		for from := 0; from+800 <= len(s); from += 400 {
			if w := s[from : from+800]; audio.LevelDBm0(w) > -45 && audio.ToneRatio(w, audio.SampleRate, freq) > 0.2 {
				return true
			}
		}
		return false
	})
}

func cdrOf(j *memJournal, id string) *store.CDR {
	for _, c := range j.CDRs() {
		if c.ID == id {
			return &c
		}
	}
	return nil
}

func errorsIs(err, target error) bool { return err != nil && errors.Is(err, target) }

// The moderator's keypad: *1 mutes every other member (the moderator and
// the members hear no member any more, the members still hear the
// moderator), *2 unmutes them; a member's *1 does nothing.
func TestConferenceNativeModeratorKeys(t *testing.T) {
	cc := newConfCenter(t, 5)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	mod := cc.dialIn(t, ctx, "13900000001", confModPIN)
	a := cc.dialIn(t, ctx, "13900000002", confPIN)
	b := cc.dialIn(t, ctx, "13900000003", confPIN)
	cc.joined(t, 3)
	mod.SetTone(530)
	a.SetTone(1270)
	b.SetTone(1730)
	hearsParties(t, "moderator", mod, []float64{1270, 1730}, []float64{530})

	a.SendDTMF("*1") // not a moderator: nothing happens
	mod.SendDTMF("*1")
	eventually(t, "the others muted", 10*time.Second, func() bool {
		n := 0
		for _, m := range cc.members(t) {
			if m.Muted {
				n++
			}
		}
		return n == 2
	})
	for _, m := range cc.members(t) {
		if m.Muted == m.Moderator {
			t.Fatalf("after the moderator's *1: %+v", cc.members(t))
		}
	}
	a.ClearHeard()
	mod.ClearHeard()
	hearsParties(t, "member a, others muted", a, []float64{530}, []float64{1270, 1730})
	eventually(t, "the moderator hears silence, others muted", 15*time.Second, func() bool {
		s := mod.Heard(600 * time.Millisecond)
		return len(s) >= 4800 && audio.LevelDBm0(s) < -45
	})
	if ev := cc.ctiOf(t, "conference.muted"); len(ev) != 2 {
		t.Errorf("conference.muted events %v", ev)
	}

	mod.SendDTMF("*2")
	hearsParties(t, "moderator, others unmuted", mod, []float64{1270, 1730}, []float64{530})
	if ev := cc.ctiOf(t, "conference.unmuted"); len(ev) != 2 {
		t.Errorf("conference.unmuted events %v", ev)
	}
}

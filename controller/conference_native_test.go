package controller

import (
	"bytes"
	"context"
	"encoding/json"
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
	p, err := sippeer.New(sippeer.Config{User: user})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	call, err := p.Dial(ctx, cc.uri(confNumber))
	if err != nil {
		t.Fatal(err)
	}
	call.SendDTMF(pin + "#")
	return call
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
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			calls[i] = cc.dialIn(t, ctx, "1390000000"+strconv.Itoa(i), confPIN)
		}()
	}
	wg.Wait()
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

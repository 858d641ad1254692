package mediafake

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// InboundCall describes a call from outside (Fake.InboundCall).
type InboundCall struct {
	// ID is the channel id; "" lets the fake choose "<prefix>-<n>".
	ID         mediacore.ChannelID
	Caller     string
	CallerName string
	Called     string
	Headers    map[string]string // also readable with Variable
	Trunk      string
}

// Inbound starts a call from caller to called: ChannelCreated follows. It
// returns the channel id (the backend's; Core may show another on a
// collision, see mediacore's package doc).
func (f *Fake) Inbound(caller, called string) mediacore.ChannelID {
	return f.InboundCall(InboundCall{Caller: caller, Called: called})
}

// InboundCall starts an inbound call described by in.
func (f *Fake) InboundCall(in InboundCall) mediacore.ChannelID {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := in.ID
	if id == "" {
		id = mediacore.ChannelID(f.nextID(""))
	}
	c := &channel{
		info: mediacore.ChannelInfo{ID: id, Direction: mediacore.Inbound, State: mediacore.ChannelRinging,
			Caller: in.Caller, Called: in.Called, Created: f.now()},
		vars: maps.Clone(in.Headers),
	}
	if c.vars == nil {
		c.vars = map[string]string{}
	}
	f.channels[id] = c
	f.emit(mediacore.Event{Type: mediacore.EventChannelCreated, Channel: id, Direction: mediacore.Inbound,
		Caller: in.Caller, CallerName: in.CallerName, Called: in.Called, Headers: maps.Clone(in.Headers), Trunk: in.Trunk})
	return id
}

// RemoteHangup is the far end hanging up (or cancelling) ch with cause.
func (f *Fake) RemoteHangup(ch mediacore.ChannelID, cause mediacore.Cause) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	f.end(c, cause)
	return nil
}

// AnswerCall is the far end of a ringing outbound channel answering (for
// endpoints set to Answer{Manual: true}, or to answer early).
func (f *Fake) AnswerCall(ch mediacore.ChannelID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.Direction != mediacore.Outbound || !c.info.Answered.IsZero() {
		return fmt.Errorf("%w: %s is not a ringing outbound channel", mediacore.ErrChannelState, ch)
	}
	f.answer(c)
	return nil
}

// PressDTMF is the far end of ch pressing digit (EventDTMF).
func (f *Fake) PressDTMF(ch mediacore.ChannelID, digit byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.chanLocked(ch); err != nil {
		return err
	}
	f.emit(mediacore.Event{Type: mediacore.EventDTMF, Channel: ch, Digit: digit, Duration: DefaultDTMFDuration})
	return nil
}

// Refer is the far end of ch asking for a transfer to referTo (a SIP
// REFER; replaces names the channel an attended transfer replaces).
// EventTransferRequested follows; the controller's AnswerTransfer is
// recorded (TransferAnswer).
func (f *Fake) Refer(ch mediacore.ChannelID, referTo string, replaces mediacore.ChannelID) (mediacore.TransferID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.chanLocked(ch); err != nil {
		return "", err
	}
	id := mediacore.TransferID(f.nextID("xfer"))
	f.transfers[id] = &transfer{ch: ch}
	f.emit(mediacore.Event{Type: mediacore.EventTransferRequested, Channel: ch, Transfer: id, ReferTo: referTo, Replaces: replaces})
	return id, nil
}

// TransferAnswer reports how the controller answered a transfer request.
func (f *Fake) TransferAnswer(id mediacore.TransferID) (accept, answered bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.transfers[id]; t != nil {
		return t.accept, t.answered
	}
	return false, false
}

// Register is a phone registering endpoint (e.g. "1001") from contact.
func (f *Fake) Register(endpoint, contact string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emit(mediacore.Event{Type: mediacore.EventEndpointRegistered, Endpoint: endpoint, Contact: contact})
}

// Unregister is a phone's registration ending.
func (f *Fake) Unregister(endpoint, contact string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emit(mediacore.Event{Type: mediacore.EventEndpointUnregistered, Endpoint: endpoint, Contact: contact})
}

// Down makes the node unreachable: BackendDown follows and every command
// fails with ErrBackendUnavailable until Up. Channels are kept (a
// connection loss), unless Forget drops them.
func (f *Fake) Down(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = false
	f.emit(mediacore.Event{Type: mediacore.EventBackendDown, Backend: f.opts.Name, Err: reason})
}

// Up ends Down: BackendUp follows.
func (f *Fake) Up() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = true
	f.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: f.opts.Name})
}

// Forget drops a channel without any event, as a node that restarted
// lost it (for reconcile tests).
func (f *Fake) Forget(ch mediacore.ChannelID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[ch]
	if c == nil {
		return
	}
	for _, t := range c.timers {
		t.Stop()
	}
	if b := f.bridges[c.info.Bridge]; b != nil {
		delete(b.members, ch)
	}
	delete(f.channels, ch)
}

// SetAnswer sets how the far end of endpoint (as in
// OriginateRequest.Endpoint) answers later originates.
func (f *Fake) SetAnswer(endpoint string, a Answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[endpoint] = a
}

// Fail makes the next command of op ("answer", "hangup", as in Call.Op)
// fail with err, before it has any effect; several calls queue errors.
func (f *Fake) Fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[op] = append(f.failures[op], err)
}

// Calls returns the commands received so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// CallsOf returns the commands of one operation ("answer", ...).
func (f *Fake) CallsOf(op string) []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Played returns the playbacks started so far (hold music excluded).
func (f *Fake) Played() []Played {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.played)
}

// Channel returns a live channel's state.
func (f *Fake) Channel(ch mediacore.ChannelID) (mediacore.ChannelInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.channels[ch]; c != nil {
		return c.info, true
	}
	return mediacore.ChannelInfo{}, false
}

// SentDTMF returns the digits sent on ch with SendDTMF.
func (f *Fake) SentDTMF(ch mediacore.ChannelID) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.channels[ch]; c != nil {
		return c.sent
	}
	return ""
}

// DTMFDetection reports whether in-band detection is on for ch.
func (f *Fake) DTMFDetection(ch mediacore.ChannelID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[ch]
	return c != nil && c.detect
}

// Media returns a prompt uploaded with PutMedia.
func (f *Fake) Media(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.media[name]
	return b, ok
}

// Trunks returns the trunks last set with SetTrunks.
func (f *Fake) Trunks() []mediacore.TrunkConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.trunks)
}

// memFile is an in-memory io.WriteSeeker for the WAV writer.
type memFile struct {
	buf []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + int64(len(p)); end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	copy(m.buf[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.buf))
	}
	if off < 0 {
		return 0, fmt.Errorf("mediafake: negative seek")
	}
	m.off = off
	return off, nil
}

// wavDuration reads a mono WAV's length.
func wavDuration(b []byte) (time.Duration, error) {
	src, err := audio.NewWAVSource(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	var buf [audio.FrameSamples]int16
	n := 0
	for {
		k, err := src.ReadFrame(buf[:])
		n += k
		if err != nil {
			break
		}
	}
	return time.Duration(n) * time.Second / audio.SampleRate, nil
}

package native

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
	"hotline/mediacore/native/rtpengine"
)

type chanState int

const (
	stateSetup chanState = iota // inbound not answered / outbound dialling
	stateUp                     // answered (ACK seen or sent)
	stateEnded
)

// setupCmd is a controller decision for an inbound call that is not
// answered yet, executed by the goroutine of the INVITE handler (sipgo ends
// the server transaction when that handler returns, so it owns the
// INVITE's responses until the call is set up).
type setupCmd struct {
	kind  int // cmdRing, cmdAnswer, cmdReject
	cause mediacore.Cause
	reply chan error
}

const (
	cmdRing = iota + 1
	cmdAnswer
	cmdReject
	cmdProgress
)

// channel is one SIP dialog and its RTP leg.
type channel struct {
	id  mediacore.ChannelID
	dir mediacore.Direction
	b   *Backend
	leg *rtpengine.Leg

	// setup carries decisions to an inbound INVITE handler; nil for
	// outbound channels.
	setup chan setupCmd
	// cancelDial ends an outbound call attempt that is still ringing (the
	// dialog client sends CANCEL when its context ends, RFC 3261 §9.1).
	cancelDial context.CancelCauseFunc
	// done is closed when the channel ended; up when it was answered.
	done chan struct{}
	up   chan struct{}

	// evMu serialises the channel's events into the sink so they leave in
	// the order they happened, whichever goroutine saw them.
	evMu sync.Mutex

	// mu guards the fields below.
	mu        sync.Mutex
	state     chanState
	srv       *sipgo.DialogServerSession
	cli       *sipgo.DialogClientSession
	dialogIDs []string
	media     mediaOffer // the negotiated remote media
	localSDP  sdpParams  // our last session description (version bumps on change)
	hangupBy  mediacore.Cause
	held      bool                 // we put the far end on hold
	holdPB    rtpengine.PlaybackID // music on hold playback, 0 if none
	bridge    mediacore.BridgeID
	rec       mediacore.RecordingID // the leg's recording, "" if none
	ringing   bool

	// Contract v2 (reconcile, variables, early media, transfers).
	caller, called string
	created        time.Time
	answered       time.Time // zero before answer
	early          bool      // early media flows (183 sent or received)
	earlySDP       []byte    // the SDP of our 183, repeated in the 200
	vars           map[string]string
	transfers      map[mediacore.TransferID]*pendingTransfer // REFERs waiting for the controller
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// emit sends one event for this channel to the sink, in order.
func (c *channel) emit(ev mediacore.Event) {
	ev.Channel = c.id
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	c.b.emit(ev)
}

// setUpLocked marks the channel answered. Callers hold c.mu.
func (c *channel) setUpLocked() {
	if c.state == stateSetup {
		c.state = stateUp
		c.answered = time.Now()
		close(c.up)
	}
}

func (c *channel) getState() chanState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// dialog returns the sipgo dialog (server or client side) for in-dialog
// requests.
func (c *channel) request(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	c.mu.Lock()
	srv, cli := c.srv, c.cli
	c.mu.Unlock()
	switch {
	case srv != nil:
		return srv.Do(ctx, req)
	case cli != nil:
		return cli.Do(ctx, req)
	}
	return nil, mediacore.ErrChannelState
}

func (c *channel) writeRequest(req *sip.Request) error {
	c.mu.Lock()
	srv, cli := c.srv, c.cli
	c.mu.Unlock()
	switch {
	case srv != nil:
		return srv.WriteRequest(req)
	case cli != nil:
		return cli.WriteRequest(req)
	}
	return mediacore.ErrChannelState
}

// remoteTarget is where in-dialog requests go: the peer's Contact (RFC 3261
// §12.1.1 for the UAS, §12.1.2 for the UAC).
func (c *channel) remoteTarget() (sip.Uri, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.srv != nil:
		if ct := c.srv.InviteRequest.Contact(); ct != nil {
			return ct.Address, true
		}
	case c.cli != nil && c.cli.InviteResponse != nil:
		if ct := c.cli.InviteResponse.Contact(); ct != nil {
			return ct.Address, true
		}
	}
	return sip.Uri{}, false
}

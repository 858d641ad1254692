package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hotline/mediacore"
)

// commandTimeout bounds each command the harness sends to the core.
const commandTimeout = 10 * time.Second

// call is one inbound call and the leg originated for it. mu guards all
// fields but in, which never changes.
type call struct {
	in mediacore.ChannelID

	mu        sync.Mutex
	out       mediacore.ChannelID
	bridge    mediacore.BridgeID
	inEnded   bool
	outEnded  bool
	bridged   bool
	failed    bool
	cleanedUp bool
}

// counters are the harness's figures; all atomics so /stats never blocks
// the calls.
type counters struct {
	inbound        atomic.Int64 // ChannelCreated for inbound calls
	answered       atomic.Int64 // inbound calls answered
	originated     atomic.Int64 // outbound legs started
	outAnswered    atomic.Int64 // outbound legs answered by SIPp
	bridged        atomic.Int64 // both legs joined in a bridge
	ended          atomic.Int64 // bridged calls whose both legs hung up
	failed         atomic.Int64 // calls that never got bridged, or lost a command
	mediaTimeouts  atomic.Int64 // legs hung up by the core for lack of RTP
	recStarted     atomic.Int64
	recFinished    atomic.Int64
	recOK          atomic.Int64 // caller tone left and callee tone right
	recBad         atomic.Int64 // a tone missing or on the wrong side
	recErr         atomic.Int64 // RecordingFinished with an error, or unreadable
	commandErrors  atomic.Int64
	recCheckedSecs atomic.Int64
}

// harness routes the core's events into the two-leg call logic.
type harness struct {
	cfg  serveConfig
	log  *slog.Logger
	core *mediacore.Core
	c    counters

	// mu guards byChan and causes.
	mu     sync.Mutex
	byChan map[mediacore.ChannelID]*call
	causes map[string]int64 // hangup causes, all legs

	// bg counts the command goroutines, so exit waits for them.
	bg sync.WaitGroup
}

func newHarness(cfg serveConfig, log *slog.Logger) *harness {
	return &harness{cfg: cfg, log: log, byChan: map[mediacore.ChannelID]*call{}, causes: map[string]int64{}}
}

func (h *harness) wait() { h.bg.Wait() }

// goCommand runs f in its own goroutine: the Handler must not block a
// channel's event stream on a command that waits for that stream.
func (h *harness) goCommand(f func(ctx context.Context)) {
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		defer cancel()
		f(ctx)
	}()
}

func (h *harness) lookup(ch mediacore.ChannelID) *call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byChan[ch]
}

// onEvent is the Core's Handler (one goroutine per channel).
func (h *harness) onEvent(ev mediacore.Event) {
	switch ev.Type {
	case mediacore.EventChannelCreated:
		if ev.Direction != mediacore.Inbound {
			return // mapped by answerAndDial before Originate
		}
		h.c.inbound.Add(1)
		c := &call{in: ev.Channel}
		h.mu.Lock()
		h.byChan[ev.Channel] = c
		h.mu.Unlock()
		h.goCommand(func(ctx context.Context) { h.answerAndDial(ctx, c) })
	case mediacore.EventAnswered:
		c := h.lookup(ev.Channel)
		if c == nil {
			return
		}
		c.mu.Lock()
		isOut := ev.Channel == c.out
		c.mu.Unlock()
		if isOut {
			h.c.outAnswered.Add(1)
			h.goCommand(func(ctx context.Context) { h.bridge(ctx, c) })
		}
	case mediacore.EventHangup:
		h.mu.Lock()
		h.causes[ev.Cause.String()]++
		h.mu.Unlock()
		if ev.Cause == mediacore.CauseMediaTimeout {
			h.c.mediaTimeouts.Add(1)
		}
		if c := h.lookup(ev.Channel); c != nil {
			h.onHangup(c, ev.Channel)
		}
	case mediacore.EventRecordingFinished:
		h.c.recFinished.Add(1)
		if ev.Err != "" {
			h.c.recErr.Add(1)
			h.log.Warn("recording failed", "recording", ev.Recording, "err", ev.Err)
		}
		if ev.Path != "" {
			h.goCommand(func(context.Context) { h.checkRecording(ev.Path) })
		}
	}
}

// answerAndDial answers the inbound leg and originates to the callee.
func (h *harness) answerAndDial(ctx context.Context, c *call) {
	if err := h.core.Answer(ctx, c.in); err != nil {
		h.fail(c, "answer", err)
		return
	}
	h.c.answered.Add(1)
	out := mediacore.ChannelID("out-" + strings.TrimPrefix(string(c.in), "in-"))
	c.mu.Lock()
	c.out = out
	inEnded := c.inEnded
	c.mu.Unlock()
	if inEnded {
		h.fail(c, "answer", fmt.Errorf("caller hung up during answer"))
		return
	}
	h.mu.Lock()
	h.byChan[out] = c
	h.mu.Unlock()
	h.c.originated.Add(1)
	_, err := h.core.Originate(ctx, mediacore.OriginateRequest{
		ChannelID: out, Endpoint: h.cfg.callee, CallerIDNumber: "loadtest",
		Timeout: 30 * time.Second,
	})
	if err != nil {
		// No channel was created: no Hangup will come for out.
		c.mu.Lock()
		c.outEnded = true
		c.mu.Unlock()
		h.fail(c, "originate", err)
	}
}

// bridge joins both legs once the callee answered, and records.
func (h *harness) bridge(ctx context.Context, c *call) {
	id := mediacore.BridgeID("br-" + strings.TrimPrefix(string(c.in), "in-"))
	c.mu.Lock()
	out := c.out
	c.bridge = id
	c.mu.Unlock()
	if err := h.core.CreateBridge(ctx, id); err != nil {
		h.fail(c, "create bridge", err)
		return
	}
	// The caller goes first: a stereo bridge recording puts the first
	// member on the left.
	for _, ch := range []mediacore.ChannelID{c.in, out} {
		if err := h.core.AddToBridge(ctx, id, ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			h.fail(c, "add to bridge", err)
			return
		}
	}
	c.mu.Lock()
	c.bridged = true
	ended := c.inEnded || c.outEnded
	c.mu.Unlock()
	h.c.bridged.Add(1)
	if ended {
		h.hangupBoth(c)
		return
	}
	if h.cfg.record {
		_, err := h.core.Record(ctx, mediacore.BridgeTarget(id), mediacore.RecordRequest{
			ID: mediacore.RecordingID("rec-" + string(id)), Name: string(id) + ".wav", Stereo: true,
		})
		if err != nil {
			h.c.commandErrors.Add(1)
			h.log.Warn("record", "bridge", id, "err", err)
			return
		}
		h.c.recStarted.Add(1)
	}
}

// fail counts a call as failed once and ends what is left of it.
func (h *harness) fail(c *call, step string, err error) {
	c.mu.Lock()
	first := !c.failed
	c.failed = true
	c.mu.Unlock()
	if first {
		h.c.failed.Add(1)
		h.log.Warn("call failed", "step", step, "channel", c.in, "err", err)
	}
	h.hangupBoth(c)
}

// hangupBoth hangs up both legs that are still up.
func (h *harness) hangupBoth(c *call) {
	c.mu.Lock()
	legs := []mediacore.ChannelID{}
	if !c.inEnded {
		legs = append(legs, c.in)
	}
	if c.out != "" && !c.outEnded {
		legs = append(legs, c.out)
	}
	c.mu.Unlock()
	for _, ch := range legs {
		h.goCommand(func(ctx context.Context) {
			_ = h.core.Hangup(ctx, ch, mediacore.CauseNormal)
		})
	}
	h.maybeCleanup(c)
}

// onHangup records a leg's end; the other leg is hung up, and once both are
// gone the bridge is destroyed.
func (h *harness) onHangup(c *call, ch mediacore.ChannelID) {
	c.mu.Lock()
	if ch == c.in {
		c.inEnded = true
	} else {
		c.outEnded = true
	}
	other := c.out
	otherEnded := c.outEnded
	if ch != c.in {
		other, otherEnded = c.in, c.inEnded
	}
	bridged := c.bridged
	c.mu.Unlock()
	if !bridged {
		h.fail(c, "hangup before bridge", fmt.Errorf("%s hung up", ch))
		return
	}
	if other != "" && !otherEnded {
		h.goCommand(func(ctx context.Context) {
			_ = h.core.Hangup(ctx, other, mediacore.CauseNormal)
		})
	}
	h.maybeCleanup(c)
}

// maybeCleanup destroys the bridge and forgets the call once both legs
// ended (or the outbound one never existed).
func (h *harness) maybeCleanup(c *call) {
	c.mu.Lock()
	done := c.inEnded && (c.out == "" || c.outEnded) && !c.cleanedUp
	if done {
		c.cleanedUp = true
	}
	bridge, bridged, out := c.bridge, c.bridged, c.out
	c.mu.Unlock()
	if !done {
		return
	}
	if bridged {
		h.c.ended.Add(1)
	}
	h.mu.Lock()
	delete(h.byChan, c.in)
	if out != "" {
		delete(h.byChan, out)
	}
	h.mu.Unlock()
	if bridge != "" {
		h.goCommand(func(ctx context.Context) { _ = h.core.DestroyBridge(ctx, bridge) })
	}
}

// statsLine is the key=value line run.sh parses.
func (h *harness) statsLine() string {
	bridged, ended := h.c.bridged.Load(), h.c.ended.Load()
	var b strings.Builder
	fmt.Fprintf(&b, "inbound=%d answered=%d originated=%d out_answered=%d bridged=%d active=%d ended=%d failed=%d media_timeouts=%d",
		h.c.inbound.Load(), h.c.answered.Load(), h.c.originated.Load(), h.c.outAnswered.Load(),
		bridged, bridged-ended, ended, h.c.failed.Load(), h.c.mediaTimeouts.Load())
	fmt.Fprintf(&b, " rec_started=%d rec_finished=%d rec_ok=%d rec_bad=%d rec_err=%d rec_checked_s=%d command_errors=%d",
		h.c.recStarted.Load(), h.c.recFinished.Load(), h.c.recOK.Load(), h.c.recBad.Load(), h.c.recErr.Load(),
		h.c.recCheckedSecs.Load(), h.c.commandErrors.Load())
	h.mu.Lock()
	causes := maps.Clone(h.causes)
	h.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(causes)) {
		fmt.Fprintf(&b, " hangup_%s=%d", k, causes[k])
	}
	return b.String()
}

// removeRecording deletes a checked recording unless -keep-recordings.
func (h *harness) removeRecording(path string) {
	if h.cfg.keepRecs {
		return
	}
	if err := os.Remove(path); err != nil {
		h.log.Warn("remove recording", "path", path, "err", err)
	}
}

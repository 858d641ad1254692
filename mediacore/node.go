package mediacore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	"hotline/internal/clock"
)

// Node is one media node under a Core: a name (unique in the Core, used in
// Event.Node and in colliding ids) and its backend.
type Node struct {
	Name    string
	Backend Backend
}

// MaxNodeNameLen bounds a node name, so "<node>.<id>" ids stay within
// ValidateID's 64 bytes.
const MaxNodeNameLen = 32

// ValidateNodeName accepts a node name: ValidateID's characters, at most
// MaxNodeNameLen bytes.
func ValidateNodeName(name string) error {
	if err := ValidateID(name); err != nil || len(name) > MaxNodeNameLen {
		return fmt.Errorf("%w: node name %q", ErrInvalidArgument, name)
	}
	return nil
}

// NodeStatus describes a node (Core.Nodes, Placement).
type NodeStatus struct {
	Name string
	// Backend is the backend's kind (Backend.Name(): "native", ...).
	Backend string
	// Up is false from the node's BackendDown to its BackendUp, and before
	// it started.
	Up bool
	// Channels counts the node's live channels as Core knows them
	// (created or being originated, not hung up).
	Channels int
}

// Placement chooses the node of a new outbound call (pluggable through
// Options.Placement). Core asks it only when the request has neither Node
// nor Near; it must return the name of a node that is Up, or an error
// (ErrBackendUnavailable when none fits). It is called without Core's
// locks held and must not call the Core.
type Placement interface {
	Place(req OriginateRequest, nodes []NodeStatus) (string, error)
}

// LeastLoaded is the default Placement: the Up node with the fewest live
// channels; ties go to the node listed first.
type LeastLoaded struct{}

// Place implements Placement.
func (LeastLoaded) Place(_ OriginateRequest, nodes []NodeStatus) (string, error) {
	best := -1
	for i, n := range nodes {
		if n.Up && (best < 0 || n.Channels < nodes[best].Channels) {
			best = i
		}
	}
	if best < 0 {
		return "", fmt.Errorf("%w: no media node is up", ErrBackendUnavailable)
	}
	return nodes[best].Name, nil
}

// node is one media node's state. Fields other than name and b are
// guarded by Core.mu.
type node struct {
	name string
	b    Backend
	kind string // b.Name(), read once: never called with Core.mu held

	up      bool
	started bool
	wasDown bool        // a BackendDown was seen and no BackendUp since
	gen     uint64      // bumped on down and up: stale timers and reconciles do nothing
	lost    clock.Timer // the node-lost timer while down
	live    int         // alive channels

	// Backend ids -> entries.
	chans   map[ChannelID]*chanEntry
	bridges map[BridgeID]*bridgeEntry
	pbs     map[PlaybackID]*pbEntry
	recs    map[RecordingID]*recEntry
	tts     map[string]*ttsEntry // uploaded TTS prompts by media name
}

func newNode(name string, b Backend) *node {
	return &node{
		name:    name,
		b:       b,
		kind:    b.Name(),
		chans:   map[ChannelID]*chanEntry{},
		bridges: map[BridgeID]*bridgeEntry{},
		pbs:     map[PlaybackID]*pbEntry{},
		recs:    map[RecordingID]*recEntry{},
		tts:     map[string]*ttsEntry{},
	}
}

// chanEntry ties a Core channel id to its node and backend id. Guarded by
// Core.mu.
type chanEntry struct {
	id    ChannelID
	raw   ChannelID
	node  *node
	alive bool // created (or being originated) and not hung up
	// created: ChannelCreated was seen (an originate that fails before it
	// forgets its entry).
	created bool
	// lost: Core ended it with CauseNodeLost; later backend events for it
	// are dropped.
	lost bool
}

// bridgeEntry ties a Core bridge id to its node. node is nil while a lazy
// bridge waits for its first member. Guarded by Core.mu.
type bridgeEntry struct {
	id      BridgeID
	raw     BridgeID
	node    *node
	ready   chan struct{} // closed when created on node; nil once ready
	members map[ChannelID]Member
}

// pbEntry ties a playback id to its node. internal marks a playback Core
// started for itself (Hold fallback music), whose events are hidden.
type pbEntry struct {
	id       PlaybackID
	raw      PlaybackID
	node     *node
	internal bool
}

// recEntry ties a recording id to its node. stereo is set on a stereo
// recording Core assembles from two mono parts (no backend recording of
// its own); part is set on each of those parts.
type recEntry struct {
	id       RecordingID
	raw      RecordingID
	node     *node
	stereo   *stereoRec
	part     *stereoRec
	finished bool
}

// NewID returns a random id that passes ValidateID: prefix, '-', and 20
// hex digits. Core uses it for the ids it assigns.
func NewID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + "-" + hex.EncodeToString(b[:])
}

// adoptID returns the Core id for a backend id raw reported by node n:
// raw itself when it is a valid id no other object of its kind holds, else
// "<node>.<raw>", else (too long or not a valid id) "<node>.h<hash>", with
// ".2", ".3"... appended while taken; as a last resort a random id.
func adoptID(n *node, raw string, taken func(string) bool) string {
	if ValidateID(raw) == nil && !taken(raw) {
		return raw
	}
	sum := sha256.Sum256([]byte(raw))
	for _, base := range []string{n.name + "." + raw, n.name + ".h" + hex.EncodeToString(sum[:8])} {
		if ValidateID(base) != nil {
			continue
		}
		if !taken(base) {
			return base
		}
		for i := 2; i < 1000; i++ {
			cand := base + "." + strconv.Itoa(i)
			if ValidateID(cand) != nil {
				break
			}
			if !taken(cand) {
				return cand
			}
		}
	}
	for {
		if id := NewID(n.name); !taken(id) {
			return id
		}
	}
}

// setAlive keeps the node's live count in step. c.mu must be held.
func (c *Core) setAlive(e *chanEntry, alive bool) {
	if e.alive == alive {
		return
	}
	e.alive = alive
	if alive {
		e.node.live++
	} else {
		e.node.live--
	}
	c.m.nodeChans.WithLabelValues(e.node.name).Set(float64(e.node.live))
}

// setUp records a node's state. c.mu must be held.
func (c *Core) setUp(n *node, up bool) {
	n.up = up
	v := 0.0
	if up {
		v = 1
	}
	c.m.nodeUp.WithLabelValues(n.name, n.kind).Set(v)
}

// bindChannel records a channel of node n. c.mu must be held.
func (c *Core) bindChannel(n *node, raw, id ChannelID, alive bool) *chanEntry {
	e := &chanEntry{id: id, raw: raw, node: n}
	c.chans[id] = e
	n.chans[raw] = e
	c.setAlive(e, alive)
	return e
}

// unbindChannel forgets a channel entry. c.mu must be held.
func (c *Core) unbindChannel(e *chanEntry) {
	c.setAlive(e, false)
	if c.chans[e.id] == e {
		delete(c.chans, e.id)
	}
	if e.node.chans[e.raw] == e {
		delete(e.node.chans, e.raw)
	}
}

// channelFromRaw returns the entry of a channel node n reported, adopting
// an unknown one. c.mu must be held.
func (c *Core) channelFromRaw(n *node, raw ChannelID, typ EventType) *chanEntry {
	e := n.chans[raw]
	if e != nil && typ == EventChannelCreated && e.created && !e.alive {
		// The backend reuses the id of a channel that ended.
		c.unbindChannel(e)
		e = nil
	}
	if e == nil {
		id := ChannelID(adoptID(n, string(raw), func(s string) bool { _, ok := c.chans[ChannelID(s)]; return ok }))
		e = c.bindChannel(n, raw, id, impliesAlive(typ))
		e.created = true
		return e
	}
	if typ == EventChannelCreated {
		e.created = true
	}
	return e
}

// impliesAlive says whether an event about a channel Core does not know
// shows the channel is up (a late RecordingFinished of a forgotten channel
// does not, and must not count on its node).
func impliesAlive(typ EventType) bool {
	switch typ {
	case EventHangup, EventRecordingFinished, EventPlaybackFinished, EventBridgeLeft:
		return false
	}
	return true
}

// lookupChannelRaw maps a backend channel id to the Core id when known.
func (c *Core) lookupChannelRaw(n *node, raw ChannelID) ChannelID {
	if e := n.chans[raw]; e != nil {
		return e.id
	}
	return raw
}

func (c *Core) bridgeFromRaw(n *node, raw BridgeID) *bridgeEntry {
	if e := n.bridges[raw]; e != nil {
		return e
	}
	id := BridgeID(adoptID(n, string(raw), func(s string) bool { _, ok := c.bridges[BridgeID(s)]; return ok }))
	e := &bridgeEntry{id: id, raw: raw, node: n, members: map[ChannelID]Member{}}
	c.bridges[id] = e
	n.bridges[raw] = e
	return e
}

func (c *Core) unbindBridge(e *bridgeEntry) {
	if c.bridges[e.id] == e {
		delete(c.bridges, e.id)
	}
	if e.node != nil && e.node.bridges[e.raw] == e {
		delete(e.node.bridges, e.raw)
	}
	for ch := range e.members {
		if c.members[ch] == e.id {
			delete(c.members, ch)
		}
	}
}

func (c *Core) playbackFromRaw(n *node, raw PlaybackID) *pbEntry {
	if e := n.pbs[raw]; e != nil {
		return e
	}
	id := PlaybackID(adoptID(n, string(raw), func(s string) bool { _, ok := c.pbs[PlaybackID(s)]; return ok }))
	e := &pbEntry{id: id, raw: raw, node: n}
	c.pbs[id] = e
	n.pbs[raw] = e
	return e
}

func (c *Core) unbindPlayback(e *pbEntry) {
	if c.pbs[e.id] == e {
		delete(c.pbs, e.id)
	}
	if e.node.pbs[e.raw] == e {
		delete(e.node.pbs, e.raw)
	}
}

func (c *Core) recordingFromRaw(n *node, raw RecordingID) *recEntry {
	if e := n.recs[raw]; e != nil {
		return e
	}
	id := RecordingID(adoptID(n, string(raw), func(s string) bool { _, ok := c.recs[RecordingID(s)]; return ok }))
	e := &recEntry{id: id, raw: raw, node: n}
	c.recs[id] = e
	n.recs[raw] = e
	return e
}

func (c *Core) unbindRecording(e *recEntry) {
	if c.recs[e.id] == e {
		delete(c.recs, e.id)
	}
	if e.node.recs[e.raw] == e {
		delete(e.node.recs, e.raw)
	}
}

// rebindRecording moves a recording entry to another backend id (a
// backend that did not keep the id Core asked for). c.mu must be held.
func (c *Core) rebindRecording(e *recEntry, raw RecordingID) {
	if raw == "" || raw == e.raw {
		return
	}
	if e.node.recs[e.raw] == e {
		delete(e.node.recs, e.raw)
	}
	e.raw = raw
	e.node.recs[raw] = e
}

// joinBridge records ch as a member of b (leaving any other bridge).
// c.mu must be held.
func (c *Core) joinBridge(b BridgeID, ch ChannelID, m Member) {
	if old, ok := c.members[ch]; ok && old != b {
		if oe := c.bridges[old]; oe != nil {
			delete(oe.members, ch)
		}
	}
	c.members[ch] = b
	if be := c.bridges[b]; be != nil {
		be.members[ch] = m
	}
}

// leaveBridge forgets ch's membership (of b, or of any bridge when b is
// ""). c.mu must be held.
func (c *Core) leaveBridge(ch ChannelID, b BridgeID) {
	cur, ok := c.members[ch]
	if !ok || (b != "" && cur != b) {
		return
	}
	delete(c.members, ch)
	if be := c.bridges[cur]; be != nil {
		delete(be.members, ch)
	}
}

// translate rewrites one event of node n into Core ids and updates the
// node's state. It returns the events to deliver (none when the event is
// hidden, two when it completes a stereo recording) and whether node n
// must be reconciled. c.mu must be held.
func (c *Core) translate(n *node, ev Event) (out []Event, reconcile bool) {
	switch ev.Type {
	case EventBackendUp:
		if ev.Backend == "" {
			ev.Backend = n.kind
		}
		n.started = true
		c.setUp(n, true)
		if n.lost != nil {
			n.lost.Stop()
			n.lost = nil
		}
		if n.wasDown {
			n.wasDown = false
			n.gen++
			// The node may have restarted empty: upload prompts again.
			n.tts = map[string]*ttsEntry{}
			reconcile = true
		}
	case EventBackendDown:
		if ev.Backend == "" {
			ev.Backend = n.kind
		}
		c.setUp(n, false)
		if !n.wasDown {
			n.wasDown = true
			n.gen++
			gen := n.gen
			if !c.closed {
				n.lost = c.clock.AfterFunc(c.opts.NodeLostAfter, func() { c.nodeLost(n, gen) })
			}
		}
	}
	if ev.Channel != "" {
		e := c.channelFromRaw(n, ev.Channel, ev.Type)
		if e.lost {
			c.log.Debug("event for a channel ended as lost dropped", "node", n.name, "channel", e.id, "event", ev.Type.String())
			return nil, reconcile
		}
		ev.Channel = e.id
	}
	if ev.Replaces != "" {
		ev.Replaces = c.lookupChannelRaw(n, ev.Replaces)
	}
	if ev.Member.WhisperTo != "" {
		ev.Member.WhisperTo = c.lookupChannelRaw(n, ev.Member.WhisperTo)
	}
	if ev.Bridge != "" {
		ev.Bridge = c.bridgeFromRaw(n, ev.Bridge).id
	}
	if ev.Playback != "" {
		p := c.playbackFromRaw(n, ev.Playback)
		if ev.Type == EventPlaybackFinished {
			c.unbindPlayback(p)
		}
		if p.internal {
			return nil, reconcile
		}
		ev.Playback = p.id
	}
	if ev.Recording != "" {
		r := c.recordingFromRaw(n, ev.Recording)
		if r.part != nil {
			return c.stereoPartEvent(r, ev), reconcile
		}
		ev.Recording = r.id
		if ev.Type == EventRecordingFinished {
			c.recordingFinished(r)
		}
	}
	return []Event{ev}, reconcile
}

// recordingFinished marks r finished and forgets it after the linger.
// c.mu must be held.
func (c *Core) recordingFinished(r *recEntry) {
	if r.finished {
		return
	}
	r.finished = true
	c.clock.AfterFunc(c.opts.RecordingLinger, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.unbindRecording(r)
	})
}

// Nodes reports every node: name, backend kind, up or down, live channels.
func (c *Core) Nodes() []NodeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodeStatusLocked()
}

func (c *Core) nodeStatusLocked() []NodeStatus {
	out := make([]NodeStatus, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = NodeStatus{Name: n.name, Backend: n.kind, Up: n.up, Channels: n.live}
	}
	return out
}

// NodeOf returns the node that carries a channel Core knows.
func (c *Core) NodeOf(ch ChannelID) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.chans[ch]; e != nil {
		return e.node.name, true
	}
	return "", false
}

// Capabilities says what a node's backend does itself (the optional
// interfaces it implements) and what works through Core with the
// fallbacks.
type Capabilities struct {
	// The optional interfaces the backend implements.
	Snooper, Whisperer, TTSPlayer, MediaUploader, StereoRecorder,
	ReinviteHolder, DTMFDetector, TrunkConfigurer, TransferReporter bool

	// TTS: Play and Hold accept MediaTTS (TTSPlayer, or Options.TTS with
	// MediaUploader).
	TTS bool
	// StereoChannel: Record of a channel in stereo works (StereoRecorder,
	// or two mono recordings assembled by Core). Stereo of a bridge needs
	// StereoRecorder.
	StereoChannel bool
	// Whisper: RoleWhisper members work, and so SnoopWhisper through
	// bridge roles (Whisperer). A Snooper node whispers in Snoop anyway.
	Whisper bool
}

// Capabilities reports the capabilities of the named node.
func (c *Core) Capabilities(nodeName string) (Capabilities, error) {
	n := c.byName[nodeName]
	if n == nil {
		return Capabilities{}, fmt.Errorf("%w: %q", ErrNoSuchNode, nodeName)
	}
	var k Capabilities
	b := n.b
	_, k.Snooper = b.(Snooper)
	_, k.Whisperer = b.(Whisperer)
	_, k.TTSPlayer = b.(TTSPlayer)
	_, k.MediaUploader = b.(MediaUploader)
	_, k.StereoRecorder = b.(StereoRecorder)
	_, k.ReinviteHolder = b.(ReinviteHolder)
	_, k.DTMFDetector = b.(DTMFDetector)
	_, k.TrunkConfigurer = b.(TrunkConfigurer)
	_, k.TransferReporter = b.(TransferReporter)
	k.TTS = k.TTSPlayer || (k.MediaUploader && c.opts.TTS != nil)
	k.StereoChannel = true
	k.Whisper = k.Whisperer
	return k, nil
}

// NodeNames returns the node names in configuration order.
func (c *Core) NodeNames() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.name
	}
	return out
}

// channel resolves a Core channel id to its node and backend id. A Core
// with one node passes an id it does not know to that node unchanged (the
// backend answers ErrNoSuchChannel); with several nodes an unknown id is
// ErrNoSuchChannel.
func (c *Core) channel(ch ChannelID) (*node, ChannelID, error) {
	if err := ValidateID(string(ch)); err != nil {
		return nil, "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channelLocked(ch)
}

func (c *Core) channelLocked(ch ChannelID) (*node, ChannelID, error) {
	if e := c.chans[ch]; e != nil {
		if e.lost {
			return nil, "", fmt.Errorf("%w: %s (its node %s was lost)", ErrNoSuchChannel, ch, e.node.name)
		}
		return e.node, e.raw, nil
	}
	if len(c.nodes) == 1 {
		return c.nodes[0], ch, nil
	}
	return nil, "", fmt.Errorf("%w: %s", ErrNoSuchChannel, ch)
}

// bridge resolves a Core bridge id; e is nil for an unknown id passed
// through to a single node.
func (c *Core) bridge(b BridgeID) (*bridgeEntry, *node, BridgeID, error) {
	if err := ValidateID(string(b)); err != nil {
		return nil, nil, "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.bridges[b]; e != nil {
		return e, e.node, e.raw, nil
	}
	if len(c.nodes) == 1 {
		return nil, c.nodes[0], b, nil
	}
	return nil, nil, "", fmt.Errorf("%w: %s", ErrNoSuchBridge, b)
}

// target resolves a Play or Record target to its node and backend ids.
func (c *Core) target(t Target) (*node, Target, error) {
	if err := validateTarget(t); err != nil {
		return nil, t, err
	}
	if t.Channel != "" {
		n, raw, err := c.channel(t.Channel)
		return n, ChannelTarget(raw), err
	}
	e, n, raw, err := c.bridge(t.Bridge)
	if err != nil {
		return nil, t, err
	}
	if e != nil && e.node == nil {
		return nil, t, fmt.Errorf("%w: bridge %s has no member yet, so no node", ErrChannelState, t.Bridge)
	}
	return n, BridgeTarget(raw), nil
}

// ttsEntry serializes the upload of one TTS prompt to one node; mu guards
// done.
type ttsEntry struct {
	mu   sync.Mutex
	done bool
}

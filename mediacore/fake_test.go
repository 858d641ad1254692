package mediacore

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// fakeBackend is an in-memory Backend: it records calls, lets a test emit
// events, and can block a command until its context ends.
type fakeBackend struct {
	mu      sync.Mutex // guards all fields below
	sink    func(Event)
	calls   []string
	members map[ChannelID]Member
	block   map[string]bool // op -> wait for ctx.Done
	n       int
}

func newFake() *fakeBackend {
	return &fakeBackend{members: map[ChannelID]Member{}, block: map[string]bool{}}
}

func (f *fakeBackend) record(ctx context.Context, op string, args ...any) error {
	f.mu.Lock()
	f.calls = append(f.calls, strings.TrimSpace(fmt.Sprintln(append([]any{op}, args...)...)))
	blk := f.block[op]
	f.mu.Unlock()
	if blk {
		<-ctx.Done()
		return fmt.Errorf("fake %s: %w", op, ctx.Err())
	}
	return nil
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeBackend) emit(ev Event) {
	f.mu.Lock()
	sink := f.sink
	f.mu.Unlock()
	sink(ev)
}

func (f *fakeBackend) Name() string { return "fake" }
func (f *fakeBackend) Start(ctx context.Context, sink func(Event)) error {
	f.mu.Lock()
	f.sink = sink
	f.mu.Unlock()
	sink(Event{Type: EventBackendUp, Backend: "fake"})
	return f.record(ctx, "start")
}
func (f *fakeBackend) Close() error { return nil }
func (f *fakeBackend) Ring(ctx context.Context, ch ChannelID) error {
	return f.record(ctx, "ring", ch)
}
func (f *fakeBackend) Answer(ctx context.Context, ch ChannelID) error {
	return f.record(ctx, "answer", ch)
}
func (f *fakeBackend) Hangup(ctx context.Context, ch ChannelID, c Cause) error {
	return f.record(ctx, "hangup", ch, c)
}
func (f *fakeBackend) SendDTMF(ctx context.Context, ch ChannelID, d string) error {
	return f.record(ctx, "dtmf", ch, d)
}
func (f *fakeBackend) Originate(ctx context.Context, r OriginateRequest) (ChannelID, error) {
	f.mu.Lock()
	f.n++
	id := ChannelID(fmt.Sprintf("out-%d", f.n))
	f.mu.Unlock()
	return id, f.record(ctx, "originate", r.Endpoint, r.Timeout)
}
func (f *fakeBackend) Play(ctx context.Context, t Target, r PlayRequest) (PlaybackID, error) {
	return "pb-1", f.record(ctx, "play", t.Channel, t.Bridge)
}
func (f *fakeBackend) StopPlayback(ctx context.Context, id PlaybackID) error {
	return f.record(ctx, "stop_playback", id)
}
func (f *fakeBackend) Record(ctx context.Context, t Target, r RecordRequest) (RecordingID, error) {
	return "rec-1", f.record(ctx, "record", t.Channel, t.Bridge, r.Stereo)
}
func (f *fakeBackend) PauseRecording(ctx context.Context, id RecordingID) error {
	return f.record(ctx, "pause", id)
}
func (f *fakeBackend) ResumeRecording(ctx context.Context, id RecordingID) error {
	return f.record(ctx, "resume", id)
}
func (f *fakeBackend) StopRecording(ctx context.Context, id RecordingID) error {
	return f.record(ctx, "stop_recording", id)
}
func (f *fakeBackend) CreateBridge(ctx context.Context, id BridgeID) error {
	return f.record(ctx, "create_bridge", id)
}
func (f *fakeBackend) AddToBridge(ctx context.Context, b BridgeID, ch ChannelID, m Member) error {
	f.mu.Lock()
	f.members[ch] = m
	f.mu.Unlock()
	return f.record(ctx, "add", b, ch, m.Role, m.WhisperTo)
}
func (f *fakeBackend) SetMemberRole(ctx context.Context, b BridgeID, ch ChannelID, m Member) error {
	f.mu.Lock()
	f.members[ch] = m
	f.mu.Unlock()
	return f.record(ctx, "set_role", b, ch, m.Role, m.WhisperTo)
}
func (f *fakeBackend) RemoveFromBridge(ctx context.Context, b BridgeID, ch ChannelID) error {
	return f.record(ctx, "remove", b, ch)
}
func (f *fakeBackend) DestroyBridge(ctx context.Context, b BridgeID) error {
	return f.record(ctx, "destroy_bridge", b)
}
func (f *fakeBackend) Hold(ctx context.Context, ch ChannelID, m *Media) error {
	return f.record(ctx, "hold", ch)
}
func (f *fakeBackend) Unhold(ctx context.Context, ch ChannelID) error {
	return f.record(ctx, "unhold", ch)
}

// whisperFake adds the optional Whisperer capability.
type whisperFake struct{ *fakeBackend }

func (whisperFake) SupportsWhisper() {}

// snoopFake adds the optional Snooper capability.
type snoopFake struct{ *fakeBackend }

func (s snoopFake) Snoop(ctx context.Context, target, spy ChannelID, mode SnoopMode) error {
	return s.record(ctx, "snoop", target, spy, mode)
}

func (f *fakeBackend) Progress(ctx context.Context, ch ChannelID) error {
	return f.record(ctx, "progress", ch)
}
func (f *fakeBackend) Channels(ctx context.Context) ([]ChannelInfo, error) {
	return nil, f.record(ctx, "channels")
}
func (f *fakeBackend) Bridges(ctx context.Context) ([]BridgeInfo, error) {
	return nil, f.record(ctx, "bridges")
}
func (f *fakeBackend) Variable(ctx context.Context, ch ChannelID, name string) (string, error) {
	return "", f.record(ctx, "variable", ch, name)
}
func (f *fakeBackend) SetVariable(ctx context.Context, ch ChannelID, name, value string) error {
	return f.record(ctx, "set_variable", ch, name, value)
}
func (f *fakeBackend) AnswerTransfer(ctx context.Context, ch ChannelID, id TransferID, accept bool) error {
	return f.record(ctx, "answer_transfer", ch, id, accept)
}
func (f *fakeBackend) OpenRecording(ctx context.Context, id RecordingID) (io.ReadCloser, error) {
	return nil, f.record(ctx, "open_recording", id)
}

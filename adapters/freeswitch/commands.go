package freeswitch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hotline/mediacore"
)

// Compile-time checks of the capabilities the backend claims.
var (
	_ mediacore.Backend        = (*Backend)(nil)
	_ mediacore.StereoRecorder = (*Backend)(nil)
	_ mediacore.ReinviteHolder = (*Backend)(nil)
	_ mediacore.Whisperer      = (*Backend)(nil)
	_ mediacore.MediaUploader  = (*Backend)(nil)
)

// SupportsStereo: uuid_record with RECORD_STEREO (read left, write right).
func (b *Backend) SupportsStereo() {}

// SupportsReinviteHold: Hold re-INVITEs the far end with a=sendonly (a
// media renegotiation, see Hold) and plays the music.
func (b *Backend) SupportsReinviteHold() {}

// SupportsWhisper: conference relationships (relate ... nospeak).
func (b *Backend) SupportsWhisper() {}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// simple runs "api <cmd> <uuid> [args]" on a known channel.
func (b *Backend) simple(ctx context.Context, ch mediacore.ChannelID, cmd string, args ...string) error {
	if _, err := b.chanOf(ch); err != nil {
		return err
	}
	line := cmd + " " + string(ch)
	for _, a := range args {
		line += " " + a
	}
	_, err := b.api(ctx, line)
	return err
}

// Ring sends 180 Ringing without early media (uuid_ring_ready).
func (b *Backend) Ring(ctx context.Context, ch mediacore.ChannelID) error {
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	if !b.unanswered(cs) {
		return fmt.Errorf("%w: %s is answered", mediacore.ErrChannelState, ch)
	}
	return b.simple(ctx, ch, "uuid_ring_ready")
}

// Progress sends 183 with SDP (uuid_pre_answer).
func (b *Backend) Progress(ctx context.Context, ch mediacore.ChannelID) error {
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	if !b.unanswered(cs) || cs.dir != mediacore.Inbound {
		return fmt.Errorf("%w: %s is answered or outbound", mediacore.ErrChannelState, ch)
	}
	b.mu.Lock()
	cs.progress = true
	b.mu.Unlock()
	return b.simple(ctx, ch, "uuid_pre_answer")
}

func (b *Backend) unanswered(cs *chanState) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return cs.answered.IsZero()
}

// Answer answers (uuid_answer) and waits for CHANNEL_ANSWER.
func (b *Backend) Answer(ctx context.Context, ch mediacore.ChannelID) error {
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	if !b.unanswered(cs) {
		return fmt.Errorf("%w: %s already answered", mediacore.ErrChannelState, ch)
	}
	// uuid_answer is refused now and then (-ERROR, no reason) on a
	// channel that has just been parked; a few tries apart fix it.
	for attempt := 1; ; attempt++ {
		err := b.simple(ctx, ch, "uuid_answer")
		if err == nil {
			break
		}
		if !errors.Is(err, errRefused) || attempt == 5 {
			return err
		}
		b.log.Debug("uuid_answer refused, trying again", "channel", ch, "attempt", attempt, "err", err)
		select {
		case <-cs.answerCh: // answered after all
		case <-time.After(100 * time.Millisecond):
			continue
		case <-ctx.Done():
			return fmt.Errorf("freeswitch: answer: %w", ctx.Err())
		}
		break
	}
	select {
	case <-cs.answerCh:
	case <-ctx.Done():
		return fmt.Errorf("freeswitch: answer: %w", ctx.Err())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if cs.ended {
		return fmt.Errorf("%w: %s ended", mediacore.ErrNoSuchChannel, ch)
	}
	return nil
}

// Hangup ends a channel with cause (uuid_kill).
func (b *Backend) Hangup(ctx context.Context, ch mediacore.ChannelID, cause mediacore.Cause) error {
	return b.simple(ctx, ch, "uuid_kill", causeName(cause))
}

// SendDTMF sends digits (uuid_send_dtmf, RFC 2833/4733 where negotiated).
func (b *Backend) SendDTMF(ctx context.Context, ch mediacore.ChannelID, digits string) error {
	if err := checkDigits(digits); err != nil {
		return err
	}
	return b.simple(ctx, ch, "uuid_send_dtmf", digits)
}

// dialString maps a neutral endpoint to a FreeSWITCH dial string.
func (b *Backend) dialString(s string) (string, error) {
	ep, err := mediacore.ParseEndpoint(s)
	if err != nil {
		return "", err
	}
	switch ep.Kind {
	case mediacore.EndpointUser:
		if !isWord(ep.User) {
			return "", fmt.Errorf("%w: user %q", mediacore.ErrInvalidEndpoint, ep.User)
		}
		return "user/" + ep.User + "@" + b.cfg.Domain, nil
	case mediacore.EndpointTel:
		gw := b.cfg.Gateway
		if ep.Trunk != "" {
			gw = ep.Trunk
		}
		if gw == "" {
			return "", fmt.Errorf("%w: no gateway for %s", mediacore.ErrNotFound, s)
		}
		if !isWord(gw) {
			return "", fmt.Errorf("%w: gateway %q", mediacore.ErrInvalidEndpoint, gw)
		}
		return "sofia/gateway/" + gw + "/" + ep.Number, nil
	case mediacore.EndpointSIP:
		uri := ep.Host
		if ep.User != "" {
			uri = ep.User + "@" + uri
		}
		if ep.Port != 0 {
			uri += ":" + strconv.Itoa(ep.Port)
		}
		if ep.Params != "" {
			uri += ";" + ep.Params
		}
		for i := 0; i < len(uri); i++ {
			c := uri[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+@:;=", c) >= 0) {
				return "", fmt.Errorf("%w: %q", mediacore.ErrInvalidEndpoint, s)
			}
		}
		return "sofia/" + b.cfg.Profile + "/sip:" + uri, nil
	}
	return "", fmt.Errorf("%w: %q", mediacore.ErrInvalidEndpoint, s)
}

// originateCommand builds the originate line; every field is checked.
func (b *Backend) originateCommand(req mediacore.OriginateRequest) (string, error) {
	if err := checkID("channel", string(req.ChannelID)); err != nil {
		return "", err
	}
	dial, err := b.dialString(req.Endpoint)
	if err != nil {
		return "", err
	}
	vars := []string{"origination_uuid=" + string(req.ChannelID), "hotline_owned=true", "ignore_early_media=false"}
	if req.CallerIDNumber != "" {
		if err := checkValue("caller id number", req.CallerIDNumber); err != nil {
			return "", err
		}
		if !isWord(req.CallerIDNumber) && !isWord(strings.TrimPrefix(req.CallerIDNumber, "+")) {
			return "", fmt.Errorf("%w: caller id number %q", mediacore.ErrInvalidArgument, req.CallerIDNumber)
		}
		vars = append(vars, "origination_caller_id_number="+req.CallerIDNumber)
	}
	if req.CallerIDName != "" {
		if err := checkDisplayName(req.CallerIDName); err != nil {
			return "", err
		}
		vars = append(vars, "origination_caller_id_name='"+req.CallerIDName+"'")
	}
	if req.Timeout > 0 {
		vars = append(vars, "originate_timeout="+strconv.Itoa(int(math.Ceil(req.Timeout.Seconds()))))
	}
	keys := make([]string, 0, len(req.Variables))
	for k := range req.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := req.Variables[k]
		if err := checkVarName(k); err != nil {
			return "", err
		}
		if err := checkValue("variable "+k, v); err != nil {
			return "", err
		}
		name := k
		if !strings.HasPrefix(strings.ToLower(name), "x-") {
			name = "X-" + name
		}
		vars = append(vars, "sip_h_"+name+"="+v)
	}
	if req.AutoAnswer {
		// sip_auto_answer adds Call-Info answer-after=0 (mod_sofia).
		vars = append(vars, "sip_auto_answer=true", "sip_h_Answer-Mode=Auto")
	}
	return "originate {" + strings.Join(vars, ",") + "}" + dial + " &park()", nil
}

// Originate starts an outgoing call with bgapi under our own Job-UUID and
// origination_uuid = req.ChannelID; it returns once the switch created the
// channel (or the job failed first: an unregistered user is ErrNotFound).
func (b *Backend) Originate(ctx context.Context, req mediacore.OriginateRequest) (mediacore.ChannelID, error) {
	cmd, err := b.originateCommand(req)
	if err != nil {
		return "", err
	}
	if _, err := b.current(); err != nil {
		return "", err
	}
	id := string(req.ChannelID)
	ep, _ := mediacore.ParseEndpoint(req.Endpoint)
	called := ep.User + ep.Number
	cs := &chanState{id: id, dir: mediacore.Outbound, state: mediacore.ChannelRinging, called: called,
		answerCh: make(chan struct{}), created1: make(chan struct{})}
	b.mu.Lock()
	if b.chans[id] != nil {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: channel %s exists", mediacore.ErrInvalidArgument, id)
	}
	b.chans[id] = cs
	b.mu.Unlock()
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	jobCtx, cancel := context.WithTimeout(context.Background(), req.Timeout+time.Minute)
	go func() {
		defer cancel()
		body, err := b.bgapi(jobCtx, cmd, "job-"+id, b.stop)
		res <- result{body, err}
	}()
	fail := func(err error) (mediacore.ChannelID, error) {
		b.mu.Lock()
		if b.chans[id] == cs && !cs.announced {
			delete(b.chans, id)
		}
		b.mu.Unlock()
		return "", err
	}
	select {
	case <-cs.created1:
		return req.ChannelID, nil
	case r := <-res:
		select {
		case <-cs.created1:
			return req.ChannelID, nil
		default:
		}
		if r.err == nil {
			r.err = fmt.Errorf("freeswitch: originate ended without a channel: %s", strings.TrimSpace(r.body))
		}
		return fail(r.err)
	case <-ctx.Done():
		return fail(fmt.Errorf("freeswitch: originate: %w", ctx.Err()))
	}
}

// mediaURL maps one Media to what playback plays.
func (b *Backend) mediaURL(m mediacore.Media) (string, error) {
	if err := mediacore.ValidateMedia(m); err != nil {
		return "", err
	}
	switch m.Kind {
	case mediacore.MediaFile:
		if !safePath(m.File) || strings.HasPrefix(m.File, "/") {
			return "", fmt.Errorf("%w: media file %q", mediacore.ErrInvalidArgument, m.File)
		}
		b.mu.Lock()
		dir := b.mediaDir
		b.mu.Unlock()
		return dir + "/" + m.File, nil
	case mediacore.MediaSilence:
		return "silence_stream://" + strconv.FormatInt(m.Duration.Milliseconds(), 10), nil
	case mediacore.MediaTone:
		freqs := make([]string, len(m.Tone.Freqs))
		for i, f := range m.Tone.Freqs {
			freqs[i] = strconv.FormatFloat(f, 'f', 1, 64)
		}
		on, off := m.Tone.On.Milliseconds(), m.Tone.Off.Milliseconds()
		d := m.Duration.Milliseconds()
		if on <= 0 {
			on, off = d, 0
			if on <= 0 {
				on = 1000
			}
		}
		loops := int64(1)
		if d > 0 && on+off > 0 {
			loops = max(1, (d+on+off-1)/(on+off))
		}
		if off == 0 && d > 0 {
			on, loops = d, 1
		}
		return fmt.Sprintf("tone_stream://L=%d;%%(%d,%d,%s)", loops, on, off, strings.Join(freqs, ",")), nil
	case mediacore.MediaTTS:
		return "", fmt.Errorf("%w: the switch renders no TTS (Core renders and uploads it)", mediacore.ErrNotSupported)
	}
	return "", fmt.Errorf("%w: media kind %d", mediacore.ErrInvalidArgument, m.Kind)
}

// Play plays media into a channel (the playback application, tagged with
// the playback id; endless_playback for Loop). Bridges: ErrNotSupported
// (play into each member instead).
func (b *Backend) Play(ctx context.Context, target mediacore.Target, req mediacore.PlayRequest) (mediacore.PlaybackID, error) {
	if target.Bridge == "" && target.Channel == "" {
		return "", fmt.Errorf("%w: empty target", mediacore.ErrInvalidArgument)
	}
	if err := checkID("playback", string(req.ID)); err != nil {
		return "", err
	}
	if len(req.Media) == 0 || len(req.Media) > 32 {
		return "", fmt.Errorf("%w: %d media", mediacore.ErrInvalidArgument, len(req.Media))
	}
	urls := make([]string, len(req.Media))
	for i, m := range req.Media {
		u, err := b.mediaURL(m)
		if err != nil {
			return "", err
		}
		urls[i] = u
	}
	arg := urls[0]
	if len(urls) > 1 {
		arg = "file_string://" + strings.Join(urls, "!")
	}
	if target.Bridge != "" {
		return req.ID, b.playBridge(ctx, target.Bridge, req, arg)
	}
	if _, err := b.chanOf(target.Channel); err != nil {
		return "", err
	}
	return req.ID, b.startPlay(ctx, string(target.Channel), req.ID, arg, req.Loop, false)
}

// playBridge plays into a conference room ("conference <id> play"); the
// room plays its files one after the other, so play-file-done events
// finish our playbacks in order. Loop is ErrNotSupported for a bridge.
func (b *Backend) playBridge(ctx context.Context, id mediacore.BridgeID, req mediacore.PlayRequest, arg string) error {
	if req.Loop {
		return fmt.Errorf("%w: looping into a bridge", mediacore.ErrNotSupported)
	}
	br, err := b.bridgeOf(id)
	if err != nil {
		return err
	}
	b.mu.Lock()
	live := false
	for m := range br.members {
		if cs := b.chans[m]; cs != nil && cs.memberID != "" {
			live = true
		}
	}
	if !live || b.plays[req.ID] != nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: bridge %s has no member yet, or playback %s exists", mediacore.ErrChannelState, id, req.ID)
	}
	b.plays[req.ID] = &playState{id: req.ID, bridge: id}
	br.plays = append(br.plays, req.ID)
	b.mu.Unlock()
	if _, err := b.api(ctx, "conference "+string(id)+" play "+arg); err != nil {
		b.mu.Lock()
		delete(b.plays, req.ID)
		br.plays = slices.DeleteFunc(br.plays, func(p mediacore.PlaybackID) bool { return p == req.ID })
		b.mu.Unlock()
		return err
	}
	return nil
}

func (b *Backend) startPlay(ctx context.Context, ch string, id mediacore.PlaybackID, arg string, loop, hidden bool) error {
	b.mu.Lock()
	if b.plays[id] != nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: playback %s exists", mediacore.ErrInvalidArgument, id)
	}
	b.plays[id] = &playState{id: id, ch: ch, hidden: hidden}
	b.mu.Unlock()
	app := "playback"
	if loop {
		app = "endless_playback"
	}
	if err := b.execute(ctx, ch, app, arg, string(id)); err != nil {
		b.mu.Lock()
		delete(b.plays, id)
		b.mu.Unlock()
		return err
	}
	return nil
}

// StopPlayback stops the channel's current media (uuid_break all): the
// playback's CHANNEL_EXECUTE_COMPLETE reports PlaybackFinished.
func (b *Backend) StopPlayback(ctx context.Context, id mediacore.PlaybackID) error {
	if err := checkID("playback", string(id)); err != nil {
		return err
	}
	b.mu.Lock()
	p := b.plays[id]
	b.mu.Unlock()
	if p == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchPlayback, id)
	}
	if p.bridge != "" {
		_, err := b.api(ctx, "conference "+string(p.bridge)+" stop all")
		return err
	}
	_, err := b.api(ctx, "uuid_break "+p.ch+" all")
	return err
}

// Record starts uuid_record on a channel (RECORD_STEREO for Stereo,
// RECORD_READ_ONLY / RECORD_WRITE_ONLY for Source). Bridges:
// ErrNotSupported.
func (b *Backend) Record(ctx context.Context, target mediacore.Target, req mediacore.RecordRequest) (mediacore.RecordingID, error) {
	if err := checkID("recording", string(req.ID)); err != nil {
		return "", err
	}
	if target.Bridge != "" {
		return b.recordBridge(ctx, target.Bridge, req)
	}
	if target.Channel == "" {
		return "", fmt.Errorf("%w: empty target", mediacore.ErrInvalidArgument)
	}
	name, err := recordingName(req)
	if err != nil {
		return "", err
	}
	ch := string(target.Channel)
	if _, err := b.chanOf(target.Channel); err != nil {
		return "", err
	}
	b.mu.Lock()
	p := b.recDir + "/" + name
	for _, r := range b.recs {
		if r.path == p {
			b.mu.Unlock()
			return "", fmt.Errorf("%w: %s is being recorded", mediacore.ErrInvalidArgument, name)
		}
	}
	if b.recs[req.ID] != nil {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: recording %s exists", mediacore.ErrInvalidArgument, req.ID)
	}
	b.mu.Unlock()
	vars := map[string]string{"RECORD_STEREO": "false", "RECORD_READ_ONLY": "false", "RECORD_WRITE_ONLY": "false"}
	switch {
	case req.Stereo:
		vars["RECORD_STEREO"] = "true"
	case req.Source == mediacore.RecordRead:
		vars["RECORD_READ_ONLY"] = "true"
	case req.Source == mediacore.RecordWrite:
		vars["RECORD_WRITE_ONLY"] = "true"
	}
	for _, k := range []string{"RECORD_STEREO", "RECORD_READ_ONLY", "RECORD_WRITE_ONLY"} {
		if _, err := b.api(ctx, "uuid_setvar "+ch+" "+k+" "+vars[k]); err != nil {
			return "", err
		}
	}
	b.mu.Lock()
	b.recs[req.ID] = &recState{id: req.ID, ch: ch, path: p, started: time.Now()}
	b.mu.Unlock()
	if _, err := b.api(ctx, "uuid_record "+ch+" start "+p); err != nil {
		b.mu.Lock()
		delete(b.recs, req.ID)
		b.mu.Unlock()
		return "", err
	}
	return req.ID, nil
}

func (b *Backend) recOf(id mediacore.RecordingID) (*recState, error) {
	if err := checkID("recording", string(id)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.recs[id]
	if r == nil || r.stopped {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	return r, nil
}

// PauseRecording masks a channel recording (silence is written until
// unmask); a bridge recording pauses (conference recording pause).
func (b *Backend) PauseRecording(ctx context.Context, id mediacore.RecordingID) error {
	return b.recCmd(ctx, id, "mask", "recording pause")
}

// ResumeRecording unmasks (resumes) the recording.
func (b *Backend) ResumeRecording(ctx context.Context, id mediacore.RecordingID) error {
	return b.recCmd(ctx, id, "unmask", "recording resume")
}

// StopRecording stops it; RECORD_STOP (a conference's stop-recording)
// reports RecordingFinished.
func (b *Backend) StopRecording(ctx context.Context, id mediacore.RecordingID) error {
	return b.recCmd(ctx, id, "stop", "norecord")
}

func (b *Backend) recCmd(ctx context.Context, id mediacore.RecordingID, chanVerb, confVerb string) error {
	r, err := b.recOf(id)
	if err != nil {
		return err
	}
	if r.bridge != "" {
		_, err = b.api(ctx, "conference "+string(r.bridge)+" "+confVerb+" "+r.path)
		return err
	}
	_, err = b.api(ctx, "uuid_record "+r.ch+" "+chanVerb+" "+r.path)
	return err
}

func recordingName(req mediacore.RecordRequest) (string, error) {
	name := req.Name
	if name == "" {
		name = string(req.ID) + ".wav"
	}
	if !safePath(name) || strings.HasPrefix(name, "/") || !strings.HasSuffix(name, ".wav") {
		return "", fmt.Errorf("%w: recording name %q", mediacore.ErrInvalidArgument, name)
	}
	return name, nil
}

// recordBridge records a conference room (mono mix; Stereo is
// ErrNotSupported for a bridge). The room exists once a member joined.
func (b *Backend) recordBridge(ctx context.Context, id mediacore.BridgeID, req mediacore.RecordRequest) (mediacore.RecordingID, error) {
	if req.Stereo {
		return "", fmt.Errorf("%w: stereo recording of a bridge", mediacore.ErrNotSupported)
	}
	br, err := b.bridgeOf(id)
	if err != nil {
		return "", err
	}
	name, err := recordingName(req)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	live := false
	for m := range br.members {
		if cs := b.chans[m]; cs != nil && cs.memberID != "" {
			live = true
		}
	}
	p := b.recDir + "/" + name
	if !live || b.recs[req.ID] != nil {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: bridge %s has no member yet, or recording %s exists", mediacore.ErrChannelState, id, req.ID)
	}
	b.recs[req.ID] = &recState{id: req.ID, bridge: id, path: p, started: time.Now()}
	b.mu.Unlock()
	if _, err := b.api(ctx, "conference "+string(id)+" record "+p); err != nil {
		b.mu.Lock()
		delete(b.recs, req.ID)
		b.mu.Unlock()
		return "", err
	}
	return req.ID, nil
}

// OpenRecording opens a finished recording through SharedRecordingsDir.
// Without it: ErrNotSupported (this FreeSWITCH build has no module that
// uploads a file, and ESL cannot read one).
func (b *Backend) OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error) {
	if err := checkID("recording", string(id)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	p, ok := b.finished[id]
	dir := b.recDir
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	if b.cfg.SharedRecordingsDir == "" {
		return nil, fmt.Errorf("%w: no shared_recordings_dir configured", mediacore.ErrNotSupported)
	}
	rel, ok := strings.CutPrefix(p, dir+"/")
	if !ok || !safePath(rel) {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	f, err := os.Open(filepath.Join(b.cfg.SharedRecordingsDir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", mediacore.ErrNoSuchRecording, err)
	}
	return f, nil
}

// PutMedia writes a prompt into SharedMediaDir (where the switch plays it
// from as MediaFile(name)). Without it: ErrNotSupported (the switch cannot
// fetch http:// without mod_http_cache, absent from this build).
func (b *Backend) PutMedia(ctx context.Context, name string, r io.Reader) error {
	if err := mediacore.ValidateMedia(mediacore.File(name)); err != nil || !safePath(name) || !strings.HasSuffix(name, ".wav") {
		return fmt.Errorf("%w: media name %q", mediacore.ErrInvalidArgument, name)
	}
	if b.cfg.SharedMediaDir == "" {
		return fmt.Errorf("%w: no shared_media_dir configured", mediacore.ErrNotSupported)
	}
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return err
	}
	if len(data) < 44 || !bytes.Equal(data[0:4], []byte("RIFF")) || !bytes.Equal(data[8:12], []byte("WAVE")) {
		return fmt.Errorf("%w: %s is not a WAV file", mediacore.ErrInvalidArgument, name)
	}
	dst := filepath.Join(b.cfg.SharedMediaDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp-" + randomID()
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// Variable reads a channel variable (uuid_getvar): name as given, then for
// names without it the "X-" SIP header of the INVITE (sip_h_X-name).
func (b *Backend) Variable(ctx context.Context, ch mediacore.ChannelID, name string) (string, error) {
	if err := checkVarName(name); err != nil {
		return "", err
	}
	if _, err := b.chanOf(ch); err != nil {
		return "", err
	}
	names := []string{name}
	if strings.HasPrefix(strings.ToLower(name), "x-") {
		names = []string{"sip_h_" + name}
	} else {
		names = append(names, "sip_h_X-"+name)
	}
	for _, n := range names {
		v, err := b.api(ctx, "uuid_getvar "+string(ch)+" "+n)
		if err != nil {
			return "", err
		}
		if v != "_undef_" && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchVariable, name)
}

// SetVariable sets a channel variable (uuid_setvar).
func (b *Backend) SetVariable(ctx context.Context, ch mediacore.ChannelID, name, value string) error {
	if err := checkVarName(name); err != nil {
		return err
	}
	if err := checkValue("variable "+name, value); err != nil {
		return err
	}
	return b.simple(ctx, ch, "uuid_setvar", name, value)
}

// AnswerTransfer: FreeSWITCH's sofia answers a REFER itself (202 and a
// transfer through the dialplan) and offers no hook to accept or refuse
// it from the event socket, so the backend never reports
// EventTransferRequested and this is ErrNotSupported.
func (b *Backend) AnswerTransfer(ctx context.Context, ch mediacore.ChannelID, id mediacore.TransferID, accept bool) error {
	return fmt.Errorf("%w: FreeSWITCH answers REFER itself", mediacore.ErrNotSupported)
}

var _ mediacore.DTMFDetector = (*Backend)(nil)

// SetDTMFDetection switches in-band DTMF detection (mod_spandsp's
// spandsp_start_dtmf / spandsp_stop_dtmf) on a channel; RFC 2833/4733
// digits are reported whatever the setting.
func (b *Backend) SetDTMFDetection(ctx context.Context, ch mediacore.ChannelID, on bool) error {
	if _, err := b.chanOf(ch); err != nil {
		return err
	}
	app := "spandsp_stop_dtmf"
	if on {
		app = "spandsp_start_dtmf"
	}
	return b.execute(ctx, string(ch), app, "", "")
}

package asterisk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"hotline/mediacore"
)

// Playbacks. ARI plays one media URI per playback here: a PlayRequest is
// a list (and may loop), and tones and silence have durations ARI's
// tone: URIs do not bound, so a small goroutine per playback walks the
// list: it starts each item as ARI playback "<id>.<n>", stops a tone or
// silence after its duration, waits for ARI's PlaybackFinished and
// emits one EventPlaybackFinished at the end (or on StopPlayback).

type playback struct {
	id     string
	target mediacore.Target
	items  []playItem
	loop   bool

	finished chan string // ARI playback ids that finished
	stop     chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex // guards current
	current string
}

type playItem struct {
	uri string
	dur time.Duration // >0: stop the item after this long
	// silent items are a pause: no ARI playback, just the wait. (A
	// playback on a channel, even of silence, silences the "in" direction
	// of its snoop channels in Asterisk 22.10, i.e. its recordings.)
	silent bool
}

// mediaURI maps one Media to an ARI media URI.
func (b *Backend) mediaURI(m mediacore.Media) (playItem, error) {
	if err := mediacore.ValidateMedia(m); err != nil {
		return playItem{}, err
	}
	switch m.Kind {
	case mediacore.MediaFile:
		if !isPath(m.File) {
			return playItem{}, fmt.Errorf("%w: media file %q: letters, digits, '.', '_', '-' and '/' only", mediacore.ErrInvalidArgument, m.File)
		}
		if u, ok := b.media.url(m.File); ok {
			return playItem{uri: "sound:" + u, dur: m.Duration}, nil
		}
		name := strings.TrimSuffix(m.File, ".wav")
		if b.cfg.MediaDir != "" {
			name = strings.TrimSuffix(b.cfg.MediaDir, "/") + "/" + name
		}
		return playItem{uri: "sound:" + name, dur: m.Duration}, nil
	case mediacore.MediaTone:
		return toneItem(m.Tone, m.Duration), nil
	case mediacore.MediaSilence:
		return playItem{silent: true, dur: m.Duration}, nil
	case mediacore.MediaTTS:
		return playItem{}, fmt.Errorf("%w: Asterisk renders no TTS (Core renders and uploads it)", mediacore.ErrNotSupported)
	}
	return playItem{}, fmt.Errorf("%w: media kind %d", mediacore.ErrInvalidArgument, m.Kind)
}

// toneItem writes a tone as an Asterisk indication ("f1+f2/on,0/off",
// repeated by Asterisk) stopped after d, or after one cadence when d is 0.
func toneItem(t mediacore.Tone, d time.Duration) playItem {
	fs := make([]string, len(t.Freqs))
	for i, f := range t.Freqs {
		fs[i] = strconv.Itoa(int(f + 0.5))
	}
	on := t.On
	if on <= 0 {
		on = time.Hour
	}
	s := strings.Join(fs, "+") + "/" + strconv.FormatInt(on.Milliseconds(), 10)
	if t.Off > 0 {
		s += ",0/" + strconv.FormatInt(t.Off.Milliseconds(), 10)
	}
	if d <= 0 {
		d = t.On + t.Off
		if d <= 0 {
			d = time.Second
		}
	}
	return playItem{uri: "tone:" + s, dur: d}
}

func (b *Backend) targetPath(t mediacore.Target) (string, error) {
	switch {
	case t.Channel != "" && t.Bridge == "":
		if _, err := b.known(t.Channel); err != nil {
			return "", err
		}
		return "/channels/" + seg(string(t.Channel)), nil
	case t.Bridge != "" && t.Channel == "":
		if err := b.knownBridge(t.Bridge); err != nil {
			return "", err
		}
		return "/bridges/" + seg(string(t.Bridge)), nil
	}
	return "", fmt.Errorf("%w: target %+v", mediacore.ErrInvalidArgument, t)
}

// Play starts req on target; the first item starts before Play returns.
func (b *Backend) Play(ctx context.Context, t mediacore.Target, req mediacore.PlayRequest) (mediacore.PlaybackID, error) {
	if req.ID == "" {
		req.ID = mediacore.PlaybackID(mediacore.NewID("pb"))
	}
	if err := mediacore.ValidateID(string(req.ID)); err != nil {
		return "", err
	}
	if len(req.Media) == 0 || len(req.Media) > 64 {
		return "", fmt.Errorf("%w: %d media", mediacore.ErrInvalidArgument, len(req.Media))
	}
	p := &playback{id: string(req.ID), target: t, loop: req.Loop, finished: make(chan string, 4), stop: make(chan struct{})}
	for _, m := range req.Media {
		it, err := b.mediaURI(m)
		if err != nil {
			return "", err
		}
		p.items = append(p.items, it)
	}
	path, err := b.targetPath(t)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	if b.playbacks[p.id] != nil {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: playback %s exists", mediacore.ErrInvalidArgument, p.id)
	}
	b.playbacks[p.id] = p
	b.mu.Unlock()
	first := p.id + ".0"
	if err := b.startItem(ctx, p, path, first, p.items[0]); err != nil {
		b.mu.Lock()
		delete(b.playbacks, p.id)
		b.mu.Unlock()
		return "", err
	}
	b.wg.Add(1)
	go b.runPlayback(p, path, first)
	return req.ID, nil
}

func (b *Backend) startItem(ctx context.Context, p *playback, path, ariID string, it playItem) error {
	if it.silent {
		return nil
	}
	b.mu.Lock()
	b.items[ariID] = p
	b.mu.Unlock()
	p.mu.Lock()
	p.current = ariID
	p.mu.Unlock()
	err := b.ari.do(ctx, "POST", path+"/play", url.Values{"media": {it.uri}, "playbackId": {ariID}}, nil, nil)
	if err != nil {
		b.mu.Lock()
		delete(b.items, ariID)
		b.mu.Unlock()
		if p.target.Bridge != "" {
			return ariErr(err, mediacore.ErrNoSuchBridge)
		}
		return ariErr(err, mediacore.ErrNoSuchChannel)
	}
	return nil
}

// runPlayback walks the items after the first one has started.
func (b *Backend) runPlayback(p *playback, path, current string) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.playbacks, p.id)
		b.mu.Unlock()
		ev := mediacore.Event{Type: mediacore.EventPlaybackFinished, Playback: mediacore.PlaybackID(p.id)}
		if p.target.Bridge != "" {
			ev.Bridge = p.target.Bridge
			b.emit(ev)
		} else {
			b.channelEvent(string(p.target.Channel), ev)
		}
	}()
	n := 0
	idx := 0
	for {
		if !b.waitItem(p, current, p.items[idx]) {
			return
		}
		idx++
		if idx == len(p.items) {
			if !p.loop {
				return
			}
			idx = 0
		}
		n++
		current = p.id + "." + strconv.Itoa(n)
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
		err := b.startItem(ctx, p, path, current, p.items[idx])
		cancel()
		if err != nil {
			return
		}
	}
}

// waitItem waits for item ariID to finish, stopping it after dur; false
// means stop the playback (StopPlayback, Close).
func (b *Backend) waitItem(p *playback, ariID string, it playItem) bool {
	var timeout <-chan time.Time
	if it.dur > 0 {
		t := time.NewTimer(it.dur)
		defer t.Stop()
		timeout = t.C
	}
	if it.silent {
		select {
		case <-timeout:
			return true
		case <-p.stop:
			return false
		case <-b.ctx.Done():
			return false
		}
	}
	stopped := false
	stopCh := p.stop
	for {
		select {
		case id := <-p.finished:
			if id == ariID {
				return !stopped
			}
		case <-timeout:
			timeout = nil
			b.stopItem(ariID)
		case <-stopCh:
			stopCh = nil
			stopped = true
			b.stopItem(ariID)
		case <-b.ctx.Done():
			return false
		}
		if stopped {
			// wait for the finish of the stopped item, bounded.
			select {
			case <-p.finished:
			case <-time.After(b.cfg.CommandTimeout):
			case <-b.ctx.Done():
			}
			return false
		}
	}
}

func (b *Backend) stopItem(ariID string) {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
	defer cancel()
	err := b.ari.do(ctx, "DELETE", "/playbacks/"+seg(ariID), nil, nil, nil)
	var se *statusError
	if errors.As(err, &se) && se.code == http.StatusNotFound {
		// Already over: its PlaybackFinished is on its way or gone; make
		// sure the walker does not wait for it forever.
		b.onPlaybackFinished(ariID)
	}
}

func (b *Backend) onPlaybackFinished(ariID string) {
	b.mu.Lock()
	p := b.items[ariID]
	delete(b.items, ariID)
	b.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case p.finished <- ariID:
	default:
	}
}

// StopPlayback stops a playback; PlaybackFinished follows.
func (b *Backend) StopPlayback(ctx context.Context, id mediacore.PlaybackID) error {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return err
	}
	if err := b.ready(); err != nil {
		return err
	}
	b.mu.Lock()
	p := b.playbacks[string(id)]
	b.mu.Unlock()
	if p == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchPlayback, id)
	}
	p.stopOnce.Do(func() { close(p.stop) })
	return nil
}

// mediaServer serves uploaded prompts to Asterisk over HTTP (Asterisk
// fetches "sound:http://..." through res_http_media_cache and caches
// it). Files live in memory; a new upload of a name gets a new URL (a
// version query) so Asterisk's cache never serves the old one.
type mediaServer struct {
	ln   net.Listener
	srv  *http.Server
	base string

	mu    sync.Mutex // guards files
	files map[string]mediaFile
}

type mediaFile struct {
	data    []byte
	version int
}

// maxMedia bounds one uploaded prompt (about 26 minutes of 8 kHz 16-bit).
const maxMedia = 25 << 20

func newMediaServer(listen, base string, log *slog.Logger) (*mediaServer, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("asterisk: prompt server: %w", err)
	}
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	m := &mediaServer{ln: ln, base: strings.TrimSuffix(base, "/"), files: map[string]mediaFile{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /media/", m.serve)
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

func (m *mediaServer) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/media/")
	m.mu.Lock()
	f, ok := m.files[name]
	m.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

func (m *mediaServer) url(name string) (string, bool) {
	if m == nil {
		return "", false
	}
	m.mu.Lock()
	f, ok := m.files[name]
	m.mu.Unlock()
	if !ok {
		return "", false
	}
	// The version goes into the path (Asterisk's media cache keys on
	// the URL and takes the format from the path's extension).
	dir, file := "", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, file = name[:i+1], name[i+1:]
	}
	return m.base + "/media/" + dir + "v" + strconv.Itoa(f.version) + "-" + file, true
}

func (m *mediaServer) put(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.files[name].version + 1
	// Serve under the versioned name too (what url returns).
	dir, file := "", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, file = name[:i+1], name[i+1:]
	}
	if old, ok := m.files[name]; ok {
		delete(m.files, dir+"v"+strconv.Itoa(old.version)+"-"+file)
	}
	m.files[name] = mediaFile{data: data, version: v}
	m.files[dir+"v"+strconv.Itoa(v)+"-"+file] = mediaFile{data: data, version: v}
}

func (m *mediaServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
}

// PutMedia stores a WAV prompt that Asterisk then fetches from the
// adapter's prompt server when it is played as MediaFile(name).
func (b *Backend) PutMedia(ctx context.Context, name string, r io.Reader) error {
	if err := mediacore.ValidateMedia(mediacore.File(name)); err != nil {
		return err
	}
	if !isPath(name) || !strings.HasSuffix(name, ".wav") {
		return fmt.Errorf("%w: media name %q", mediacore.ErrInvalidArgument, name)
	}
	if b.media == nil {
		return fmt.Errorf("%w: not started", mediacore.ErrBackendUnavailable)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxMedia+1))
	if err != nil {
		return err
	}
	if len(data) > maxMedia {
		return fmt.Errorf("%w: media larger than %d bytes", mediacore.ErrInvalidArgument, maxMedia)
	}
	if err := checkWAV(data); err != nil {
		return err
	}
	b.media.put(name, data)
	return nil
}

// checkWAV accepts a RIFF/WAVE file of 16-bit PCM mono at 8 kHz
// (what Asterisk's format_wav plays).
func checkWAV(b []byte) error {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return fmt.Errorf("%w: not a WAV file", mediacore.ErrInvalidArgument)
	}
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if id == "fmt " {
			if size < 16 || p+16 > len(b) {
				break
			}
			format := binary.LittleEndian.Uint16(b[p:])
			chans := binary.LittleEndian.Uint16(b[p+2:])
			rate := binary.LittleEndian.Uint32(b[p+4:])
			bits := binary.LittleEndian.Uint16(b[p+14:])
			if format != 1 || chans != 1 || bits != 16 || rate != 8000 {
				return fmt.Errorf("%w: WAV must be 16-bit PCM mono at 8 kHz", mediacore.ErrInvalidArgument)
			}
			return nil
		}
		if size < 0 || size > len(b) {
			break
		}
		p += size + size&1
	}
	return fmt.Errorf("%w: WAV without a fmt chunk", mediacore.ErrInvalidArgument)
}

// SupportsMediaUploader documents that *Backend implements
// mediacore.MediaUploader.
var _ mediacore.MediaUploader = (*Backend)(nil)

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
// emits one EventPlaybackFinished at the end (or on StopPlayback). A
// tone played to a channel whose "in" direction a recording hears is a
// rendered file (tone.go); a segment of a long one that ends before the
// tone's duration starts again as "<id>.<n>.<k>", and so does a tone: URI
// playing when such a recording starts (stopped, then the rest as a
// file).

type playback struct {
	id     string
	target mediacore.Target
	items  []playItem
	loop   bool

	finished chan finish // ARI playbacks that finished
	stop     chan struct{}
	stopOnce sync.Once
	reroute  chan struct{} // a recording now hears the channel's "in" direction

	mu      sync.Mutex // guards current and asFile
	current string
	asFile  bool // the current item is a rendered tone
}

// finish is one ARI PlaybackFinished: the playback's id and final state
// ("done" when it played to its end, "failed", ...; "" when the adapter
// found it gone).
type finish struct{ id, state string }

type playItem struct {
	uri string
	dur time.Duration // >0: stop the item after this long
	// silent items are a pause: no ARI playback, just the wait (nothing
	// to fetch, nothing that could touch the channel's audio).
	silent bool
	// tone is the tone of a tone item: played as a rendered file instead
	// of uri while a recording hears the channel's "in" direction.
	tone *mediacore.Tone
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
	return playItem{uri: "tone:" + s, dur: d, tone: &t}
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
	p := &playback{id: string(req.ID), target: t, loop: req.Loop, finished: make(chan finish, 4), stop: make(chan struct{}),
		reroute: make(chan struct{}, 1)}
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
	uri := it.uri
	asFile := it.tone != nil && p.target.Channel != "" && b.hearsIn(p.target.Channel)
	if asFile {
		u, err := b.media.toneURL(*it.tone, toneSegment(*it.tone, it.dur))
		if err != nil {
			return err
		}
		uri = "sound:" + u
	}
	b.mu.Lock()
	b.items[ariID] = p
	b.mu.Unlock()
	p.mu.Lock()
	p.current, p.asFile = ariID, asFile
	p.mu.Unlock()
	err := b.ari.do(ctx, "POST", path+"/play", url.Values{"media": {uri}, "playbackId": {ariID}}, nil, nil)
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
		if !b.waitItem(p, path, current, p.items[idx]) {
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

// minToneRest is the least time left of a tone for which a rendered
// segment that has ended is played again (less ends the tone early).
const minToneRest = 100 * time.Millisecond

// waitItem waits for item ariID to finish, stopping it after dur; false
// means stop the playback (StopPlayback, Close). A tone longer than its
// rendered segment (see toneSegment) plays the segment again when ARI
// says it played to its end ("done"; a file Asterisk could not fetch is
// "failed": the item ends). A tone: URI playing when a recording starts
// to hear the channel's "in" direction (reroute) is stopped and its rest
// played the same way, as a file.
func (b *Backend) waitItem(p *playback, path, ariID string, it playItem) bool {
	var timeout <-chan time.Time
	end := time.Now().Add(it.dur)
	if it.dur > 0 {
		t := time.NewTimer(it.dur)
		defer t.Stop()
		timeout = t.C
	}
	base, k := ariID, 0
	switching := false // a tone: URI stopped to go on as a file
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
		case f := <-p.finished:
			if f.id != ariID {
				continue
			}
			again := switching || f.state == "done"
			switching = false
			if it.tone == nil || !again || timeout == nil || time.Until(end) < minToneRest {
				return true
			}
			k++
			ariID = base + "." + strconv.Itoa(k)
			ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
			err := b.startItem(ctx, p, path, ariID, it)
			cancel()
			if err != nil {
				return false
			}
		case <-p.reroute:
			p.mu.Lock()
			asFile := p.asFile
			p.mu.Unlock()
			if it.tone != nil && !asFile && !switching && timeout != nil && time.Until(end) >= minToneRest {
				switching = true
				b.stopItem(ariID)
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
		b.onPlaybackFinished(ariID, "")
	}
}

func (b *Backend) onPlaybackFinished(ariID, state string) {
	b.mu.Lock()
	p := b.items[ariID]
	delete(b.items, ariID)
	b.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case p.finished <- finish{ariID, state}:
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
// version query) so Asterisk's cache never serves the old one. Rendered
// tones (tone.go) are served under /tones/, apart from uploads. Every URL
// is padded to minMediaURL (see link).
type mediaServer struct {
	ln   net.Listener
	srv  *http.Server
	base string

	mu      sync.Mutex // guards files, tones and toneUse
	files   map[string]mediaFile
	tones   map[string]*toneFile
	toneUse uint64 // counts toneURL calls: the age of a toneFile's last use
}

type toneFile struct {
	data []byte
	used uint64
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
	m := &mediaServer{ln: ln, base: strings.TrimSuffix(base, "/"), files: map[string]mediaFile{}, tones: map[string]*toneFile{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /media/", m.serve)
	mux.HandleFunc("GET /tones/", m.serveTone)
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

func (m *mediaServer) serve(w http.ResponseWriter, r *http.Request) {
	name := unpad(strings.TrimPrefix(r.URL.Path, "/media/"))
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

func (m *mediaServer) serveTone(w http.ResponseWriter, r *http.Request) {
	name := unpad(strings.TrimPrefix(r.URL.Path, "/tones/"))
	m.mu.Lock()
	f := m.tones[name]
	m.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	// A tone's name is its audio, so Asterisk may keep it. Without a
	// lifetime res_http_media_cache takes a file as expired as soon as it
	// has it and fetches it again on the next lookup (two GETs per
	// playback, measured). The ETag makes a later revalidation a 304.
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Header().Set("ETag", `"`+name+`"`)
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

// toneURL renders length of t (once; at most maxTones are kept, the
// least recently used goes) and returns the URL Asterisk fetches it from.
func (m *mediaServer) toneURL(t mediacore.Tone, length time.Duration) (string, error) {
	if m == nil {
		return "", fmt.Errorf("%w: prompt server not started", mediacore.ErrBackendUnavailable)
	}
	name := toneName(t, length)
	u := m.link("tones", name)
	m.mu.Lock()
	m.toneUse++
	if f := m.tones[name]; f != nil {
		f.used = m.toneUse
		m.mu.Unlock()
		return u, nil
	}
	m.mu.Unlock()
	data, err := renderTone(t, length)
	if err != nil {
		return "", fmt.Errorf("%w: tone %+v: %v", mediacore.ErrInvalidArgument, t, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.tones) >= maxTones {
		var oldest string
		for n, f := range m.tones {
			if oldest == "" || f.used < m.tones[oldest].used {
				oldest = n
			}
		}
		delete(m.tones, oldest)
	}
	m.toneUse++
	m.tones[name] = &toneFile{data: data, used: m.toneUse}
	return u, nil
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
	return m.link("media", dir+"v"+strconv.Itoa(f.version)+"-"+file), true
}

// minMediaURL is the least length of a URL the prompt server hands out.
// Asterisk 22.10's file.c copies the local path of a fetched file into a
// buffer sized from the URL (its length + the language's + 4): a cache
// path longer than that is cut, and the file "does not exist in any
// format" (a run directory like /opt/hotline-peers/run/hlast12345a/cache
// did that to a 46-character tone URL). The padding leaves room for a
// cache directory of up to about 170 characters.
const minMediaURL = 200

// link is the URL of rel served under /kind/, padded to minMediaURL with
// a first segment "~xxx" that names cannot have (isPath: no '~').
func (m *mediaServer) link(kind, rel string) string {
	u := m.base + "/" + kind + "/" + rel
	if n := minMediaURL - len(u) - 2; n > 0 {
		u = m.base + "/" + kind + "/~" + strings.Repeat("x", n) + "/" + rel
	}
	return u
}

// unpad drops link's padding segment from a served path.
func unpad(p string) string {
	if strings.HasPrefix(p, "~") {
		_, p, _ = strings.Cut(p, "/")
	}
	return p
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

package asterisk

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/audio"
)

func TestToneSegment(t *testing.T) {
	steady := mediacore.Tone{Freqs: []float64{800}}
	for _, tc := range []struct {
		name string
		tone mediacore.Tone
		d    time.Duration
		seg  time.Duration
	}{
		{"short steady: all of it", steady, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"at the bound", steady, maxToneSegment, maxToneSegment},
		{"long steady: whole seconds", steady, time.Hour, maxToneSegment},
		{"long steady, odd bound", steady, 10*time.Second + time.Millisecond, maxToneSegment},
		{"ringback: two cycles of 5 s", mediacore.ToneRingback, time.Minute, 10 * time.Second},
		{"busy: 14 cycles of 700 ms", mediacore.ToneBusy, time.Minute, 14 * 700 * time.Millisecond},
		{"cycle over the bound", mediacore.Tone{Freqs: []float64{450}, On: 8 * time.Second, Off: 7 * time.Second}, time.Minute, 15 * time.Second},
		{"cycle over the cap", mediacore.Tone{Freqs: []float64{450}, On: time.Hour, Off: time.Second}, 2 * time.Hour, maxToneCycle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := toneSegment(tc.tone, tc.d); got != tc.seg {
				t.Errorf("toneSegment(%+v, %v) = %v, want %v", tc.tone, tc.d, got, tc.seg)
			}
		})
	}
}

// renderTone writes a WAV that checkWAV accepts, of the segment's
// length, holding the tone at Asterisk's level with its cadence.
func TestRenderTone(t *testing.T) {
	data, err := renderTone(mediacore.Tone{Freqs: []float64{449.7}, On: 200 * time.Millisecond, Off: 300 * time.Millisecond}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkWAV(data); err != nil {
		t.Fatal(err)
	}
	if len(data) != 44+2*8000 {
		t.Fatalf("%d bytes, want 44 + 1 s of 16-bit samples", len(data))
	}
	s := samples(data)
	on, off := s[0:1600], s[1600:4000] // 200 ms on, 300 ms off
	if r := audio.ToneRatio(on, audio.SampleRate, 450); r < 0.9 {
		t.Errorf("on period: 450 Hz ratio %.2f", r)
	}
	if lvl := audio.LevelDBm0(on); lvl < -11 || lvl > -9 {
		t.Errorf("on period at %.1f dBm0, want about -10 (Asterisk's tone level)", lvl)
	}
	if lvl := audio.LevelDBm0(off); lvl > -60 {
		t.Errorf("off period at %.1f dBm0, want silence", lvl)
	}
	if r := audio.ToneRatio(s[4000:5600], audio.SampleRate, 450); r < 0.9 {
		t.Errorf("second burst: 450 Hz ratio %.2f", r)
	}
	// Frequencies that round out of (0, 4000) Hz (mediacore accepts
	// 3999.7 and 0.2) are kept inside.
	for _, f := range []float64{3999.7, 0.2} {
		if _, err := renderTone(mediacore.Tone{Freqs: []float64{f}}, 100*time.Millisecond); err != nil {
			t.Errorf("render %v Hz: %v", f, err)
		}
	}
}

func samples(wav []byte) []int16 {
	s := make([]int16, (len(wav)-44)/2)
	for i := range s {
		s[i] = int16(uint16(wav[44+2*i]) | uint16(wav[45+2*i])<<8)
	}
	return s
}

// The prompt server's URLs are padded (Asterisk cuts a cached file's
// local path to the URL's length) and still serve the file.
func TestMediaURLPadded(t *testing.T) {
	m, err := newMediaServer("127.0.0.1:0", "", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	wav, _ := renderTone(mediacore.Tone{Freqs: []float64{800}}, 100*time.Millisecond)
	m.put("a.wav", wav)
	up, ok := m.url("a.wav")
	if !ok {
		t.Fatal("no url for an upload")
	}
	tone, err := m.toneURL(mediacore.Tone{Freqs: []float64{800}}, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{up, tone} {
		// Room for a cache directory of 170 characters:
		// <dir>/bucket-XXXXXX.wav must fit in len(url)+len("en")+4.
		if room := len(u) + len("en") + 4 - len("/bucket-XXXXXX.wav") - 1; room < 170 {
			t.Errorf("%s: room for a cache directory of %d characters, want 170", u, room)
		}
		got := fetch(t, u)
		if string(got) != string(wav) {
			t.Errorf("%s served %d bytes, want the %d of the file", u, len(got), len(wav))
		}
	}
}

func fetch(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	if strings.Contains(u, "/tones/") && resp.Header.Get("Cache-Control") == "" {
		t.Errorf("GET %s: no Cache-Control (Asterisk would fetch it again at once)", u)
	}
	return data
}

// played returns the media of the n-th POST .../play request.
func played(t *testing.T, f *fakeARI, n int) (path, media, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var plays []string
		for _, r := range f.requests() {
			if strings.HasPrefix(r, "POST ") && strings.Contains(r, "/play?") {
				plays = append(plays, r)
			}
		}
		if len(plays) > n {
			p, rest, _ := strings.Cut(strings.TrimPrefix(plays[n], "POST "), "?")
			q, err := url.ParseQuery(strings.Fields(rest)[0])
			if err != nil {
				t.Fatal(err)
			}
			return p, q.Get("media"), q.Get("playbackId")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no play request #%d in %v", n+1, f.requests())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A tone played to a channel is a tone: URI, unless a recording hears
// the channel's "in" direction (both, read): then it is a rendered WAV
// from the prompt server, and a tone longer than its segment plays the
// segment again. A recording of what the channel hears alone (write)
// keeps tone: URIs, and so does the channel once the recording ends.
func TestToneAsFileWhileRecorded(t *testing.T) {
	f := newFakeARI(t)
	b, evs := startFake(t, f, nil)
	ctx := context.Background()
	f.send(t, stasisStart("c1"))
	evs.wait(t, "created", created("c1"))
	tone := mediacore.ToneFor(mediacore.Tone{Freqs: []float64{800}}, 1500*time.Millisecond)
	plays := 0
	play := func(id string, m mediacore.Media) (media, ariID string) {
		t.Helper()
		if _, err := b.Play(ctx, mediacore.ChannelTarget("c1"), mediacore.PlayRequest{ID: mediacore.PlaybackID(id), Media: []mediacore.Media{m}}); err != nil {
			t.Fatal(err)
		}
		path, media, ariID := played(t, f, plays)
		plays++
		if path != "/channels/c1/play" {
			t.Errorf("played on %s", path)
		}
		return media, ariID
	}
	finish := func(id string) {
		f.send(t, `{"type":"PlaybackFinished","playback":{"id":"`+id+`"}}`)
		evs.wait(t, "PlaybackFinished "+id, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventPlaybackFinished && strings.HasPrefix(id, string(ev.Playback)+".")
		})
	}
	record := func(id string, src mediacore.RecordSource) {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := b.Record(ctx, mediacore.ChannelTarget("c1"), mediacore.RecordRequest{ID: mediacore.RecordingID(id), Source: src})
			done <- err
		}()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(strings.Join(f.requests(), "\n"), "snoopId=hl-rec-"+id) {
			if time.Now().After(deadline) {
				t.Fatal("no snoop request")
			}
			time.Sleep(5 * time.Millisecond)
		}
		f.send(t, stasisStart("hl-rec-"+id))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	stop := func(id string) {
		f.send(t, `{"type":"RecordingFinished","recording":{"name":"hotline-`+id+`"}}`)
		evs.wait(t, "RecordingFinished "+id, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventRecordingFinished && ev.Recording == mediacore.RecordingID(id)
		})
	}

	if media, id := play("p1", tone); media != "tone:800/3600000" {
		t.Errorf("no recording: played %q, want the tone: URI", media)
	} else {
		finish(id)
	}

	record("rw", mediacore.RecordWrite)
	if media, id := play("p2", tone); !strings.HasPrefix(media, "tone:") {
		t.Errorf("write recording: played %q, want the tone: URI", media)
	} else {
		finish(id)
	}
	stop("rw")

	record("rb", mediacore.RecordBoth)
	media, id := play("p3", tone)
	u, ok := strings.CutPrefix(media, "sound:")
	if !ok || !strings.Contains(u, "/tones/") || !strings.HasSuffix(u, ".wav") {
		t.Fatalf("both recording: played %q, want a rendered tone file", media)
	}
	if got := samples(fetch(t, u)); len(got) != 12000 || audio.ToneRatio(got, audio.SampleRate, 800) < 0.9 {
		t.Errorf("served %d samples of the tone (800 Hz ratio %.2f), want 1.5 s of 800 Hz",
			len(got), audio.ToneRatio(got, audio.SampleRate, 800))
	}
	finish(id)

	// A tone longer than a segment: the segment again each time ARI
	// says it played to its end, as "<item>.<k>"; a segment that failed
	// (Asterisk could not fetch it) ends the tone.
	long := mediacore.ToneFor(mediacore.Tone{Freqs: []float64{800}}, time.Hour)
	media, id = play("p4", long)
	if !strings.HasPrefix(media, "sound:") || !strings.Contains(media, "-10000.wav") {
		t.Fatalf("long tone: played %q, want its 10 s segment", media)
	}
	f.send(t, `{"type":"PlaybackFinished","playback":{"id":"`+id+`","state":"done"}}`)
	_, again, againID := played(t, f, plays)
	plays++
	if again != media || againID != id+".1" {
		t.Errorf("segment again: %q as %s, want %q as %s.1", again, againID, media, id)
	}
	f.send(t, `{"type":"PlaybackFinished","playback":{"id":"`+againID+`","state":"failed"}}`)
	evs.wait(t, "PlaybackFinished p4", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == "p4"
	})
	if n := len(playRequests(f)); n != plays {
		t.Errorf("a failed segment was played again (%d play requests, want %d)", n, plays)
	}

	stop("rb")
	if media, id := play("p5", tone); !strings.HasPrefix(media, "tone:") {
		t.Errorf("after the recording: played %q, want the tone: URI", media)
	} else {
		finish(id)
	}

	// A tone: URI playing when a recording starts to hear the caller is
	// stopped and goes on as a file.
	media, id = play("p6", long)
	if !strings.HasPrefix(media, "tone:") {
		t.Fatalf("no recording: played %q", media)
	}
	record("rr", mediacore.RecordRead)
	waitRequest(t, f, "DELETE /playbacks/"+id+"?")
	f.send(t, `{"type":"PlaybackFinished","playback":{"id":"`+id+`","state":"done"}}`)
	_, again, againID = played(t, f, plays)
	plays++
	if !strings.HasPrefix(again, "sound:") || againID != id+".1" {
		t.Errorf("after the recording started: played %q as %s, want the tone as a file as %s.1", again, againID, id)
	}
	f.send(t, `{"type":"PlaybackFinished","playback":{"id":"`+againID+`","state":"failed"}}`)
	evs.wait(t, "PlaybackFinished p6", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventPlaybackFinished && ev.Playback == "p6"
	})
	if media, id := play("p7", tone); !strings.HasPrefix(media, "sound:") {
		t.Errorf("read recording: played %q, want a rendered tone file", media)
	} else {
		finish(id)
	}
	// The channel ends: the recording with it; the count goes with the
	// channel.
	f.send(t, `{"type":"ChannelDestroyed","cause":16,"channel":{"id":"c1"}}`)
	evs.wait(t, "hangup", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventHangup })
	stop("rr")
}

func waitRequest(t *testing.T, f *fakeARI, prefix string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range f.requests() {
			if strings.HasPrefix(r, prefix) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request %s in %v", prefix, f.requests())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func playRequests(f *fakeARI) []string {
	var out []string
	for _, r := range f.requests() {
		if strings.HasPrefix(r, "POST ") && strings.Contains(r, "/play?") {
			out = append(out, r)
		}
	}
	return out
}

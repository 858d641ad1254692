package asterisk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"loopback http", Config{URL: "http://127.0.0.1:8088/ari", User: "u", Password: "p"}, nil},
		{"localhost http", Config{URL: "http://localhost:8088/ari", User: "u", Password: "p"}, nil},
		{"ipv6 loopback", Config{URL: "http://[::1]:8088/ari", User: "u", Password: "p"}, nil},
		{"remote https", Config{URL: "https://pbx.example.net/ari", User: "u", Password: "p"}, nil},
		{"remote http refused", Config{URL: "http://10.0.0.5:8088/ari", User: "u", Password: "p"}, ErrInsecureRemote},
		{"remote http by name refused", Config{URL: "http://pbx.example.net:8088/ari", User: "u", Password: "p"}, ErrInsecureRemote},
		{"remote http opted in", Config{URL: "http://10.0.0.5:8088/ari", User: "u", Password: "p", AllowInsecureRemote: true}, nil},
		{"credentials in url", Config{URL: "http://u:p@127.0.0.1:8088/ari", User: "u", Password: "p"}, ErrConfig},
		{"no password", Config{URL: "http://127.0.0.1:8088/ari", User: "u"}, ErrConfig},
		{"bad scheme", Config{URL: "ftp://127.0.0.1/ari", User: "u", Password: "p"}, ErrConfig},
		{"bad app", Config{URL: "http://127.0.0.1/ari", User: "u", Password: "p", App: "a,b"}, ErrConfig},
		{"bad trunk", Config{URL: "http://127.0.0.1/ari", User: "u", Password: "p", Trunk: "t/x"}, ErrConfig},
		{"relative media dir", Config{URL: "http://127.0.0.1/ari", User: "u", Password: "p", MediaDir: "media"}, ErrConfig},
		{"media dir with comma", Config{URL: "http://127.0.0.1/ari", User: "u", Password: "p", MediaDir: "/m,sound:x"}, ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, "n", nil)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("New: %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "p@") {
				t.Errorf("error shows credentials: %v", err)
			}
		})
	}
	c := Config{URL: "http://127.0.0.1/ari", User: "u", Password: "very-secret"}
	if strings.Contains(c.String(), "very-secret") {
		t.Errorf("String shows the password: %s", c)
	}
}

func TestHangupCause(t *testing.T) {
	busy := mediacore.CauseBusy
	answered := time.Now()
	for _, tc := range []struct {
		name  string
		c     channel
		q850  int
		cause mediacore.Cause
		sip   int
	}{
		{"requested wins", channel{dir: mediacore.Inbound, requested: &busy}, 16, mediacore.CauseBusy, 486},
		{"originate busy", channel{dir: mediacore.Outbound, dialStatus: "BUSY"}, 17, mediacore.CauseBusy, 486},
		{"originate no answer", channel{dir: mediacore.Outbound, dialStatus: "NOANSWER"}, 16, mediacore.CauseNoAnswer, 480},
		{"originate unavailable", channel{dir: mediacore.Outbound, dialStatus: "CHANUNAVAIL"}, 20, mediacore.CauseUnavailable, 480},
		{"caller cancels", channel{dir: mediacore.Inbound}, 16, mediacore.CauseCancelled, 487},
		{"caller cancels, cause 0", channel{dir: mediacore.Inbound}, 0, mediacore.CauseCancelled, 487},
		{"normal bye", channel{dir: mediacore.Inbound, answered: answered}, 16, mediacore.CauseNormal, 0},
		{"bye without cause", channel{dir: mediacore.Outbound, answered: answered}, 0, mediacore.CauseNormal, 0},
		{"far end busy q850", channel{dir: mediacore.Outbound}, 17, mediacore.CauseBusy, 0},
		{"failure", channel{dir: mediacore.Outbound, answered: answered}, 38, mediacore.CauseFailure, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause, sip := hangupCause(&tc.c, tc.q850)
			if cause != tc.cause || sip != tc.sip {
				t.Errorf("got %v/%d, want %v/%d", cause, sip, tc.cause, tc.sip)
			}
		})
	}
}

func TestToneItem(t *testing.T) {
	for _, tc := range []struct {
		tone mediacore.Tone
		d    time.Duration
		uri  string
		dur  time.Duration
	}{
		{mediacore.ToneRingback, 0, "tone:450/1000,0/4000", 5 * time.Second},
		{mediacore.Tone{Freqs: []float64{697, 1209}, On: 100 * time.Millisecond}, 0, "tone:697+1209/100", 100 * time.Millisecond},
		{mediacore.Tone{Freqs: []float64{800}}, 1500 * time.Millisecond, "tone:800/3600000", 1500 * time.Millisecond},
	} {
		it := toneItem(tc.tone, tc.d)
		if it.uri != tc.uri || it.dur != tc.dur {
			t.Errorf("toneItem(%+v, %v) = %+v, want %s for %v", tc.tone, tc.d, it, tc.uri, tc.dur)
		}
	}
}

func FuzzCheckWAV(f *testing.F) {
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"))
	f.Add([]byte("RIFF"))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEjunk\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkWAV(b)
	})
}

// FuzzHandleFrame feeds arbitrary frames to the event reader of a backend
// that knows one channel: nothing panics (the reader recovers, but the
// decoder and translators must not need it).
func FuzzHandleFrame(f *testing.F) {
	for _, s := range []string{
		stasisStart("c1"),
		`{"type":"ChannelDtmfReceived","channel":{"id":"c1"},"digit":"5","duration_ms":100}`,
		`{"type":"ChannelDestroyed","cause":17,"channel":{"id":"c1"}}`,
		`{"type":"ChannelTransfer","refer_to":{"requested_destination":{"destination":"1002"},"destination_channel":{"id":"c2"}},"referred_by":{"source_channel":{"id":"c1"}}}`,
		`{"type":"Dial","peer":{"id":"c1"},"dialstatus":"BUSY"}`,
		`{"type":"ContactStatusChange","endpoint":{"technology":"PJSIP","resource":"1001"},"contact_info":{"uri":"sip:1001@x","contact_status":"Reachable"}}`,
		`{"type":"PlaybackFinished","playback":{"id":"p.0"}}`,
		`{"type":"RecordingFinished","recording":{"name":"r"}}`,
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b"},"channel":{"id":"c1"}}`,
		`{"type":"Unknown"}`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := New(Config{URL: "http://127.0.0.1:1/ari", User: "u", Password: "p"}, "f", nil)
		if err != nil {
			t.Fatal(err)
		}
		b.sink = func(mediacore.Event) {}
		b.chans["c1"] = &channel{id: "c1", dir: mediacore.Inbound}
		b.bridges["b"] = &bridge{id: "b", members: map[string]mediacore.Member{}}
		b.handleFrame(data)
	})
}

package freeswitch

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func FuzzReadFrame(f *testing.F) {
	for _, s := range []string{
		"Content-Type: auth/request\n\n",
		"Content-Type: command/reply\nReply-Text: +OK accepted\n\n",
		"Content-Type: api/response\nContent-Length: 3\n\n+OK",
		"Content-Length: 40\nContent-Type: text/event-plain\n\nEvent-Name: DTMF\nDTMF-Digit: 1\n\n",
		"Content-Type: api/response\nContent-Length: -1\n\n",
		"garbage\n\n",
		"\n\n\nContent-Type: x\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for range 8 {
			fr, err := readFrame(r)
			if err != nil {
				if !errors.Is(err, errMalformed) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if fr.get("Content-Type") == "" {
				t.Fatal("frame without Content-Type accepted")
			}
			if fr.get("Content-Type") == "text/event-plain" {
				if ev, err := parseEvent(fr.body); err == nil && ev.name() == "" {
					t.Fatal("event without a name accepted")
				}
			}
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		"Event-Name: CHANNEL_PARK\nUnique-ID: abc\nEvent-Sequence: 12\nvariable_sip_h_X-Account: A%2042\n\n",
		"Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: 4\n\n+OK\n",
		"Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\n\n",
		"Event-Name: X\nContent-Length: 99\n\nshort",
		"no colon\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseEvent(data)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if ev.get("Event-Name") == "" {
			t.Fatal("event without Event-Name")
		}
		_ = ev.seq()
		_, _, _ = hangupCause(ev)
	})
}

func FuzzParseShowChannels(f *testing.F) {
	f.Add([]byte(`{"row_count": 0}`))
	f.Add([]byte(`{"row_count": 1, "rows": [{"uuid":"a","direction":"inbound","created_epoch":"1700000000","callstate":"ACTIVE"}]}`))
	f.Add([]byte(`{"rows": [{"uuid": 5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parseShowChannels(data)
		if err != nil {
			return
		}
		for _, r := range rows {
			_, _, _ = r.direction(), r.state(), r.created()
		}
	})
}

// FuzzSDPHeld: any answer SDP, held or not, never panics, and a held one
// stays held with more lines after it.
func FuzzSDPHeld(f *testing.F) {
	for _, s := range []string{"v=0\r\na=recvonly\r\n", "a=inactive", "a=sendrecv\n", "", "\n\n\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sdp string) {
		if sdpHeld(sdp) && !sdpHeld(sdp+"\na=rtpmap:0 PCMU/8000\n") {
			t.Errorf("held %q lost its hold with one more line", sdp)
		}
	})
}

package native

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"hotline/mediacore/audio"
)

const offerPCMA = "v=0\r\no=- 42 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
	"m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
	"m=audio 4000 RTP/AVP 9 8 0 96\r\na=rtpmap:9 G722/8000\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n"

func TestParseOffer(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		codec  audio.Codec
		pt     uint8
		dtmfPT uint8
		dir    dir
		addr   string
		index  int
		hold   bool
		err    error
	}{
		{name: "first supported codec wins, video skipped", body: offerPCMA, codec: audio.PCMA, pt: 8, dtmfPT: 96,
			dir: dirSendOnly, addr: "192.0.2.1:4000", index: 1},
		{name: "dynamic PCMU", body: "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 110\r\nc=IN IP4 10.0.0.2\r\na=rtpmap:110 pcmu/8000\r\n",
			codec: audio.PCMU, pt: 110, dtmfPT: dtmfPTNone, dir: dirSendRecv, addr: "10.0.0.2:7000"},
		{name: "RFC 2543 hold address", body: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n",
			codec: audio.PCMU, pt: 0, dtmfPT: dtmfPTNone, dir: dirSendRecv, addr: "0.0.0.0:7000", hold: true},
		{name: "session level inactive", body: "v=0\r\no=- 1 1 IN IP4 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\na=inactive\r\nm=audio 7000 RTP/AVP 8\r\n",
			codec: audio.PCMA, pt: 8, dtmfPT: dtmfPTNone, dir: dirInactive, addr: "[::1]:7000"},
		{name: "no common codec", body: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/AVP 9 18\r\n", err: errNoCommonCodec},
		{name: "rejected stream", body: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", err: errNoCommonCodec},
		{name: "SRTP profile not offered", body: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/SAVP 0\r\n", err: errNoCommonCodec},
		{name: "no connection", body: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n", err: errBadSDP},
		{name: "garbage", body: "hello", err: errBadSDP},
		{name: "empty", body: "", err: errBadSDP},
		{name: "too large", body: "v=0\r\n" + strings.Repeat("a=x\r\n", 3000), err: errBadSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOffer([]byte(tt.body))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.codec != tt.codec || o.pt != tt.pt || o.dtmfPT != tt.dtmfPT || o.dir != tt.dir ||
				o.addr != netip.MustParseAddrPort(tt.addr) || o.audioIndex != tt.index || o.hold != tt.hold {
				t.Fatalf("got %+v", o)
			}
		})
	}
}

// TestAnswerKeepsMLines checks the answer of RFC 3264 §6: same number of m=
// lines in the same order, unused ones with port 0, the chosen codec only,
// the mirrored direction.
func TestAnswerKeepsMLines(t *testing.T) {
	o, err := parseOffer([]byte(offerPCMA))
	if err != nil {
		t.Fatal(err)
	}
	body, err := buildSDP(sdpParams{
		sessionID: 7, version: 1, ip: netip.MustParseAddr("127.0.0.1"), port: 20000,
		codecs: []codecPT{{o.codec, o.pt}}, dtmfPT: o.dtmfPT, dir: o.dir.answer(),
		mlines: o.mlines, audioIndex: o.audioIndex,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, want := range []string{"m=video 0 RTP/AVP 0\r\n", "m=audio 20000 RTP/AVP 8 96\r\n", "a=rtpmap:96 telephone-event/8000", "a=recvonly", "c=IN IP4 127.0.0.1"} {
		if !strings.Contains(s, want) {
			t.Errorf("answer lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "m=video") > strings.Index(s, "m=audio") {
		t.Error("m= lines reordered")
	}
	back, err := parseOffer(body)
	if err != nil || back.codec != audio.PCMA || back.dir != dirRecvOnly {
		t.Fatalf("answer does not parse back: %+v %v", back, err)
	}
}

func TestDirections(t *testing.T) {
	tests := []struct {
		offered, local, want dir
	}{
		{dirSendRecv, dirSendRecv, dirSendRecv},
		{dirSendOnly, dirSendRecv, dirRecvOnly},
		{dirRecvOnly, dirSendRecv, dirSendOnly},
		{dirInactive, dirSendRecv, dirInactive},
		{dirSendRecv, dirSendOnly, dirSendOnly},
		{dirSendOnly, dirSendOnly, dirInactive},
	}
	for _, tt := range tests {
		if got := combineAnswerDir(tt.offered, tt.local); got != tt.want {
			t.Errorf("offer %v local %v: answer %v, want %v", tt.offered, tt.local, got, tt.want)
		}
	}
}

// FuzzSDPOffer feeds arbitrary bodies to the offer parser and, when one is
// accepted, checks the answer built from it parses back to the same codec.
func FuzzSDPOffer(f *testing.F) {
	f.Add([]byte(offerPCMA))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 110\r\nc=IN IP4 10.0.0.2\r\na=rtpmap:110 pcmu/8000\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 1 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=inactive\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := parseOffer(body)
		if err != nil {
			if !errors.Is(err, errBadSDP) && !errors.Is(err, errNoCommonCodec) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if !o.codec.Valid() || !o.addr.IsValid() || o.addr.Port() == 0 || o.audioIndex >= len(o.mlines) {
			t.Fatalf("accepted offer is inconsistent: %+v", o)
		}
		body2, err := buildSDP(sdpParams{
			sessionID: 1, version: 1, ip: netip.MustParseAddr("127.0.0.1"), port: 4000,
			codecs: []codecPT{{o.codec, o.pt}}, dtmfPT: o.dtmfPT, dir: o.dir.answer(),
			mlines: o.mlines, audioIndex: o.audioIndex,
		})
		if err != nil {
			t.Fatal(err)
		}
		a, err := parseOffer(body2)
		if err != nil || a.codec != o.codec || a.pt != o.pt {
			t.Fatalf("answer %q does not parse back: %+v %v", body2, a, err)
		}
	})
}

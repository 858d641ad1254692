package native

import (
	"net/netip"
	"testing"
)

func BenchmarkParseOffer(b *testing.B) {
	body := []byte(offerPCMA)
	b.ReportAllocs()
	for range b.N {
		if _, err := parseOffer(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildAnswer(b *testing.B) {
	o, err := parseOffer([]byte(offerPCMA))
	if err != nil {
		b.Fatal(err)
	}
	p := sdpParams{sessionID: 1, version: 2, ip: netip.MustParseAddr("127.0.0.1"), port: 20000,
		codecs: []codecPT{{o.codec, o.pt}}, dtmfPT: o.dtmfPT, dir: o.dir.answer(), mlines: o.mlines, audioIndex: o.audioIndex}
	b.ReportAllocs()
	for range b.N {
		if _, err := buildSDP(p); err != nil {
			b.Fatal(err)
		}
	}
}

package native

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"hotline/mediacore/audio"
)

// dir is an SDP media direction attribute (RFC 3264 §5.1, §6.1).
type dir int

const (
	dirSendRecv dir = iota
	dirSendOnly
	dirRecvOnly
	dirInactive
)

func (d dir) String() string {
	switch d {
	case dirSendOnly:
		return "sendonly"
	case dirRecvOnly:
		return "recvonly"
	case dirInactive:
		return "inactive"
	}
	return "sendrecv"
}

// answerDir is the direction an answerer takes for an offered direction
// when it has no restriction of its own (RFC 3264 §6.1): sendonly is
// answered recvonly and the reverse; inactive stays inactive.
func (d dir) answer() dir {
	switch d {
	case dirSendOnly:
		return dirRecvOnly
	case dirRecvOnly:
		return dirSendOnly
	}
	return d
}

// maxSDP bounds an SDP body: SIP over UDP carries well under 1300 bytes
// anyway (sipgo refuses more), a TCP peer may not make us parse megabytes.
const maxSDP = 8 << 10

// dtmfPTNone marks "no telephone-event negotiated".
const dtmfPTNone = 0xff

// defaultDTMFPT is the payload type we offer for telephone-event: 101 is
// what nearly every SIP device uses (any dynamic 96-127 is legal, RFC 4733
// §7.1.1).
const defaultDTMFPT = 101

// mediaOffer is what we take from the remote SDP for the one audio stream we
// use.
type mediaOffer struct {
	addr   netip.AddrPort
	codec  audio.Codec
	pt     uint8
	dtmfPT uint8 // dtmfPTNone if none
	dir    dir
	// hold is set when the remote address is 0.0.0.0 (RFC 2543 hold, still
	// sent by old phones; RFC 3264 §8.4 notes it).
	hold bool
	// audioIndex is the position of the accepted m= line; the answer must
	// keep every m= line in order, rejecting others with port 0 (RFC 3264
	// §6).
	audioIndex int
	mlines     []string // media type of every m= line, for the answer
	sessionID  uint64
}

// parseOffer parses an SDP offer or answer and picks the first audio stream
// over RTP/AVP with a codec we support, keeping the peer's preference: the
// first of its formats we know (RFC 3264 §6.1 lets the answerer choose; the
// offerer's order is its preference). It returns errNoCommonCodec when no
// such stream exists.
func parseOffer(body []byte) (mediaOffer, error) {
	var o mediaOffer
	if len(body) == 0 {
		return o, fmt.Errorf("%w: empty", errBadSDP)
	}
	if len(body) > maxSDP {
		return o, fmt.Errorf("%w: %d bytes", errBadSDP, len(body))
	}
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return o, fmt.Errorf("%w: %w", errBadSDP, err)
	}
	o.sessionID = s.Origin.SessionID
	sessDir := dirSendRecv
	for _, a := range s.Attributes {
		if d, ok := parseDir(a.Key); ok {
			sessDir = d
		}
	}
	found := false
	for i, md := range s.MediaDescriptions {
		o.mlines = append(o.mlines, md.MediaName.Media)
		if found || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 ||
			strings.Join(md.MediaName.Protos, "/") != "RTP/AVP" {
			continue
		}
		codec, pt, dtmfPT, ok := pickCodec(md)
		if !ok {
			continue
		}
		conn := md.ConnectionInformation
		if conn == nil {
			conn = s.ConnectionInformation
		}
		if conn == nil || conn.Address == nil {
			return o, fmt.Errorf("%w: no connection address", errBadSDP)
		}
		ip, err := netip.ParseAddr(conn.Address.Address)
		if err != nil {
			return o, fmt.Errorf("%w: connection address %q", errBadSDP, conn.Address.Address)
		}
		port := md.MediaName.Port.Value
		if port <= 0 || port > 65535 {
			return o, fmt.Errorf("%w: port %d", errBadSDP, port)
		}
		o.dir = sessDir
		for _, a := range md.Attributes {
			if d, ok := parseDir(a.Key); ok {
				o.dir = d
			}
		}
		o.hold = ip.IsUnspecified()
		o.addr = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		o.codec, o.pt, o.dtmfPT = codec, pt, dtmfPT
		o.audioIndex = i
		found = true
	}
	if !found {
		return o, errNoCommonCodec
	}
	return o, nil
}

func parseDir(key string) (dir, bool) {
	switch key {
	case "sendrecv":
		return dirSendRecv, true
	case "sendonly":
		return dirSendOnly, true
	case "recvonly":
		return dirRecvOnly, true
	case "inactive":
		return dirInactive, true
	}
	return 0, false
}

// pickCodec returns the first PCMU or PCMA format of md and its
// telephone-event/8000 payload type, if any. Static types 0 and 8 need no
// rtpmap (RFC 3551 §6); a dynamic one is recognised by its rtpmap.
func pickCodec(md *sdp.MediaDescription) (codec audio.Codec, pt, dtmfPT uint8, ok bool) {
	rtpmap := map[string]string{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		num, enc, found := strings.Cut(a.Value, " ")
		if found {
			rtpmap[num] = strings.ToLower(strings.TrimSpace(enc))
		}
	}
	dtmfPT = dtmfPTNone
	for _, f := range md.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		enc := rtpmap[f]
		switch {
		case enc == "telephone-event/8000" && dtmfPT == dtmfPTNone:
			dtmfPT = uint8(n)
		case !ok && (enc == "pcmu/8000" || (enc == "" && n == 0)):
			codec, pt, ok = audio.PCMU, uint8(n), true
		case !ok && (enc == "pcma/8000" || (enc == "" && n == 8)):
			codec, pt, ok = audio.PCMA, uint8(n), true
		}
	}
	return codec, pt, dtmfPT, ok
}

// sdpParams describe our side of a session description.
type sdpParams struct {
	sessionID, version uint64
	ip                 netip.Addr
	port               int
	// formats are the audio payload types in preference order with their
	// codecs; dtmfPT is added when not dtmfPTNone.
	codecs []codecPT
	dtmfPT uint8
	dir    dir
	// mlines/audioIndex: for an answer, the offer's m= lines (others are
	// answered with port 0, RFC 3264 §6); nil for an offer.
	mlines     []string
	audioIndex int
}

type codecPT struct {
	codec audio.Codec
	pt    uint8
}

// buildSDP renders our offer or answer.
func buildSDP(p sdpParams) ([]byte, error) {
	nettype := "IP4"
	if p.ip.Is6() && !p.ip.Is4In6() {
		nettype = "IP6"
	}
	ip := p.ip.Unmap().String()
	s := sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username: "hotline", SessionID: p.sessionID, SessionVersion: p.version,
			NetworkType: "IN", AddressType: nettype, UnicastAddress: ip,
		},
		SessionName: "hotline",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: nettype, Address: &sdp.Address{Address: ip},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
	audioMD := func() *sdp.MediaDescription {
		md := &sdp.MediaDescription{MediaName: sdp.MediaName{
			Media: "audio", Port: sdp.RangedPort{Value: p.port}, Protos: []string{"RTP", "AVP"},
		}}
		for _, c := range p.codecs {
			md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.pt)))
			md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/8000", c.pt, c.codec)))
		}
		if p.dtmfPT != dtmfPTNone {
			pt := strconv.Itoa(int(p.dtmfPT))
			md.MediaName.Formats = append(md.MediaName.Formats, pt)
			md.Attributes = append(md.Attributes,
				sdp.NewAttribute("rtpmap", pt+" telephone-event/8000"),
				sdp.NewAttribute("fmtp", pt+" 0-16"))
		}
		md.Attributes = append(md.Attributes,
			sdp.NewAttribute("ptime", "20"),
			sdp.NewPropertyAttribute(p.dir.String()))
		return md
	}
	if p.mlines == nil {
		s.MediaDescriptions = []*sdp.MediaDescription{audioMD()}
	} else {
		for i, kind := range p.mlines {
			if i == p.audioIndex {
				s.MediaDescriptions = append(s.MediaDescriptions, audioMD())
				continue
			}
			if !isToken(kind) {
				kind = "unknown"
			}
			s.MediaDescriptions = append(s.MediaDescriptions, &sdp.MediaDescription{MediaName: sdp.MediaName{
				Media: kind, Port: sdp.RangedPort{Value: 0}, Protos: []string{"RTP", "AVP"}, Formats: []string{"0"},
			}})
		}
	}
	return s.Marshal()
}

// isToken reports whether s is a safe SDP token (letters, digits, '-').
func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// offerCodecs is what we offer when we originate or re-INVITE without an
// earlier negotiation: PCMU then PCMA (RFC 3551 static types).
var offerCodecs = []codecPT{{audio.PCMU, 0}, {audio.PCMA, 8}}

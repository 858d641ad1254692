package audio

import "time"

// SampleRate is the telephony sample rate, in Hz, every frame in this package
// uses unless stated otherwise.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms frame at [SampleRate]:
// the packetization interval of PCMU/PCMA (RFC 3551 §4.5).
const FrameSamples = 160

// FrameDuration is the duration of one frame of [FrameSamples] samples.
const FrameDuration = 20 * time.Millisecond

// G.711 constants from ITU-T G.711 and its reference implementation: µ-law
// works on a 14-bit magnitude with a bias of 33 (0x84 at 16-bit scale),
// A-law on a 13-bit magnitude.
const (
	ulawBias = 0x84
	ulawClip = 8159 // largest 14-bit magnitude µ-law can code
)

// Decode and encode tables. They are filled once at package init and only
// read afterwards. Encoding is a table lookup on the top 14 (µ-law) or 13
// (A-law) bits, which are all G.711 looks at.
var (
	ulawToLinear [256]int16
	alawToLinear [256]int16
	linearToUlaw [1 << 14]byte
	linearToAlaw [1 << 13]byte
)

func init() {
	for i := range 256 {
		ulawToLinear[i] = ulawDecodeSample(byte(i))
		alawToLinear[i] = alawDecodeSample(byte(i))
	}
	for i := range linearToUlaw {
		// Index i is the 16-bit sample's top 14 bits, read unsigned.
		linearToUlaw[i] = ulawEncodeSample(int16(uint16(i) << 2))
	}
	for i := range linearToAlaw {
		linearToAlaw[i] = alawEncodeSample(int16(uint16(i) << 3))
	}
}

// ulawDecodeSample expands one µ-law byte (G.711 Table 2, bits inverted).
func ulawDecodeSample(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + ulawBias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

// ulawEncodeSample compresses one linear sample to µ-law: segment search on
// the biased 14-bit magnitude, 4 mantissa bits, all bits inverted.
func ulawEncodeSample(s int16) byte {
	v := int(s) >> 2
	mask := byte(0xFF)
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias >> 2
	seg := 0
	for end := 0x3F; seg < 8 && v > end; end = end<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return (byte(seg<<4) | byte((v>>(seg+1))&0x0F)) ^ mask
}

// alawDecodeSample expands one A-law byte (G.711 Table 1, even bits
// inverted).
func alawDecodeSample(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// alawEncodeSample compresses one linear sample to A-law on its 13-bit
// magnitude.
func alawEncodeSample(s int16) byte {
	v := int(s) >> 3
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for end := 0x1F; seg < 8 && v > end; end = end<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte((v >> 1) & 0x0F)
	} else {
		a |= byte((v >> seg) & 0x0F)
	}
	return a ^ mask
}

// UlawToLinear returns the linear value of one µ-law byte.
func UlawToLinear(u byte) int16 { return ulawToLinear[u] }

// LinearToUlaw returns the µ-law byte for one linear sample.
func LinearToUlaw(s int16) byte { return linearToUlaw[uint16(s)>>2] }

// AlawToLinear returns the linear value of one A-law byte.
func AlawToLinear(a byte) int16 { return alawToLinear[a] }

// LinearToAlaw returns the A-law byte for one linear sample.
func LinearToAlaw(s int16) byte { return linearToAlaw[uint16(s)>>3] }

// DecodeUlaw expands µ-law bytes from src into dst and returns the number of
// samples written: min(len(dst), len(src)). It allocates nothing.
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, b := range src {
		dst[i] = ulawToLinear[b]
	}
	return n
}

// EncodeUlaw compresses linear samples from src into µ-law bytes in dst and
// returns the number of bytes written: min(len(dst), len(src)).
func EncodeUlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = linearToUlaw[uint16(s)>>2]
	}
	return n
}

// DecodeAlaw expands A-law bytes from src into dst and returns the number of
// samples written: min(len(dst), len(src)).
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, b := range src {
		dst[i] = alawToLinear[b]
	}
	return n
}

// EncodeAlaw compresses linear samples from src into A-law bytes in dst and
// returns the number of bytes written: min(len(dst), len(src)).
func EncodeAlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = linearToAlaw[uint16(s)>>3]
	}
	return n
}

// Codec names a G.711 variant by its static RTP payload type (RFC 3551 §6,
// Table 4): PCMU is 0, PCMA is 8.
type Codec uint8

const (
	// PCMU is G.711 µ-law, static payload type 0.
	PCMU Codec = 0
	// PCMA is G.711 A-law, static payload type 8.
	PCMA Codec = 8
)

// CodecByName returns the codec for an SDP rtpmap encoding name ("PCMU" or
// "PCMA", case-insensitive as RFC 4566 §6 asks).
func CodecByName(name string) (Codec, bool) {
	switch {
	case equalFold(name, "PCMU"):
		return PCMU, true
	case equalFold(name, "PCMA"):
		return PCMA, true
	}
	return 0, false
}

// equalFold compares ASCII strings case-insensitively without importing
// strings for one call.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// PayloadType returns the static RTP payload type of c.
func (c Codec) PayloadType() uint8 { return uint8(c) }

// Valid reports whether c is PCMU or PCMA.
func (c Codec) Valid() bool { return c == PCMU || c == PCMA }

// String returns the SDP encoding name ("PCMU", "PCMA").
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "unknown"
}

// Encode compresses src into dst (one byte per sample) and returns the bytes
// written. A codec other than PCMA encodes as PCMU; check Valid first when the
// value comes from outside.
func (c Codec) Encode(dst []byte, src []int16) int {
	if c == PCMA {
		return EncodeAlaw(dst, src)
	}
	return EncodeUlaw(dst, src)
}

// Decode expands src into dst and returns the samples written. A codec other
// than PCMA decodes as PCMU.
func (c Codec) Decode(dst []int16, src []byte) int {
	if c == PCMA {
		return DecodeAlaw(dst, src)
	}
	return DecodeUlaw(dst, src)
}

// SilenceByte returns the encoded value of linear zero: 0xFF for PCMU, 0xD5
// for PCMA. Useful to fill a lost frame without decoding.
func (c Codec) SilenceByte() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}

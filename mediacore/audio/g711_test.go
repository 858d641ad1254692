package audio

import (
	"math"
	"testing"
)

func TestG711KnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		// Values from the ITU-T G.711 reference implementation.
		{"ulaw decode 0xFF", int(UlawToLinear(0xFF)), 0},
		{"ulaw decode 0x7F (negative zero)", int(UlawToLinear(0x7F)), 0},
		{"ulaw decode 0x00", int(UlawToLinear(0x00)), -32124},
		{"ulaw decode 0x80", int(UlawToLinear(0x80)), 32124},
		{"ulaw decode 0xF0", int(UlawToLinear(0xF0)), 120},
		{"ulaw decode 0x70", int(UlawToLinear(0x70)), -120},
		{"ulaw encode 0", int(LinearToUlaw(0)), 0xFF},
		{"ulaw encode -1", int(LinearToUlaw(-1)), 0x7E}, // reference rounds -1 to -8
		{"ulaw encode max", int(LinearToUlaw(math.MaxInt16)), 0x80},
		{"ulaw encode min", int(LinearToUlaw(math.MinInt16)), 0x00},
		{"ulaw encode 1000", int(LinearToUlaw(1000)), 0xCE},
		{"alaw decode 0xD5", int(AlawToLinear(0xD5)), 8},
		{"alaw decode 0x55", int(AlawToLinear(0x55)), -8},
		{"alaw decode 0xAA", int(AlawToLinear(0xAA)), 32256},
		{"alaw decode 0x2A", int(AlawToLinear(0x2A)), -32256},
		{"alaw encode 0", int(LinearToAlaw(0)), 0xD5},
		{"alaw encode -1", int(LinearToAlaw(-1)), 0x55},
		{"alaw encode max", int(LinearToAlaw(math.MaxInt16)), 0xAA},
		{"alaw encode min", int(LinearToAlaw(math.MinInt16)), 0x2A},
		{"alaw encode 1000", int(LinearToAlaw(1000)), 0xFA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %d (0x%X), want %d (0x%X)", tt.got, tt.got, tt.want, tt.want)
			}
		})
	}
}

func TestG711ByteRoundTrip(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		// 0x7F is µ-law's negative zero: it decodes to 0, which encodes as 0xFF.
		if b != 0x7F {
			if got := LinearToUlaw(UlawToLinear(b)); got != b {
				t.Errorf("ulaw 0x%02X -> %d -> 0x%02X", b, UlawToLinear(b), got)
			}
		}
		if got := LinearToAlaw(AlawToLinear(b)); got != b {
			t.Errorf("alaw 0x%02X -> %d -> 0x%02X", b, AlawToLinear(b), got)
		}
	}
}

// TestG711Monotonic checks that encoding then decoding every 16-bit value is
// monotonic and stays within the coarsest quantization step, which catches a
// wrong segment or mantissa anywhere in the tables.
func TestG711Monotonic(t *testing.T) {
	codecs := []struct {
		name    string
		enc     func(int16) byte
		dec     func(byte) int16
		maxStep int
	}{
		{"ulaw", LinearToUlaw, UlawToLinear, 1024},
		{"alaw", LinearToAlaw, AlawToLinear, 1024},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			prev := -1 << 20
			for s := math.MinInt16; s <= math.MaxInt16; s++ {
				got := int(c.dec(c.enc(int16(s))))
				if got < prev {
					t.Fatalf("not monotonic at %d: %d after %d", s, got, prev)
				}
				prev = got
				diff := got - s
				if diff < 0 {
					diff = -diff
				}
				if diff > c.maxStep {
					t.Fatalf("sample %d decoded as %d: error %d", s, got, diff)
				}
				// Small values must be coded finely (segment 0 step is 2 or 16 at 16-bit scale).
				if s > -64 && s < 64 && diff > 16 {
					t.Fatalf("small sample %d decoded as %d", s, got)
				}
			}
		})
	}
}

func TestCodecSlices(t *testing.T) {
	src := make([]int16, FrameSamples)
	for i := range src {
		src[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/SampleRate))
	}
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			enc := make([]byte, FrameSamples)
			if n := c.Encode(enc, src); n != FrameSamples {
				t.Fatalf("Encode wrote %d", n)
			}
			dec := make([]int16, FrameSamples)
			if n := c.Decode(dec, enc); n != FrameSamples {
				t.Fatalf("Decode wrote %d", n)
			}
			for i := range src {
				d := int(dec[i]) - int(src[i])
				if d < -300 || d > 300 {
					t.Fatalf("sample %d: %d -> %d", i, src[i], dec[i])
				}
			}
			if !HasTone(dec, SampleRate, 1000) {
				t.Fatal("1 kHz lost through the codec")
			}
			// Short destination: only min(len) is written.
			if n := c.Encode(enc[:10], src); n != 10 {
				t.Fatalf("short Encode wrote %d", n)
			}
			if got := c.Decode(dec[:1], []byte{c.SilenceByte()}); got != 1 || dec[0] > 8 || dec[0] < -8 {
				t.Fatalf("silence byte decodes to %d", dec[0])
			}
		})
	}
}

func TestCodecNames(t *testing.T) {
	tests := []struct {
		name string
		want Codec
		ok   bool
	}{
		{"PCMU", PCMU, true}, {"pcma", PCMA, true}, {"Pcmu", PCMU, true}, {"G729", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CodecByName(tt.name)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("CodecByName(%q) = %v, %v", tt.name, got, ok)
			}
		})
	}
	if PCMU.PayloadType() != 0 || PCMA.PayloadType() != 8 || !PCMA.Valid() || Codec(3).Valid() {
		t.Fatal("payload types wrong")
	}
}

func TestCodecZeroAllocs(t *testing.T) {
	src := make([]int16, FrameSamples)
	enc := make([]byte, FrameSamples)
	allocs := testing.AllocsPerRun(100, func() {
		PCMU.Encode(enc, src)
		PCMA.Decode(src, enc)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per frame", allocs)
	}
}

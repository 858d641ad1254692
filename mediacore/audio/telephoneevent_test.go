package audio

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestTelephoneEventMarshal(t *testing.T) {
	tests := []struct {
		name string
		ev   TelephoneEvent
		wire []byte
	}{
		{"digit 5 start", TelephoneEvent{Event: 5, Volume: 10, Duration: 160}, []byte{5, 10, 0, 160}},
		{"# end", TelephoneEvent{Event: 11, End: true, Volume: 63, Duration: 800}, []byte{11, 0xBF, 0x03, 0x20}},
		{"max duration", TelephoneEvent{Event: 15, Duration: 0xFFFF}, []byte{15, 0, 0xFF, 0xFF}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b [4]byte
			if n := tt.ev.MarshalTo(b[:]); n != 4 || !bytes.Equal(b[:], tt.wire) {
				t.Fatalf("MarshalTo = %d %x, want %x", n, b, tt.wire)
			}
			var got TelephoneEvent
			if err := got.Unmarshal(tt.wire); err != nil || got != tt.ev {
				t.Fatalf("Unmarshal = %+v, %v", got, err)
			}
		})
	}
	var ev TelephoneEvent
	if err := ev.Unmarshal([]byte{1, 2, 3}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("short payload: %v", err)
	}
	if n := ev.MarshalTo(make([]byte, 3)); n != 0 {
		t.Fatal("MarshalTo into short buffer")
	}
	// The R bit is ignored on receipt and volume keeps 6 bits.
	if err := ev.Unmarshal([]byte{1, 0x7F, 0, 0}); err != nil || ev.Volume != 63 || ev.End {
		t.Fatalf("R bit: %+v", ev)
	}
}

func TestDigitEventMapping(t *testing.T) {
	digits := "0123456789*#ABCD"
	for i, d := range digits {
		t.Run(string(d), func(t *testing.T) {
			code, ok := DigitToEvent(d)
			if !ok || int(code) != i {
				t.Fatalf("DigitToEvent(%q) = %d, %v", d, code, ok)
			}
			back, ok := EventToDigit(code)
			if !ok || back != d {
				t.Fatalf("EventToDigit(%d) = %q", code, back)
			}
		})
	}
	if c, ok := DigitToEvent('c'); !ok || c != 14 {
		t.Fatal("lower-case c")
	}
	for _, bad := range []rune{'E', 'x', ' ', '%'} {
		if _, ok := DigitToEvent(bad); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
	if _, ok := EventToDigit(16); ok {
		t.Fatal("flash (16) is not a digit")
	}
}

// sendDigit returns the packets a DTMFSender makes for digit.
func sendDigit(t *testing.T, digit rune, ts uint32, d time.Duration) []DTMFPacket {
	t.Helper()
	var s DTMFSender
	if err := s.Start(digit, ts, d, DefaultDTMFVolume); err != nil {
		t.Fatal(err)
	}
	var out []DTMFPacket
	for {
		p, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, p)
		if len(out) > 1000 {
			t.Fatal("sender never ends")
		}
	}
}

func TestDTMFSender(t *testing.T) {
	pk := sendDigit(t, '7', 12345, 100*time.Millisecond)
	// 100 ms = 800 samples: 160, 320, 480, 640, then 800 with E three times.
	wantDur := []uint16{160, 320, 480, 640, 800, 800, 800}
	if len(pk) != len(wantDur) {
		t.Fatalf("%d packets, want %d", len(pk), len(wantDur))
	}
	for i, p := range pk {
		if p.Timestamp != 12345 || p.Event.Event != 7 || p.Event.Volume != DefaultDTMFVolume {
			t.Fatalf("packet %d: %+v", i, p)
		}
		if p.Marker != (i == 0) {
			t.Fatalf("packet %d marker %v", i, p.Marker)
		}
		if p.Event.Duration != wantDur[i] {
			t.Fatalf("packet %d duration %d", i, p.Event.Duration)
		}
		if p.Event.End != (i >= 4) {
			t.Fatalf("packet %d end %v", i, p.Event.End)
		}
	}
	// A 50 ms digit rounds up to three packets' worth.
	if pk := sendDigit(t, '1', 0, 50*time.Millisecond); pk[len(pk)-1].Event.Duration != 480 || len(pk) != 5 {
		t.Fatalf("50 ms: %+v", pk)
	}
	// Very long digits cap at what 16 bits can say.
	if pk := sendDigit(t, '1', 0, 20*time.Second); pk[len(pk)-1].Event.Duration != 65440 {
		t.Fatalf("long digit ends at %d", pk[len(pk)-1].Event.Duration)
	}
	if pk := sendDigit(t, '#', 0, 0); len(pk) != 7 {
		t.Fatalf("default duration: %d packets", len(pk))
	}
	var s DTMFSender
	if _, ok := s.Next(); ok || s.Active() {
		t.Fatal("zero sender not idle")
	}
	if err := s.Start('x', 0, 0, 10); !errors.Is(err, ErrUnknownDigit) {
		t.Fatalf("bad digit: %v", err)
	}
	if err := s.Start('1', 0, 0, 64); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad volume: %v", err)
	}
	if err := s.Start('1', 0, -time.Second, 10); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative duration: %v", err)
	}
}

type rxPacket struct {
	ts      uint32
	marker  bool
	payload []byte
}

func toRx(pk []DTMFPacket) []rxPacket {
	out := make([]rxPacket, len(pk))
	for i, p := range pk {
		b := make([]byte, 4)
		p.Event.MarshalTo(b)
		out[i] = rxPacket{p.Timestamp, p.Marker, b}
	}
	return out
}

func TestDTMFReceiver(t *testing.T) {
	d1 := toRx(sendDigit(t, '1', 1000, 100*time.Millisecond))
	d1again := toRx(sendDigit(t, '1', 3000, 100*time.Millisecond))
	d2 := toRx(sendDigit(t, '2', 5000, 100*time.Millisecond))
	wrapA := toRx(sendDigit(t, '9', 0xFFFFFF00, 60*time.Millisecond))
	wrapB := toRx(sendDigit(t, '#', 0x00000200, 60*time.Millisecond))
	cat := func(parts ...[]rxPacket) []rxPacket {
		var out []rxPacket
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		packets []rxPacket
		want    string
	}{
		{"one digit, every packet", d1, "1"},
		{"same digit twice", cat(d1, d1again), "11"},
		{"two digits", cat(d1, d2), "12"},
		{"start lost", d1[1:], "1"},
		{"same digit again, its start lost", cat(d1, d1again[1:]), "11"},
		{"same digit again, ends of the first all lost", cat(d1[:4], d1again), "11"},
		{"all but the end lost", d1[:1], "1"},
		{"only an end packet", d1[5:6], "1"},
		{"duplicated packets", cat(d1[:3], d1[:3], d1[3:], d1), "1"},
		{"late packet of previous digit", cat(d1[:2], d2[:2], d1[2:], d2[2:]), "12"},
		{"timestamp wrap", cat(wrapA, wrapB), "9#"},
		{"long event segments", cat(
			[]rxPacket{{100, true, []byte{4, 10, 0xFF, 0xFF}}},
			[]rxPacket{{100 + 0xFFFF, false, []byte{4, 10, 0x01, 0x00}}},
			[]rxPacket{{100 + 0xFFFF, false, []byte{4, 0x8A, 0x02, 0x00}}},
		), "4"},
		{"jump far back is a new stream", cat(d2, toRx(sendDigit(t, '3', 0xFFFFFFFF-195000, 60*time.Millisecond))[1:]), "23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r DTMFReceiver
			var got []rune
			for _, p := range tt.packets {
				d, ok, err := r.Receive(p.ts, p.marker, p.payload)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, d.Digit)
				}
			}
			if string(got) != tt.want {
				t.Fatalf("digits %q, want %q", string(got), tt.want)
			}
		})
	}
	var r DTMFReceiver
	if _, _, err := r.Receive(0, true, []byte{1}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("short: %v", err)
	}
	if _, _, err := r.Receive(0, true, []byte{16, 0, 0, 0}); !errors.Is(err, ErrUnknownDigit) {
		t.Fatalf("flash: %v", err)
	}
	_, _, _ = r.Receive(50, true, []byte{1, 0, 0, 160})
	r.Reset()
	if d, ok, _ := r.Receive(50, true, []byte{1, 0, 0, 160}); !ok || d.Digit != '1' || d.Timestamp != 50 {
		t.Fatal("Reset did not forget the event")
	}
}

func TestDTMFSenderZeroAllocs(t *testing.T) {
	var s DTMFSender
	var b [4]byte
	a := testing.AllocsPerRun(100, func() {
		_ = s.Start('5', 0, 0, 10)
		for {
			p, ok := s.Next()
			if !ok {
				break
			}
			p.Event.MarshalTo(b[:])
		}
	})
	if a != 0 {
		t.Fatalf("%v allocs", a)
	}
}

func FuzzTelephoneEvent(f *testing.F) {
	f.Add([]byte{5, 10, 0, 160}, uint32(0), true)
	f.Add([]byte{11, 0xBF, 0x03, 0x20}, uint32(0xFFFFFFFF), false)
	f.Add([]byte{16, 0, 0, 0}, uint32(7), true)
	f.Add([]byte{1, 2}, uint32(1), false)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint32(1), false)
	f.Fuzz(func(t *testing.T, payload []byte, ts uint32, marker bool) {
		var ev TelephoneEvent
		err := ev.Unmarshal(payload)
		if err != nil {
			if !errors.Is(err, ErrShortPayload) || len(payload) >= 4 {
				t.Fatalf("unexpected error %v for %d bytes", err, len(payload))
			}
			return
		}
		// Re-marshal: equal except the R bit, which is dropped.
		var b [4]byte
		ev.MarshalTo(b[:])
		want := [4]byte{payload[0], payload[1] &^ 0x40, payload[2], payload[3]}
		if b != want {
			t.Fatalf("round trip %x -> %x", payload[:4], b)
		}
		// A receiver fed the same packet twice reports at most once.
		var r DTMFReceiver
		_, ok1, err1 := r.Receive(ts, marker, payload)
		_, ok2, _ := r.Receive(ts, marker, payload)
		if ok2 {
			t.Fatal("duplicate reported twice")
		}
		if _, isDigit := EventToDigit(payload[0]); isDigit != (err1 == nil) || (err1 == nil && !ok1) {
			t.Fatalf("digit %v, err %v, ok %v", isDigit, err1, ok1)
		}
	})
}

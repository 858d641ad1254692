package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func tones(freqs ...float64) []int16 {
	out := make([]int16, 8000)
	for i := range out {
		v := 0.0
		for _, f := range freqs {
			v += 6000 * math.Sin(2*math.Pi*f*float64(i)/8000)
		}
		out[i] = int16(v)
	}
	return out
}

func TestCheckChannels(t *testing.T) {
	const caller, callee = 1000.0, 400.0
	tests := []struct {
		name        string
		left, right []int16
		ok          bool
	}{
		{"each party in its channel", tones(caller), tones(callee), true},
		{"channels swapped", tones(callee), tones(caller), false},
		{"both parties in both channels", tones(caller, callee), tones(caller, callee), false},
		{"callee leaks into the left channel", tones(caller, callee), tones(callee), false},
		{"caller leaks into the right channel", tones(caller), tones(callee, caller), false},
		{"right channel silent", tones(caller), make([]int16, 8000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkChannels(tt.left, tt.right, caller, callee)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, errRecordingChannels) {
				t.Errorf("err %v is not errRecordingChannels", err)
			}
		})
	}
}

// TestCheckrecs drives the checkrecs subcommand over raw interleaved files
// (Asterisk MixMonitor's D option): a right recording passes, crossed
// channels fail.
func TestCheckrecs(t *testing.T) {
	const caller, callee = 1000.0, 400.0
	write := func(name string, left, right []int16) string {
		b := make([]byte, 0, 4*len(left))
		for i := range left {
			b = binary.LittleEndian.AppendUint16(b, uint16(left[i]))
			b = binary.LittleEndian.AppendUint16(b, uint16(right[i]))
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := func(f float64) []int16 { return slices.Repeat(tones(f), 3) }
	good := write("good.raw", long(caller), long(callee))
	crossed := write("crossed.raw", long(callee), long(caller))
	var out, errOut bytes.Buffer
	if rc := checkrecsMain([]string{"-raw", good, crossed}, &out, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	if got := strings.TrimSpace(out.String()); got != "rec_ok=1 rec_bad=1" {
		t.Errorf("got %q, want rec_ok=1 rec_bad=1 (stderr %s)", got, errOut.String())
	}
}

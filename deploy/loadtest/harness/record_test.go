package main

import (
	"errors"
	"math"
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

package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"hotline/mediacore/audio"
)

// checkRecording looks at a finished stereo recording: at a quarter, half
// and three quarters of its length, one second of the left channel must
// hold the caller's tone and not the callee's, and the same second of the
// right channel the callee's and not the caller's (Goertzel,
// checkChannels). That shows RTP from both SIPp sides
// reached the core for the whole call and went into the right channel,
// which the relay path alone cannot show when recording is on (the mixer
// sends a frame every tick, silence included).
func (h *harness) checkRecording(path string) {
	defer h.removeRecording(path)
	if !h.cfg.checkRecs {
		return
	}
	left, right, err := readStereoWAV(path)
	if err != nil {
		h.c.recErr.Add(1)
		h.log.Warn("recording unreadable", "path", path, "err", err)
		return
	}
	h.c.recCheckedSecs.Add(int64(len(left) / 8000))
	if err := checkStereo(left, right, h.cfg.callerTone, h.cfg.calleeTone); err != nil {
		h.c.recBad.Add(1)
		h.log.Warn("recording wrong", "path", path, "err", err)
		return
	}
	h.c.recOK.Add(1)
}

// checkStereo checks a whole stereo recording at a quarter, half and three
// quarters of its length (checkChannels on one second each).
func checkStereo(left, right []int16, callerTone, calleeTone float64) error {
	const rate = 8000
	n := len(left)
	if n < rate || len(right) != n {
		return fmt.Errorf("%w: %d samples, too short", errRecordingChannels, n)
	}
	for _, at := range []int{n / 4, n / 2, 3 * n / 4} {
		lo := min(max(at-rate/2, 0), n-rate)
		l, r := left[lo:lo+rate], right[lo:lo+rate]
		if err := checkChannels(l, r, callerTone, calleeTone); err != nil {
			return fmt.Errorf("second %d (left %.1f dBm0, right %.1f dBm0): %w", lo/rate, audio.LevelDBm0(l), audio.LevelDBm0(r), err)
		}
	}
	return nil
}

// maxLeak is the largest share of a channel's energy the other party's
// tone may have: a channel holding both parties (a mono mix, or the
// channels crossed in the mixer) fails.
const maxLeak = 0.05

// checkChannels requires the caller's tone, and not the callee's, in the
// left channel, and the reverse in the right one.
func checkChannels(left, right []int16, callerTone, calleeTone float64) error {
	const rate = 8000
	switch {
	case !audio.HasTone(left, rate, callerTone):
		return fmt.Errorf("%w: left channel lacks the caller's %v Hz", errRecordingChannels, callerTone)
	case !audio.HasTone(right, rate, calleeTone):
		return fmt.Errorf("%w: right channel lacks the callee's %v Hz", errRecordingChannels, calleeTone)
	}
	if r := audio.ToneRatio(left, rate, calleeTone); r > maxLeak {
		return fmt.Errorf("%w: left channel holds the callee's %v Hz (%.2f of its energy)", errRecordingChannels, calleeTone, r)
	}
	if r := audio.ToneRatio(right, rate, callerTone); r > maxLeak {
		return fmt.Errorf("%w: right channel holds the caller's %v Hz (%.2f of its energy)", errRecordingChannels, callerTone, r)
	}
	return nil
}

var errRecordingChannels = errors.New("recording channels")

var errNotStereoWAV = errors.New("not a 16-bit stereo WAV")

// readStereoWAV reads a RIFF/WAVE file of 16-bit little-endian stereo PCM
// and returns its two channels. Only what the recorder writes is accepted.
func readStereoWAV(path string) (left, right []int16, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, nil, fmt.Errorf("%w: no RIFF/WAVE header", errNotStereoWAV)
	}
	var data []byte
	stereo16 := false
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := b[p+8:]
		if size > len(body) {
			size = len(body) // a header not yet rewritten: take what is there
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) >= 16 {
				stereo16 = binary.LittleEndian.Uint16(body[2:4]) == 2 && binary.LittleEndian.Uint16(body[14:16]) == 16
			}
		case "data":
			data = body
		}
		p += 8 + size + size&1
	}
	if !stereo16 || data == nil {
		return nil, nil, errNotStereoWAV
	}
	left, right = splitStereo(data)
	return left, right, nil
}

// splitStereo splits interleaved 16-bit little-endian stereo samples.
func splitStereo(data []byte) (left, right []int16) {
	frames := len(data) / 4
	left = make([]int16, frames)
	right = make([]int16, frames)
	for i := range frames {
		left[i] = int16(binary.LittleEndian.Uint16(data[4*i:]))
		right[i] = int16(binary.LittleEndian.Uint16(data[4*i+2:]))
	}
	return left, right
}

// checkrecsMain is the checkrecs subcommand: it checks stereo recordings
// another system made in the same load test (FreeSWITCH's stereo WAV,
// Asterisk MixMonitor's interleaved raw stream with -raw) the way serve
// checks its own, and prints "rec_ok=N rec_bad=M". Exit status 1 when a
// file is unreadable.
func checkrecsMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checkrecs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := fs.Bool("raw", false, "files are headerless interleaved 16-bit little-endian stereo at 8 kHz")
	callerTone := fs.Float64("caller-tone", 1000, "tone (Hz) expected on the left channel")
	calleeTone := fs.Float64("callee-tone", 400, "tone (Hz) expected on the right channel")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ok, bad, status := 0, 0, 0
	for _, path := range fs.Args() {
		var left, right []int16
		var err error
		if *raw {
			var b []byte
			if b, err = os.ReadFile(path); err == nil {
				left, right = splitStereo(b)
			}
		} else {
			left, right, err = readStereoWAV(path)
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			status = 1
			continue
		}
		if err := checkStereo(left, right, *callerTone, *calleeTone); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			bad++
			continue
		}
		ok++
	}
	fmt.Fprintf(stdout, "rec_ok=%d rec_bad=%d\n", ok, bad)
	return status
}

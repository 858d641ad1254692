package main

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	const rate = 8000
	n := len(left)
	h.c.recCheckedSecs.Add(int64(n / rate))
	if n < rate {
		h.c.recBad.Add(1)
		h.log.Warn("recording too short", "path", path, "samples", n)
		return
	}
	for _, at := range []int{n / 4, n / 2, 3 * n / 4} {
		lo := min(max(at-rate/2, 0), n-rate)
		l, r := left[lo:lo+rate], right[lo:lo+rate]
		if err := checkChannels(l, r, h.cfg.callerTone, h.cfg.calleeTone); err != nil {
			h.c.recBad.Add(1)
			h.log.Warn("recording channels wrong", "path", path, "second", lo/rate, "err", err,
				"left_dbm0", audio.LevelDBm0(l), "right_dbm0", audio.LevelDBm0(r))
			return
		}
	}
	h.c.recOK.Add(1)
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
	frames := len(data) / 4
	left = make([]int16, frames)
	right = make([]int16, frames)
	for i := range frames {
		left[i] = int16(binary.LittleEndian.Uint16(data[4*i:]))
		right[i] = int16(binary.LittleEndian.Uint16(data[4*i+2:]))
	}
	return left, right, nil
}

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
// hold the caller's tone and the same second of the right channel the
// callee's (Goertzel, audio.HasTone). That shows RTP from both SIPp sides
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
		if !audio.HasTone(l, rate, h.cfg.callerTone) || !audio.HasTone(r, rate, h.cfg.calleeTone) {
			h.c.recBad.Add(1)
			h.log.Warn("recording lacks a tone", "path", path, "second", lo/rate,
				"left_dbm0", audio.LevelDBm0(l), "right_dbm0", audio.LevelDBm0(r))
			return
		}
	}
	h.c.recOK.Add(1)
}

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

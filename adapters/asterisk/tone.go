package asterisk

import (
	"strconv"
	"strings"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// Tones as files. Asterisk 22.10 plays a "tone:" URI on a channel through
// ast_control_tone, which reads the channel with ast_read_noaudio: the
// caller's audio is dropped before the channel's audiohooks see it, so
// the "in" direction of every snoop on the channel is silent while the
// tone plays (measured -Inf dBm0; a RecordBoth recording held the prompt
// only). A file ("sound:") plays through ast_waitstream, which reads the
// channel normally: the snoops keep hearing the caller (measured, bridged
// or not). So while a recording hears a channel's "in" direction, tones
// played to that channel are rendered here as WAV files and served by the
// prompt server; otherwise they stay tone: URIs (nothing to fetch).
//
// (Playing the tone through a second snoop channel that whispers into the
// recorded one keeps the caller too, but no snoop hears it: audiohook.c
// hands a written frame to the spies before it mixes the whisperers in,
// so the recording lacked the prompt.)

const (
	// toneLevel is each frequency's level: Asterisk's playtones default
	// (amplitude 7219, measured -10.0 dBm0), so a rendered tone sounds
	// like the tone: URI it replaces.
	toneLevel = -10.0
	// maxToneSegment bounds a rendered file (160 KB): a longer tone
	// plays a segment of whole cadence cycles again until its duration
	// is over (see waitItem).
	maxToneSegment = 10 * time.Second
	// maxToneCycle bounds the segment of a tone whose cadence cycle is
	// longer than maxToneSegment (its cadence restarts after it).
	maxToneCycle = time.Minute
	// maxTones bounds the rendered files the prompt server keeps (the
	// least recently used goes; Asterisk has fetched it by then).
	maxTones = 32
)

// toneFreqs rounds a tone's frequencies to whole hertz, as the tone: URI
// does (and so a second of a steady tone is whole periods of each),
// within (0, 4000) as audio.NewToneSource wants them.
func toneFreqs(t mediacore.Tone) []int {
	fs := make([]int, len(t.Freqs))
	for i, f := range t.Freqs {
		fs[i] = min(max(int(f+0.5), 1), audio.SampleRate/2-1)
	}
	return fs
}

// toneSegment is the length of the file that plays t for d: all of d
// when it is at most maxToneSegment, else the most whole cadence cycles
// (whole seconds for a steady tone) that fit, played again until d is
// over.
func toneSegment(t mediacore.Tone, d time.Duration) time.Duration {
	if d <= maxToneSegment {
		return d
	}
	cycle := time.Second
	if t.On > 0 && t.Off > 0 {
		cycle = t.On + t.Off
	}
	if cycle >= maxToneSegment {
		return min(cycle, maxToneCycle)
	}
	return maxToneSegment / cycle * cycle
}

// toneName names the file of t rendered for length; the name says
// everything the audio depends on, so a name is always the same audio
// (Asterisk's media cache may keep it by URL).
func toneName(t mediacore.Tone, length time.Duration) string {
	fs := toneFreqs(t)
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = strconv.Itoa(f)
	}
	on, off := t.On, t.Off
	if on <= 0 || off <= 0 {
		on, off = 0, 0 // steady
	}
	return "t" + strings.Join(parts, "_") + "-" + strconv.FormatInt(on.Milliseconds(), 10) + "-" +
		strconv.FormatInt(off.Milliseconds(), 10) + "-" + strconv.FormatInt(length.Milliseconds(), 10) + ".wav"
}

// renderTone writes length of t (from the start of its cadence) as a
// 16-bit 8 kHz mono WAV, what Asterisk's format_wav plays.
func renderTone(t mediacore.Tone, length time.Duration) ([]byte, error) {
	fs := toneFreqs(t)
	at := audio.Tone{Level: toneLevel}
	for _, f := range fs {
		at.Freqs = append(at.Freqs, float64(f))
	}
	if t.On > 0 && t.Off > 0 {
		at.Cadence = []time.Duration{t.On, t.Off}
	}
	src, err := audio.NewToneSource(at)
	if err != nil {
		return nil, err
	}
	n := int((int64(length)*audio.SampleRate + int64(time.Second)/2) / int64(time.Second))
	samples := make([]int16, n)
	for i := 0; i < n; i += audio.FrameSamples {
		if _, err := src.ReadFrame(samples[i:min(i+audio.FrameSamples, n)]); err != nil {
			return nil, err
		}
	}
	return audio.EncodeWAV(samples, audio.SampleRate)
}

package audio

import "errors"

// ErrNotWAV is returned when a stream does not start with a RIFF/WAVE header.
var ErrNotWAV = errors.New("audio: not a RIFF/WAVE stream")

// ErrMalformedWAV is returned for a WAV stream whose chunks are truncated or
// inconsistent (a fmt chunk too short, no data chunk, a bad block alignment).
var ErrMalformedWAV = errors.New("audio: malformed WAV")

// ErrUnsupportedFormat is returned for a WAV encoding other than 16-bit PCM,
// G.711 A-law (format tag 6) or G.711 µ-law (format tag 7).
var ErrUnsupportedFormat = errors.New("audio: unsupported WAV format")

// ErrUnsupportedRate is returned for a sample rate the reader cannot turn into
// 8 kHz (only 8000 and 16000 Hz are read) or the writer does not accept.
var ErrUnsupportedRate = errors.New("audio: unsupported sample rate")

// ErrUnsupportedChannels is returned for a channel count other than the ones
// accepted (mono for reading; mono or stereo for writing).
var ErrUnsupportedChannels = errors.New("audio: unsupported channel count")

// ErrWAVTooLarge is returned when a write would take the data chunk past the
// 4 GiB limit of a RIFF size field.
var ErrWAVTooLarge = errors.New("audio: WAV data exceeds 4 GiB")

// ErrClosed is returned by a writer used after Close.
var ErrClosed = errors.New("audio: writer closed")

// ErrFrameSize is returned when buffers passed together differ in length, or a
// frame has a length the receiver cannot take.
var ErrFrameSize = errors.New("audio: wrong frame size")

// ErrShortPayload is returned for an RFC 4733 payload shorter than 4 bytes.
var ErrShortPayload = errors.New("audio: telephone-event payload shorter than 4 bytes")

// ErrUnknownDigit is returned for a DTMF digit outside 0-9, *, #, A-D or an
// event code with no digit.
var ErrUnknownDigit = errors.New("audio: unknown DTMF digit")

// ErrInvalidTone is returned for a tone specification that cannot be played
// (no frequency, a frequency above Nyquist, a negative duration).
var ErrInvalidTone = errors.New("audio: invalid tone specification")

// ErrInvalidConfig is returned for a jitter buffer, detector or mixer
// configuration out of range.
var ErrInvalidConfig = errors.New("audio: invalid configuration")

// ErrNotMember is returned when a mixer member is used with a mixer it does
// not belong to, or after it was removed.
var ErrNotMember = errors.New("audio: not a member of this mixer")

package native

import "errors"

// errBadSDP reports an SDP body that does not parse or lacks what a call
// needs (answered 400 or 488).
var errBadSDP = errors.New("native: bad SDP")

// errNoCommonCodec reports an offer with no PCMU/PCMA audio stream
// (answered 488 Not Acceptable Here, RFC 3261 §21.4.26).
var errNoCommonCodec = errors.New("native: no common codec")

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("native: invalid config")

// ErrTTS reports a failed text-to-speech synthesis.
var ErrTTS = errors.New("native: text to speech failed")

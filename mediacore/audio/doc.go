// Package audio owns Hotline's telephony audio DSP: G.711 µ-law/A-law
// conversion (ITU-T G.711), Goertzel tone measurement, tone and silence
// generation, WAV reading and crash-safe WAV writing, RFC 4733
// telephone-event payloads with a DTMF receiver and sender, an in-band DTMF
// detector, an RTP-timestamp-keyed jitter buffer and an N-party mix-minus
// mixer with per-member roles (speak, listen only, whisper).
//
// Everything works on 8 kHz mono 16-bit linear PCM in 20 ms frames of
// [FrameSamples] samples unless a function says otherwise. Hot paths (codec
// slices, detector, jitter buffer, mixer) allocate nothing per frame or per
// packet: callers pass the buffers, and state is preallocated at
// construction.
//
// It is shared by the native media core, the recorder, the player and the
// conformance tests of every backend, so it must import only the standard
// library: never net, os (files reach it only as io.Reader, io.Writer or
// io.WriteSeeker), pion, sipgo, or any other hotline package.
//
// Types here are not safe for concurrent use unless their doc says so: the
// goroutine that owns a call's media owns its detector, jitter buffer and
// mixer.
package audio

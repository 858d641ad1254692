package main

import (
	"log/slog"
	"path/filepath"

	"hotline/mediacore"
	"hotline/mediacore/native"
)

// coreTTS is the Core's TTS fallback (mediacore.Options.TTS): espeak-ng
// prompts cached in data_dir/tts, uploaded to the nodes that cannot speak
// themselves (FreeSWITCH, Asterisk), so an IVR menu sounds the same
// whichever node the caller came in through. Native nodes keep their own.
func coreTTS(cfg config, log *slog.Logger) mediacore.Synthesizer {
	return native.CoreTTS{TTS: native.NewEspeak(filepath.Join(cfg.DataDir, "tts"), log.With("component", "tts"))}
}

package native

import (
	"context"
	"os"

	"hotline/mediacore"
)

// CoreTTS adapts a TTS (a cached file per prompt) to mediacore.Synthesizer
// (the WAV's bytes), for Core's TTS fallback (mediacore.Options.TTS): the
// FreeSWITCH and Asterisk nodes of a mixed center then speak the same
// espeak-ng prompts as the native ones, uploaded to each node once.
type CoreTTS struct {
	TTS TTS
}

var _ mediacore.Synthesizer = CoreTTS{}

// Synthesize implements mediacore.Synthesizer.
func (s CoreTTS) Synthesize(ctx context.Context, voice, text string) ([]byte, error) {
	path, err := s.TTS.Synthesize(ctx, voice, text)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

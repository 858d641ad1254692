package mediacore

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// ValidateDigits accepts 1..64 DTMF digits: 0-9, *, #, A-D (RFC 4733 §3.2
// events 0-15).
func ValidateDigits(d string) error {
	if len(d) == 0 || len(d) > 64 {
		return fmt.Errorf("%w: %d digits", ErrInvalidArgument, len(d))
	}
	for i := 0; i < len(d); i++ {
		if !strings.ContainsRune("0123456789*#ABCD", rune(d[i])) {
			return fmt.Errorf("%w: digit %q", ErrInvalidArgument, d[i])
		}
	}
	return nil
}
func validateTarget(t Target) error {
	switch {
	case t.Channel != "" && t.Bridge != "":
		return fmt.Errorf("%w: target has both channel and bridge", ErrInvalidArgument)
	case t.Channel != "":
		return ValidateID(string(t.Channel))
	case t.Bridge != "":
		return ValidateID(string(t.Bridge))
	}
	return fmt.Errorf("%w: empty target", ErrInvalidArgument)
}

// ValidateMedia checks one Media: a relative file path without "..", tones
// within the narrowband range, bounded TTS text and durations.
func ValidateMedia(m Media) error {
	switch m.Kind {
	case MediaFile:
		if m.File == "" || len(m.File) > MaxDialLen || strings.HasPrefix(m.File, "/") ||
			path.Clean(m.File) != m.File || strings.HasPrefix(m.File, "../") || m.File == ".." {
			return fmt.Errorf("%w: media file %q", ErrInvalidArgument, m.File)
		}
		for i := 0; i < len(m.File); i++ {
			if m.File[i] < ' ' || m.File[i] == 0x7f || m.File[i] == '\\' {
				return fmt.Errorf("%w: media file %q", ErrInvalidArgument, m.File)
			}
		}
	case MediaTone:
		if len(m.Tone.Freqs) == 0 || len(m.Tone.Freqs) > 4 || m.Tone.On < 0 || m.Tone.Off < 0 {
			return fmt.Errorf("%w: tone %+v", ErrInvalidArgument, m.Tone)
		}
		for _, f := range m.Tone.Freqs {
			// Narrowband G.711 carries up to 4 kHz (Nyquist at 8 kHz).
			if !(f > 0 && f < 4000) {
				return fmt.Errorf("%w: tone frequency %v", ErrInvalidArgument, f)
			}
		}
	case MediaTTS:
		if strings.TrimSpace(m.Text) == "" || len(m.Text) > MaxTTSText {
			return fmt.Errorf("%w: tts text of %d bytes", ErrInvalidArgument, len(m.Text))
		}
		if m.Voice != "" && !isToken(m.Voice, paramChar) {
			return fmt.Errorf("%w: tts voice %q", ErrInvalidArgument, m.Voice)
		}
	case MediaSilence:
		if m.Duration <= 0 {
			return fmt.Errorf("%w: silence of %v", ErrInvalidArgument, m.Duration)
		}
	default:
		return fmt.Errorf("%w: media kind %d", ErrInvalidArgument, m.Kind)
	}
	if m.Duration < 0 || m.Duration > 24*time.Hour {
		return fmt.Errorf("%w: media duration %v", ErrInvalidArgument, m.Duration)
	}
	return nil
}
func validateMember(m Member) error {
	switch m.Role {
	case RoleSpeak, RoleListen:
		if m.WhisperTo != "" {
			return fmt.Errorf("%w: WhisperTo with role %v", ErrInvalidArgument, m.Role)
		}
		return nil
	case RoleWhisper:
		return ValidateID(string(m.WhisperTo))
	}
	return fmt.Errorf("%w: role %d", ErrInvalidArgument, m.Role)
}

// validateVariableName accepts a channel variable name: ValidateVariable's
// key rule.
func validateVariableName(name string) error {
	return ValidateVariable(name, "x")
}

func (c *Core) validateOriginate(req *OriginateRequest) error {
	if req.ChannelID != "" {
		if err := ValidateID(string(req.ChannelID)); err != nil {
			return err
		}
	}
	if req.Near != "" {
		if err := ValidateID(string(req.Near)); err != nil {
			return fmt.Errorf("near: %w", err)
		}
	}
	if _, err := ParseEndpoint(req.Endpoint); err != nil {
		return err
	}
	if req.CallerIDNumber != "" {
		if err := ValidateDialString(req.CallerIDNumber); err != nil {
			return fmt.Errorf("caller id number: %w", err)
		}
		if !isToken(req.CallerIDNumber, userChar) {
			return fmt.Errorf("%w: caller id number %q", ErrInvalidArgument, req.CallerIDNumber)
		}
	}
	if err := ValidateDisplayName(req.CallerIDName); err != nil {
		return fmt.Errorf("caller id name: %w", err)
	}
	if len(req.Variables) > 32 {
		return fmt.Errorf("%w: %d variables", ErrInvalidArgument, len(req.Variables))
	}
	for k, v := range req.Variables {
		if err := ValidateVariable(k, v); err != nil {
			return err
		}
	}
	if req.Timeout < 0 || req.Timeout > 10*time.Minute {
		return fmt.Errorf("%w: timeout %v", ErrInvalidArgument, req.Timeout)
	}
	if req.Timeout == 0 {
		req.Timeout = c.opts.OriginateTimeout
	}
	return nil
}

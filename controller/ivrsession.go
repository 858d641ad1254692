package controller

import (
	"context"
	"fmt"
	"strings"

	"hotline/controller/ivr"
	"hotline/mediacore"
)

// ivrSession is ivr.Session over the media core, run on the call actor's
// goroutine: it plays into the caller's channel and pumps the actor's
// mailbox while it waits, so DTMF, the end of a playback and the caller
// hanging up arrive in order with everything else.
type ivrSession struct{ c *call }

var _ ivr.Session = (*ivrSession)(nil)

// mediaOf maps IVR prompts to media: a file, TTS in the prompt's voice
// (the flow's language when none), or one of the named tones.
func mediaOf(ps []ivr.Media, lang string) []mediacore.Media {
	out := make([]mediacore.Media, 0, len(ps))
	for _, p := range ps {
		switch p.Kind {
		case ivr.MediaFile:
			out = append(out, mediacore.File(p.File))
		case ivr.MediaTTS:
			v := p.Voice
			if v == "" {
				v = lang
			}
			out = append(out, mediacore.TTS(v, p.Text))
		case ivr.MediaTone:
			t := mediacore.ToneBeep
			switch p.Tone {
			case ivr.ToneRingback:
				t = mediacore.ToneRingback
			case ivr.ToneBusy:
				t = mediacore.ToneBusy
			}
			out = append(out, mediacore.ToneFor(t, p.Duration))
		}
	}
	return out
}

// play starts media into the caller's channel.
func (c *call) play(media []mediacore.Media, loop bool) (mediacore.PlaybackID, error) {
	if len(media) == 0 {
		return "", nil
	}
	ctx, cancel := c.io()
	defer cancel()
	return c.cc.media.Play(ctx, mediacore.ChannelTarget(c.ch), mediacore.PlayRequest{Media: media, Loop: loop})
}

func (c *call) stopPlayback(id mediacore.PlaybackID) {
	if id == "" {
		return
	}
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.StopPlayback(ctx, id); err != nil {
		c.log.Debug("stop playback", "playback", id, "err", err)
	}
}

func (c *call) dtmf(on bool) {
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.media.SetDTMFDetection(ctx, c.ch, on); err != nil {
		c.log.Debug("dtmf detection", "on", on, "err", err)
	}
}

// Play implements ivr.Session. A prompt the node cannot play (a missing
// file, no TTS) is logged and skipped: the caller goes on through the
// flow rather than hearing silence forever.
func (s *ivrSession) Play(ctx context.Context, prompts []ivr.Media) error {
	c := s.c
	if c.gone {
		return ivr.ErrHangup
	}
	pb, err := c.play(mediaOf(prompts, c.lang), false)
	if err != nil {
		c.log.Warn("IVR prompt not played", "err", err)
		return nil
	}
	for pb != "" {
		m, ok := c.next()
		if !ok {
			return ctx.Err()
		}
		if c.gone {
			return ivr.ErrHangup
		}
		if ev, isEv := m.(mediacore.Event); isEv && ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb {
			return nil
		}
	}
	return nil
}

// PlayAndCollect implements ivr.Session: in-band detection is on while it
// collects (RFC 4733 digits arrive whatever the setting).
func (s *ivrSession) PlayAndCollect(ctx context.Context, prompts []ivr.Media, spec ivr.CollectSpec) (string, error) {
	c := s.c
	if c.gone {
		return "", ivr.ErrHangup
	}
	c.dtmf(true)
	defer c.dtmf(false)
	pb, err := c.play(mediaOf(prompts, c.lang), false)
	if err != nil {
		c.log.Warn("IVR prompt not played", "err", err)
		pb = ""
	}
	var digits strings.Builder
	var timer uint64
	if pb == "" {
		timer = c.after(spec.FirstDigitTimeout, "first-digit")
	}
	defer func() { c.stop(timer) }()
	for {
		m, ok := c.next()
		if !ok {
			return digits.String(), ctx.Err()
		}
		if c.gone {
			return digits.String(), ivr.ErrHangup
		}
		switch v := m.(type) {
		case timerMsg:
			if v.id == timer {
				if pb != "" {
					c.stopPlayback(pb)
				}
				return digits.String(), nil
			}
		case mediacore.Event:
			switch v.Type {
			case mediacore.EventPlaybackFinished:
				if v.Playback == pb {
					pb = ""
					if digits.Len() == 0 {
						timer = c.after(spec.FirstDigitTimeout, "first-digit")
					}
				}
			case mediacore.EventDTMF:
				if v.Channel != c.ch {
					continue
				}
				if pb != "" && spec.BargeIn {
					c.stopPlayback(pb)
					pb = ""
				}
				k := string(v.Digit)
				if spec.Terminator != "" && k == spec.Terminator {
					return digits.String(), nil
				}
				digits.WriteString(k)
				if digits.Len() >= spec.Max {
					return digits.String(), nil
				}
				c.stop(timer)
				timer = c.after(spec.InterDigitTimeout, "inter-digit")
			}
		}
	}
}

// errNoQueue: a queue target that names no queue the ACD knows.
func errNoQueue(q string) error { return fmt.Errorf("%w: queue %q", ErrNoSuchQueue, q) }

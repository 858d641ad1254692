package native

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// opener makes a fresh source for one Media (so a loop can start over).
type opener func() (audio.Source, error)

// source turns a play list into one audio.Source. Files are checked (and
// TTS synthesised) now, so a missing prompt fails Play instead of ending
// the playback silently; they are opened lazily while playing.
func (b *Backend) source(ctx context.Context, media []mediacore.Media) (audio.Source, error) {
	ops := make([]opener, 0, len(media))
	for _, m := range media {
		op, err := b.opener(ctx, m)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return &seqSource{ops: ops}, nil
}

func (b *Backend) opener(ctx context.Context, m mediacore.Media) (opener, error) {
	switch m.Kind {
	case mediacore.MediaFile:
		path := filepath.Join(b.cfg.MediaDir, filepath.FromSlash(m.File))
		if err := checkWAV(path); err != nil {
			return nil, err
		}
		return func() (audio.Source, error) { return openWAV(path) }, nil
	case mediacore.MediaTTS:
		path, err := b.tts.Synthesize(ctx, m.Voice, m.Text)
		if err != nil {
			return nil, ttsErr(err)
		}
		return func() (audio.Source, error) { return openWAV(path) }, nil
	case mediacore.MediaSilence:
		d := m.Duration
		return func() (audio.Source, error) { return audio.Silence(d), nil }, nil
	case mediacore.MediaTone:
		t := audio.Tone{Freqs: m.Tone.Freqs, Level: -10}
		if m.Tone.On > 0 {
			t.Cadence = []time.Duration{m.Tone.On}
			if m.Tone.Off > 0 {
				t.Cadence = append(t.Cadence, m.Tone.Off)
			}
			if m.Duration == 0 {
				t.Repeat = 1
			}
		}
		if _, err := audio.NewToneSource(t); err != nil {
			return nil, fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
		}
		d := m.Duration
		return func() (audio.Source, error) {
			s, err := audio.NewToneSource(t)
			if err != nil || d <= 0 {
				return s, err
			}
			return &limitSource{src: s, left: int64(d / (time.Second / audio.SampleRate))}, nil
		}, nil
	}
	return nil, fmt.Errorf("%w: media kind %d", mediacore.ErrInvalidArgument, m.Kind)
}

func checkWAV(path string) error {
	s, err := openWAV(path)
	if err != nil {
		return err
	}
	if c, ok := s.(io.Closer); ok {
		c.Close()
	}
	return nil
}

// fileSource is a WAV file that closes itself at its end.
type fileSource struct {
	f   *os.File
	src *audio.WAVSource
}

func openWAV(path string) (audio.Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
	}
	src, err := audio.NewWAVSource(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", mediacore.ErrInvalidArgument, path, err)
	}
	return &fileSource{f: f, src: src}, nil
}

func (s *fileSource) ReadFrame(dst []int16) (int, error) {
	if s.src == nil {
		return 0, io.EOF
	}
	n, err := s.src.ReadFrame(dst)
	if err != nil {
		s.Close()
	}
	return n, err
}

func (s *fileSource) Close() error {
	if s.src == nil {
		return nil
	}
	s.src = nil
	return s.f.Close()
}

// limitSource ends a source after a number of samples.
type limitSource struct {
	src  audio.Source
	left int64
}

func (s *limitSource) ReadFrame(dst []int16) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(dst)) > s.left {
		dst = dst[:s.left]
	}
	n, err := s.src.ReadFrame(dst)
	s.left -= int64(n)
	return n, err
}

// seqSource plays sources one after the other; Rewind starts over (the RTP
// engine loops through it without caching samples).
type seqSource struct {
	ops []opener
	i   int
	cur audio.Source
}

func (s *seqSource) ReadFrame(dst []int16) (int, error) {
	for s.i < len(s.ops) {
		if s.cur == nil {
			src, err := s.ops[s.i]()
			if err != nil {
				s.i++
				continue
			}
			s.cur = src
		}
		n, err := s.cur.ReadFrame(dst)
		if err == io.EOF || (err == nil && n == 0) {
			s.next()
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			s.next()
			return n, nil
		}
		return n, nil
	}
	return 0, io.EOF
}

func (s *seqSource) next() {
	if c, ok := s.cur.(io.Closer); ok {
		c.Close()
	}
	s.cur = nil
	s.i++
}

// Rewind implements rtpengine.Rewinder.
func (s *seqSource) Rewind() error {
	if c, ok := s.cur.(io.Closer); ok {
		c.Close()
	}
	s.cur, s.i = nil, 0
	return nil
}

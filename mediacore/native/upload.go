package native

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// maxUpload bounds a prompt handed to PutMedia (an hour of 16 kHz PCM is
// 115 MB; prompts are far shorter).
const maxUpload = 64 << 20

// PutMedia implements mediacore.MediaUploader: the WAV read from r is
// written next to its final place under MediaDir, checked to be a WAV the
// player reads, synced, and renamed over name atomically, so a playback
// never sees half a file. name must pass mediacore.ValidateMedia and end in
// ".wav".
func (b *Backend) PutMedia(ctx context.Context, name string, r io.Reader) error {
	if err := mediacore.ValidateMedia(mediacore.File(name)); err != nil || !strings.HasSuffix(strings.ToLower(name), ".wav") {
		return fmt.Errorf("%w: media name %q", mediacore.ErrInvalidArgument, name)
	}
	path := filepath.Join(b.cfg.MediaDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fileErr("media dir", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*.wav")
	if err != nil {
		return fileErr("media upload", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(ctxReader{ctx, r}, maxUpload+1))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: native: media upload: %w", mediacore.ErrInvalidArgument, err)
	}
	if n > maxUpload {
		return fmt.Errorf("%w: media %q larger than %d bytes", mediacore.ErrInvalidArgument, name, maxUpload)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fileErr("media upload", err)
	}
	if _, err := audio.NewWAVSource(tmp); err != nil {
		return fmt.Errorf("%w: media %q is not a playable WAV: %w", mediacore.ErrInvalidArgument, name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fileErr("media upload", err)
	}
	if err := tmp.Close(); err != nil {
		return fileErr("media upload", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fileErr("media upload", err)
	}
	ok = true
	return nil
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

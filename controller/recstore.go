package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"
)

// ErrBadRecordingID: a recording id or path that cannot name a file in the
// recording store (empty, too long, or holding anything but letters,
// digits, '-', '_' and '.').
var ErrBadRecordingID = errors.New("controller: bad recording id")

// DirRecordingStore is a RecordingStore in a local directory (or a shared
// file system mounted there): recording id goes to YYYY/MM/DD/<id>.wav
// (the day it was saved, UTC). Save is atomic: the audio is written to a
// temporary file in the target directory, fsync'd, renamed into place and
// the directory fsync'd, so a reader never sees a partial file and a
// crash leaves either the whole recording or none (a stray temporary file
// at worst). Open reads only beneath the root (os.Root): a stored path
// cannot escape it.
type DirRecordingStore struct {
	root *os.Root
	dir  string
	now  func() time.Time
}

var _ RecordingStore = (*DirRecordingStore)(nil)

// OpenDirRecordingStore opens (creating it if needed) the directory dir as
// a recording store. now stamps the date directories (nil: time.Now).
func OpenDirRecordingStore(dir string, now func() time.Time) (*DirRecordingStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("controller: recording store: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("controller: recording store: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &DirRecordingStore{root: root, dir: dir, now: now}, nil
}

// Close releases the directory.
func (s *DirRecordingStore) Close() error { return s.root.Close() }

func validRecordingID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// Save implements RecordingStore. Saving an id again replaces the audio.
func (s *DirRecordingStore) Save(ctx context.Context, id string, r io.Reader) (string, int64, error) {
	if !validRecordingID(id) {
		return "", 0, fmt.Errorf("%w: %q", ErrBadRecordingID, id)
	}
	rel := path.Join(s.now().UTC().Format("2006/01/02"), id+".wav")
	dir := filepath.Join(s.dir, filepath.FromSlash(path.Dir(rel)))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", 0, fmt.Errorf("controller: save recording %s: %w", id, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+id+"-*")
	if err != nil {
		return "", 0, fmt.Errorf("controller: save recording %s: %w", id, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, path.Base(rel)))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return "", 0, fmt.Errorf("controller: save recording %s: %w", id, err)
	}
	done = true
	return rel, n, nil
}

// Open implements RecordingStore.
func (s *DirRecordingStore) Open(p string) (ReadSeekCloser, error) {
	if p == "" || !filepath.IsLocal(filepath.FromSlash(p)) || !validRecordingID(path.Base(p)) {
		return nil, fmt.Errorf("%w: path %q", ErrBadRecordingID, p)
	}
	f, err := s.root.Open(filepath.FromSlash(p))
	if err != nil {
		return nil, fmt.Errorf("controller: open recording: %w", err)
	}
	return f, nil
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

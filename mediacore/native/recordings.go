package native

import (
	"context"
	"fmt"
	"io"
	"os"

	"hotline/mediacore"
)

// maxFinished bounds how many finished recordings OpenRecording knows by
// id; older ids give ErrNoSuchRecording (the files stay on disk, under the
// path RecordingFinished reported).
const maxFinished = 1 << 16

// finishedRecordings maps the ids of finished recordings to their files,
// oldest evicted first. Guarded by Backend.mu.
type finishedRecordings struct {
	paths map[mediacore.RecordingID]string
	order []mediacore.RecordingID
}

func (f *finishedRecordings) add(id mediacore.RecordingID, path string) {
	if f.paths == nil {
		f.paths = map[mediacore.RecordingID]string{}
	}
	if _, ok := f.paths[id]; ok {
		return
	}
	if len(f.order) >= maxFinished {
		delete(f.paths, f.order[0])
		f.order = f.order[1:]
	}
	f.paths[id] = path
	f.order = append(f.order, id)
}

// OpenRecording implements mediacore.Backend: it opens the WAV file of a
// finished recording (synced and closed when RecordingFinished was
// emitted). A recording still running, an unknown id, or one evicted from
// the last maxFinished gives ErrNoSuchRecording.
func (b *Backend) OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	path, ok := b.finished.paths[id]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s (unknown or not finished)", mediacore.ErrNoSuchRecording, id)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", mediacore.ErrNoSuchRecording, id, err)
	}
	return f, nil
}

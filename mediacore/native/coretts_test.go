package native

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type fileTTS struct {
	path string
	err  error
}

func (f fileTTS) Synthesize(context.Context, string, string) (string, error) { return f.path, f.err }

// TestCoreTTS: the adapter hands Core the bytes of the file the TTS made,
// and its error unchanged.
func TestCoreTTS(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.wav")
	want := []byte("RIFF....WAVEfmt ")
	if err := os.WriteFile(p, want, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := CoreTTS{TTS: fileTTS{path: p}}.Synthesize(context.Background(), "en", "hello")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Synthesize = %q, %v", got, err)
	}
	boom := errors.New("espeak-ng failed")
	if _, err := (CoreTTS{TTS: fileTTS{err: boom}}).Synthesize(context.Background(), "", "x"); !errors.Is(err, boom) {
		t.Errorf("error = %v", err)
	}
}

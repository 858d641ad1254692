package testenv

import (
	"io"
	"sync"
	"testing"
)

func TestMemFileRewritesLikeAFile(t *testing.T) {
	var f MemFile
	if _, err := f.Write([]byte("hello world")); err != nil {
		t.Fatal(err)
	}
	if pos, _ := f.Seek(0, io.SeekStart); pos != 0 {
		t.Fatalf("seek start = %d", pos)
	}
	_, _ = f.Write([]byte("J"))
	if pos, _ := f.Seek(-5, io.SeekEnd); pos != 6 {
		t.Fatalf("seek end = %d", pos)
	}
	_, _ = f.Write([]byte("WORLD!"))
	if pos, _ := f.Seek(-1, io.SeekCurrent); pos != 11 {
		t.Fatalf("seek current = %d", pos)
	}
	if got := string(f.Bytes()); got != "Jello WORLD!" {
		t.Fatalf("contents %q", got)
	}
	snap := f.Bytes()
	snap[0] = 'X'
	if f.Bytes()[0] != 'J' {
		t.Fatal("Bytes is not a copy")
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		}()
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Fatalf("wrote 800 bytes, read %d", n)
	}
	b.Reset()
	if b.String() != "" {
		t.Fatal("Reset left data")
	}
}

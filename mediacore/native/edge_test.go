package native

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEdgeAnswer feeds arbitrary messages to the edge's answer builder and
// address normalizer: no panic, and an answer is never larger than what
// it answers (no amplification) and is one CRLF-framed status message.
func FuzzEdgeAnswer(f *testing.F) {
	files, _ := filepath.Glob("testdata/torture/*/*.dat")
	for _, name := range files {
		msg, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"))
	f.Add([]byte("\"a\\\" b\" <sip:a@b> ; tag = 1 ;x= \"y ; z\""))
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, _ = normalizeAddress(string(msg))
		res := answerMalformed(msg)
		if res == nil {
			return
		}
		if len(res) > len(msg) {
			t.Fatalf("answer of %d bytes to %d", len(res), len(msg))
		}
		if !bytes.HasPrefix(res, []byte("SIP/2.0 ")) || !bytes.HasSuffix(res, []byte("\r\n\r\n")) {
			t.Fatalf("answer %q", res)
		}
		if bytes.Count(res, []byte("\n")) != bytes.Count(res, []byte("\r\n")) || bytes.Count(res, []byte("\r")) != bytes.Count(res, []byte("\r\n")) {
			t.Fatalf("bare CR or LF in %q", res)
		}
	})
}

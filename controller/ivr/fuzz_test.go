package ivr

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseValidate: Parse and Validate never panic; their errors are
// *ValidationError; a valid flow survives Marshal/Parse unchanged, and
// runs to an end within MaxSteps against a caller who presses keys from the
// input.
func FuzzParseValidate(f *testing.F) {
	files, _ := filepath.Glob("testdata/flows/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if b, err := DemoFlow().MarshalJSON(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := Parse(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidFlow) {
				t.Fatalf("Parse error %v is not a ValidationError", err)
			}
			return
		}
		if err := Validate(fl); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidFlow) {
				t.Fatalf("Validate error %v is not a ValidationError", err)
			}
			return
		}
		b1, err := fl.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		fl2, err := Parse(b1)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b1, err)
		}
		if err := Validate(fl2); err != nil {
			t.Fatalf("re-validate: %v", err)
		}
		b2, _ := fl2.MarshalJSON()
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
		}
		// Keys from the input itself drive the caller.
		var script []answer
		for i := 0; i < len(data) && i < 40; i++ {
			script = append(script, key(string("0123456789*#"[int(data[i])%12])), timeout)
		}
		lookup := answerJSON(200, string(data))
		res, err := Run(context.Background(), fl, &fakeSession{script: script}, Env{
			HTTP: lookup, Schedules: fakeSchedules{}, Lists: fakeLists{}, MaxSteps: 60,
		})
		if err == nil && res.End == "" || err != nil && !errors.Is(err, ErrHangup) && !errors.Is(err, ErrTooManySteps) {
			t.Fatalf("Run: %v %+v", err, res)
		}
		for _, s := range res.Path {
			if s.At.After(time.Now()) {
				t.Fatalf("step in the future: %+v", s)
			}
		}
	})
}

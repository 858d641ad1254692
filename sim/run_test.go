package sim

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"testing"
)

func TestRunRejectsFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"help", []string{"-h"}, flag.ErrHelp},
		{"no token", []string{"--token", ""}, ErrInvalidTraffic},
		{"bad target", []string{"--token", "x", "--target", "ftp://x"}, ErrInvalidTraffic},
		{"bad sip", []string{"--token", "x", "--sip", "nowhere"}, ErrInvalidTraffic},
		{"zero rate", []string{"--token", "x", "--rate", "0"}, ErrInvalidTraffic},
		{"no agents", []string{"--token", "x", "--agents", "0"}, ErrInvalidTraffic},
		{"extra arg", []string{"--token", "x", "go"}, ErrInvalidTraffic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			// The target is a closed port: a run that got past its
			// checks would fail with ErrTarget instead.
			args := append([]string{"--target", "http://127.0.0.1:1"}, tc.args...)
			if err := Run(context.Background(), args, &out, &errOut); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"--target", "http://127.0.0.1:1", "--token", "x"}, &out, &errOut)
	if !errors.Is(err, ErrTarget) {
		t.Errorf("unreachable target: %v", err)
	}
}

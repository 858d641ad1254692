package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/testenv"
)

// TestDemoRunsAndReconciles is `make demo`'s path in CI: `hotline demo`
// with a short duration and no terminal serves the demo center on a
// temporary embedded store, drives it with the simulator (plain progress
// lines), ends with an exact reconciliation, stops the daemon and removes
// its data.
func TestDemoRunsAndReconciles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon and 30 s of traffic")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, errOut := &testenv.SyncBuffer{}, &testenv.SyncBuffer{}
	code := run(ctx, []string{"demo", "--duration", "30s", "--agents", "4", "--rate", "0.5", "--aht", "3s",
		"--patience", "8s", "--ring", "300ms", "--wrap", "1s", "--view", "off", "--load"}, envMap(nil), out, errOut)
	if code != 0 {
		t.Fatalf("hotline demo: status %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	stdout := out.String()
	for _, want := range []string{
		"every figure matches the ground truth",
		"load: INVITE to answer p50",
		"demo: Hotline stopped",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// Plain lines (no terminal): no escape codes, a progress line.
	if strings.Contains(stdout+errOut.String(), "\x1b[") {
		t.Errorf("escape codes without a terminal:\n%s", stdout)
	}
	if !strings.Contains(errOut.String(), "placed ") {
		t.Errorf("no progress line on stderr:\n%s", errOut)
	}
	m := regexp.MustCompile(`data in (\S+),`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no data directory named:\n%s", stdout)
	}
	if _, err := os.Stat(m[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary data directory %s is left behind: %v", m[1], err)
	}
}

func TestDemoRejectsFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"-h"}, 0},
		{"bad view", []string{"--view", "sometimes"}, 2},
		{"extra argument", []string{"now"}, 2},
		{"unknown flag", []string{"--target", "http://x"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut := &testenv.SyncBuffer{}, &testenv.SyncBuffer{}
			if got := run(context.Background(), append([]string{"demo"}, tc.args...), envMap(nil), out, errOut); got != tc.want {
				t.Errorf("status %d, want %d\n%s", got, tc.want, errOut)
			}
		})
	}
}

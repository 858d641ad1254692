package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigPrecedence(t *testing.T) {
	file := writeFile(t, "http_addr: 127.0.0.1:7000\nsip_addr: 127.0.0.1:7060\ndata_dir: /from/file\ndemo: true\nshutdown_grace: 3s\n")
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c config)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c config) {
				want := defaultConfig()
				if c != want {
					t.Errorf("got %+v, want defaults %+v", c, want)
				}
			},
		},
		{
			name: "file over defaults",
			args: []string{"--config", file},
			check: func(t *testing.T, c config) {
				if c.HTTPAddr != "127.0.0.1:7000" || c.SIPAddr != "127.0.0.1:7060" || c.DataDir != "/from/file" || !c.Demo || c.ShutdownGrace != 3*time.Second {
					t.Errorf("file not applied: %+v", c)
				}
				if c.LogLevel != "info" {
					t.Errorf("default lost: log level %q", c.LogLevel)
				}
			},
		},
		{
			name: "environment over file",
			args: []string{"--config", file},
			env:  map[string]string{"HOTLINE_HTTP_ADDR": "127.0.0.1:7001", "HOTLINE_DEMO": "false"},
			check: func(t *testing.T, c config) {
				if c.HTTPAddr != "127.0.0.1:7001" || c.Demo {
					t.Errorf("environment not applied: %+v", c)
				}
				if c.DataDir != "/from/file" {
					t.Errorf("file value lost: %q", c.DataDir)
				}
			},
		},
		{
			name: "flags over environment",
			args: []string{"--config", file, "--http", "127.0.0.1:7002", "--demo=true"},
			env:  map[string]string{"HOTLINE_HTTP_ADDR": "127.0.0.1:7001", "HOTLINE_DEMO": "false"},
			check: func(t *testing.T, c config) {
				if c.HTTPAddr != "127.0.0.1:7002" || !c.Demo {
					t.Errorf("flags not applied: %+v", c)
				}
			},
		},
		{
			name: "config file named by environment",
			env:  map[string]string{"HOTLINE_CONFIG": file},
			check: func(t *testing.T, c config) {
				if c.DataDir != "/from/file" {
					t.Errorf("HOTLINE_CONFIG not read: %+v", c)
				}
			},
		},
		{
			name: "bootstrap token from environment only",
			env:  map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": "0123456789abcdef-secret"},
			check: func(t *testing.T, c config) {
				if c.BootstrapToken != "0123456789abcdef-secret" {
					t.Errorf("token %q", c.BootstrapToken)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, envMap(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadConfigRejects(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		args    []string
		env     map[string]string
		mention string
	}{
		{name: "unknown key", file: "http_adr: 127.0.0.1:1\n", mention: "http_adr"},
		{name: "wrong type", file: "demo: maybe\n", mention: "demo"},
		{name: "not a mapping", file: "- a\n- b\n", mention: "mapping"},
		{name: "malformed yaml", file: "http_addr: [\n", mention: "yaml"},
		{name: "bad address", args: []string{"--http", "nonsense"}, mention: "http_addr"},
		{name: "bad env bool", env: map[string]string{"HOTLINE_DEMO": "sure"}, mention: "HOTLINE_DEMO"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, mention: "log_level"},
		{name: "bad rtp range", args: []string{"--rtp-port-min", "30000", "--rtp-port-max", "30000"}, mention: "rtp ports"},
		{name: "unknown digest algorithm", args: []string{"--sip-digest-algorithms", "MD5,SHA-1"}, mention: "sip_digest_algorithms"},
		{name: "unknown backend", args: []string{"--media-backend", "pbx"}, mention: "media_backend"},
		{name: "short bootstrap token", env: map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": "short"}, mention: "BOOTSTRAP"},
		{name: "stray argument", args: []string{"extra"}, mention: "extra"},
		{name: "unknown flag", args: []string{"--nope"}, mention: "nope"},
		{name: "missing file", args: []string{"--config", "/does/not/exist.yaml"}, mention: "exist.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeFile(t, tt.file)}, args...)
			}
			_, err := loadConfig(args, envMap(tt.env), io.Discard)
			if !errors.Is(err, errConfig) {
				t.Fatalf("err = %v, want errConfig", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestLoadConfigEmptyFile(t *testing.T) {
	c, err := loadConfig([]string{"--config", writeFile(t, "")}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c != defaultConfig() {
		t.Errorf("empty file changed the config: %+v", c)
	}
}

// TestExampleConfigLoads keeps deploy/hotline.example.yaml in step with the
// configuration: every key in it must be known and valid.
func TestExampleConfigLoads(t *testing.T) {
	c, err := loadConfig([]string{"--config", "../../deploy/hotline.example.yaml"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if c.DataDir != "/var/lib/hotline" || c.SIPDigestAlgorithms != "MD5" {
		t.Errorf("example config not applied: %+v", c)
	}
}

// TestHelp: serve's help lists the commands and every flag with its
// default and variable; migrate's lists only the flags migrate reads.
func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, envMap(nil), &out, &errOut); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	help := errOut.String()
	for _, want := range []string{"serve", "migrate", "version", `-http`, `default "127.0.0.1:8080", $HOTLINE_HTTP_ADDR`,
		`default "127.0.0.1:5060", $HOTLINE_SIP_ADDR`, "HOTLINE_BOOTSTRAP_TOKEN"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", want, help)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"help"}, envMap(nil), &out, io.Discard); code != 0 || !strings.Contains(out.String(), "migrate") {
		t.Errorf("help exited %d:\n%s", code, out.String())
	}

	errOut.Reset()
	if code := run(context.Background(), []string{"migrate", "-h"}, envMap(nil), &out, &errOut); code != 0 {
		t.Fatalf("migrate -h exited %d", code)
	}
	help = errOut.String()
	for _, want := range []string{"-data", "-database-url", "-log-level", "-config"} {
		if !strings.Contains(help, want) {
			t.Errorf("migrate -h lacks %s:\n%s", want, help)
		}
	}
	for _, serveOnly := range []string{"-http", "-sip", "-demo", "-rtp-port-min"} {
		if strings.Contains(help, serveOnly+" ") || strings.Contains(help, serveOnly+"\n") {
			t.Errorf("migrate -h lists serve's %s:\n%s", serveOnly, help)
		}
	}
	if code := run(context.Background(), []string{"migrate", "--http", "127.0.0.1:1"}, envMap(nil), io.Discard, io.Discard); code != 2 {
		t.Errorf("migrate --http exited %d, want 2 (not a migrate flag)", code)
	}
}

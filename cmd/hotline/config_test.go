package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
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
				if !reflect.DeepEqual(c, want) {
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
		{name: "bad blacklist action", args: []string{"--blacklist-action", "drop"}, mention: "blacklist_action"},
		{name: "negative media timeout", args: []string{"--media-timeout", "-1s"}, mention: "media_timeout"},
		{name: "bad rtp range", args: []string{"--rtp-port-min", "30000", "--rtp-port-max", "30000"}, mention: "rtp ports"},
		{name: "unknown digest algorithm", args: []string{"--sip-digest-algorithms", "MD5,SHA-1"}, mention: "sip_digest_algorithms"},
		{name: "unknown backend", args: []string{"--media-backend", "pbx"}, mention: "media_backend"},
		{name: "short bootstrap token", env: map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": "short"}, mention: "BOOTSTRAP"},
		{name: "stray argument", args: []string{"extra"}, mention: "extra"},
		{name: "unknown flag", args: []string{"--nope"}, mention: "nope"},
		{name: "missing file", args: []string{"--config", "/does/not/exist.yaml"}, mention: "exist.yaml"},
		{name: "media node without name", file: "media_nodes:\n  - kind: native\n", mention: "media_nodes[0].name"},
		{name: "media node of unknown kind", file: "media_nodes:\n  - name: a\n    kind: pbx\n", mention: "media_nodes[0].kind"},
		{name: "media node names repeated", file: "media_nodes:\n  - {name: a, kind: native}\n  - {name: a, kind: native}\n", mention: "media_nodes[1].name"},
		{name: "media node config not a mapping", file: "media_nodes:\n  - {name: a, kind: native, config: [1]}\n", mention: "media_nodes[0].config"},
		{name: "media node entry of wrong shape", file: "media_nodes: {name: a}\n", mention: "media_nodes"},
		{name: "webhook without url", file: "webhooks:\n  - secret: s3cret-value\n", mention: "webhooks[0].url"},
		{name: "webhook url not http", file: "webhooks:\n  - {url: 'ftp://crm.example/x', secret: s3cret-value}\n", mention: "webhooks[0].url"},
		{name: "webhook without secret", file: "webhooks:\n  - {url: 'https://crm.example/x'}\n", mention: "webhooks[0].secret"},
		{name: "webhook ids repeated", file: "webhooks:\n  - {id: a, url: 'https://a.example/', secret: s1}\n  - {id: a, url: 'https://b.example/', secret: s2}\n",
			mention: "webhooks[1].id"},
		{name: "webhook event pattern malformed", file: "webhooks:\n  - {url: 'https://a.example/', secret: s1, events: ['call.*.x*']}\n",
			mention: "webhooks[0].events[0]"},
		{name: "webhook events not a list", file: "webhooks:\n  - {url: 'https://a.example/', secret: s1, events: {a: b}}\n", mention: "webhooks"},
		{name: "webhook unknown field", file: "webhooks:\n  - {url: 'https://a.example/', secret: s1, evnts: [call.*]}\n", mention: "webhooks"},
		{name: "more media nodes than a daemon drives",
			file: manyNodes(maxMediaNodes + 1), mention: fmt.Sprintf("media_nodes lists %d nodes", maxMediaNodes+1)},
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
	if !reflect.DeepEqual(c, defaultConfig()) {
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

// TestMediaNodes: without media_nodes one native node is made from the
// flags; a listed native node's section is applied over those defaults.
func TestMediaNodes(t *testing.T) {
	type nativeKeys struct {
		Listen           string        `yaml:"listen"`
		RTPPortMin       int           `yaml:"rtp_port_min"`
		RTPPortMax       int           `yaml:"rtp_port_max"`
		MediaDir         string        `yaml:"media_dir"`
		Realm            string        `yaml:"realm"`
		DigestAlgorithms []string      `yaml:"digest_algorithms"`
		MediaTimeout     time.Duration `yaml:"media_timeout"`
	}
	decoded := func(t *testing.T, c config) (mediaNode, nativeKeys) {
		t.Helper()
		nodes := mediaNodes(c)
		if len(nodes) != 1 {
			t.Fatalf("%d nodes", len(nodes))
		}
		dec, err := decoder(c, nodes[0])
		if err != nil {
			t.Fatal(err)
		}
		var k nativeKeys
		if err := dec(&k); err != nil {
			t.Fatal(err)
		}
		return nodes[0], k
	}
	c, err := loadConfig([]string{"--sip", "127.0.0.1:7070", "--data", "/d"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, k := decoded(t, c)
	if n.Name != "native" || n.Kind != "native" || k.Listen != "127.0.0.1:7070" || k.MediaDir != "/d/media" ||
		k.RTPPortMin != 20000 || k.Realm != "hotline" || !reflect.DeepEqual(k.DigestAlgorithms, []string{"MD5"}) ||
		k.MediaTimeout != time.Minute {
		t.Fatalf("default node %+v %+v", n, k)
	}
	// The media timeout reaches the native node's section as a duration.
	c, err = loadConfig([]string{"--media-timeout", "90s"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, k := decoded(t, c); k.MediaTimeout != 90*time.Second {
		t.Fatalf("--media-timeout 90s: node got %v", k.MediaTimeout)
	}
	file := writeFile(t, "sip_addr: 127.0.0.1:7060\nmedia_nodes:\n  - name: edge-1\n    kind: native\n    config:\n      listen: 127.0.0.1:7080\n      rtp_port_min: 30000\n")
	c, err = loadConfig([]string{"--config", file}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, k = decoded(t, c)
	if n.Name != "edge-1" || k.Listen != "127.0.0.1:7080" || k.RTPPortMin != 30000 || k.RTPPortMax != 29999 || k.Realm != "hotline" {
		t.Fatalf("listed node %+v %+v", n, k)
	}
}

// FuzzDecodeConfigFile feeds the configuration file decoder (media_nodes
// included) arbitrary YAML: it must never panic, and whatever it accepts
// must make media node decoders that do not panic either.
func FuzzDecodeConfigFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"http_addr: 127.0.0.1:7000\ndemo: true\n",
		"media_nodes:\n  - name: a\n    kind: native\n    config:\n      listen: 127.0.0.1:7080\n",
		"media_nodes:\n  - {name: a, kind: native, config: [1]}\n",
		"media_nodes: {name: a}\n",
		"media_nodes:\n  - name: a\n    kind: native\n    config: {rtp_port_min: x}\n",
		"- a\n",
		"shutdown_grace: 3s\nmedia_nodes: []\n",
		"webhooks:\n  - {id: crm, url: 'https://a.example/', secret: s1, events: [call.*]}\n",
		"webhooks:\n  - [1]\n  - {evnts: x}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := defaultConfig()
		if err := decodeConfigFile(raw, &c); err != nil {
			return
		}
		if c.validate() != nil {
			return
		}
		for _, n := range mediaNodes(c) {
			dec, err := decoder(c, n)
			if err != nil {
				continue
			}
			var v struct {
				Listen     string `yaml:"listen"`
				RTPPortMin int    `yaml:"rtp_port_min"`
			}
			_ = dec(&v)
		}
	})
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

// manyNodes is a configuration file listing n native media nodes.
func manyNodes(n int) string {
	var b strings.Builder
	b.WriteString("media_nodes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: n%d, kind: native}\n", i)
	}
	return b.String()
}

// TestExampleWebhooksLoad uncomments the example file's webhooks block and
// loads it: the documented shape is the one the daemon reads.
func TestExampleWebhooksLoad(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/hotline.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(raw), "\n") {
		switch {
		case l == "# webhooks:":
			in = true
			l = "webhooks:"
		case in && strings.HasPrefix(l, "#   "):
			l = strings.TrimPrefix(l, "# ")
		default:
			in = false
		}
		lines = append(lines, l)
	}
	c, err := loadConfig([]string{"--config", writeFile(t, strings.Join(lines, "\n"))}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatalf("example config with webhooks: %v", err)
	}
	want := []webhookConfig{{ID: "crm", URL: "https://crm.example.com/hotline/events",
		Secret: "change-me-to-a-long-random-string", Events: []string{"call.*", "agent.state"}}}
	if !reflect.DeepEqual(c.Webhooks, want) {
		t.Errorf("webhooks = %+v, want %+v", c.Webhooks, want)
	}
}

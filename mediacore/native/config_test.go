package native

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"hotline/internal/sipdigest"
	"hotline/mediacore"
)

// TestOpenFromYAML builds the backend through the registry from a YAML
// section, as the configuration does.
func TestOpenFromYAML(t *testing.T) {
	const doc = `
listen: 127.0.0.1:5070
rtp_port_min: 20000
rtp_port_max: 20100
media_dir: /var/lib/hotline/media
setup_timeout: 45s
trunks:
  - name: carrier-a
    address: 192.0.2.10:5060
    priority: 1
    timeout: 3s
    inbound_from: [192.0.2.0/28]
  - name: carrier-b
    address: 198.51.100.7:5080
    transport: tcp
    priority: 2
`
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	be, err := mediacore.Open("native", mediacore.FactoryOptions{Decode: node.Decode})
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*Backend)
	if b.cfg.SetupTimeout != 45*time.Second || b.cfg.RecordingsDir != "/var/lib/hotline/media/recordings" || b.cfg.RTPIP != "127.0.0.1" {
		t.Errorf("config %+v", b.cfg)
	}
	if tr := b.cfg.Trunks[1]; tr.Transport != "tcp" || tr.Timeout != 5*time.Second || len(tr.InboundFrom) != 1 || tr.InboundFrom[0].String() != "198.51.100.7/32" {
		t.Errorf("trunk b %+v", tr)
	}
	if tr := b.cfg.Trunks[0]; tr.Timeout != 3*time.Second || tr.InboundFrom[0].String() != "192.0.2.0/28" {
		t.Errorf("trunk a %+v", tr)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := map[string]Config{
		"listen without port":   {Listen: "127.0.0.1"},
		"listen host name":      {Listen: "localhost:5060"},
		"duplicate trunk":       {Trunks: []Trunk{{Name: "a", Address: "1.2.3.4:5060"}, {Name: "a", Address: "1.2.3.5:5060"}}},
		"trunk bad transport":   {Trunks: []Trunk{{Name: "a", Address: "1.2.3.4:5060", Transport: "sctp"}}},
		"trunk without port":    {Trunks: []Trunk{{Name: "a", Address: "1.2.3.4"}}},
		"unknown digest method": {DigestAlgorithms: []string{"SHA-1"}, Credentials: nilCreds{}},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// nilCreds is a Credentials with no users.
type nilCreds struct{}

func (nilCreds) HA1(context.Context, string, sipdigest.Algorithm) (string, bool, error) {
	return "", false, nil
}

func TestNotStarted(t *testing.T) {
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Originate(ctx, mediacore.OriginateRequest{Endpoint: "sip:a@127.0.0.1"}); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("originate before start: %v", err)
	}
	if err := b.CreateBridge(ctx, "b"); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("bridge before start: %v", err)
	}
	if err := b.Answer(ctx, "x"); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Errorf("answer unknown: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("close before start: %v", err)
	}
}

// TestStartFailure: a port in use fails Start cleanly; Close after it is
// a no-op and a second Start is refused only while started.
func TestStartFailure(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	b := newTestBackend(t, func(c *Config) { c.Listen = busy.LocalAddr().String() })
	if err := b.Start(context.Background(), func(mediacore.Event) {}); err == nil {
		t.Fatal("Start on a busy port succeeded")
	}
	if _, err := b.Originate(context.Background(), mediacore.OriginateRequest{Endpoint: "sip:a@127.0.0.1"}); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("originate after failed start: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("close after failed start: %v", err)
	}
}

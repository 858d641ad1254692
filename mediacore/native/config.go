package native

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"

	"hotline/mediacore/native/registrar"
)

// Config configures the native backend. Zero values get the defaults
// documented on each field.
type Config struct {
	// Listen is the SIP address, served on UDP and TCP at the same port.
	// Default "127.0.0.1:5060". The IP must be a literal.
	Listen string `yaml:"listen"`
	// RTPIP is the address RTP binds to and SDP announces. Default: the
	// Listen IP.
	RTPIP string `yaml:"rtp_ip"`
	// RTPPortMin/Max bound the RTP port range (even RTP, odd RTCP).
	// Default 16384-32767.
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// MediaTimeout hangs up a call after this long without RTP (0: never).
	MediaTimeout time.Duration `yaml:"media_timeout"`
	// MediaDir holds prompts (Media.File is relative to it) and the TTS
	// cache (MediaDir/tts). Default "media".
	MediaDir string `yaml:"media_dir"`
	// RecordingsDir is where recordings are written (RecordRequest.Name is
	// relative to it). Default MediaDir/recordings.
	RecordingsDir string `yaml:"recordings_dir"`
	// Trunks are the carriers' SIP trunks, tried in Priority order (lower
	// first) for tel/ endpoints.
	Trunks []Trunk `yaml:"trunks"`
	// AllowUnknownSources accepts inbound INVITEs from any address. When
	// false (the default), an INVITE is accepted only from a trunk's address
	// or from the source address of a registered contact of its From user.
	AllowUnknownSources bool `yaml:"allow_unknown_sources"`
	// SetupTimeout bounds how long an inbound call may wait for the
	// controller's answer before it is rejected with 480. Default 120 s.
	SetupTimeout time.Duration `yaml:"setup_timeout"`
	// TransferTimeout bounds how long a REFER waits for the controller's
	// AnswerTransfer before it is answered 480 (below the 32 s a UDP
	// client waits for a non-INVITE answer, RFC 3261 §17.1.2.2). Default
	// 30 s.
	TransferTimeout time.Duration `yaml:"transfer_timeout"`
	// InviteRate and InviteBurst limit new INVITEs per source address
	// (a token bucket: InviteRate per second, InviteBurst at once); beyond
	// them an INVITE gets 503 with Retry-After and builds no state.
	// Sources of a trunk (InboundFrom) are exempt: a carrier's rate is
	// its traffic. Default 5 per second, burst 20; a negative InviteRate
	// disables the limit.
	InviteRate  float64 `yaml:"invite_rate"`
	InviteBurst int     `yaml:"invite_burst"`
	// MaxInvites bounds the INVITEs in progress (new calls not yet
	// answered or refused) over all sources; beyond it an INVITE gets 503
	// with Retry-After. Default 1000.
	MaxInvites int `yaml:"max_invites"`
	// UserAgent is the User-Agent/Server header value. Default "hotline".
	UserAgent string `yaml:"user_agent"`

	// Credentials are the agents' HA1s (the controller's store). When set
	// and Registrar is nil, the backend runs a registrar.Registrar with
	// them (realm Realm) and reports EndpointRegistered/Unregistered.
	Credentials registrar.Credentials `yaml:"-"`
	// Realm is the digest realm. Default registrar.DefaultRealm.
	Realm string `yaml:"realm"`
	// DigestAlgorithms are the challenges offered, preferred first ("SHA-256",
	// "MD5"; RFC 8760 §2.4). Default: the registrar's (SHA-256, MD5). Some
	// phones (libre-based, e.g. baresip 1.0) give up on a first challenge
	// they cannot compute: list only "MD5" for them.
	DigestAlgorithms []string `yaml:"digest_algorithms"`
	// Registrar handles REGISTER and resolves user/ endpoints. When nil and
	// Credentials is nil too, REGISTER gets 405 and user/ endpoints
	// ErrNotFound.
	Registrar Registrar `yaml:"-"`
	// TTS synthesises MediaTTS; nil uses espeak-ng (NewEspeak).
	TTS TTS `yaml:"-"`
	// Logger receives logs; nil discards.
	Logger *slog.Logger `yaml:"-"`
	// Registerer receives the backend's metrics
	// (hotline_sip_dropped_total); nil registers nothing.
	Registerer prometheus.Registerer `yaml:"-"`
	// Clock is the time source of the edge's rate limits; nil is
	// clock.Real.
	Clock clock.Clock `yaml:"-"`
	// Resolver resolves the host names of trunks and of Via/Contact headers
	// (RFC 3263); nil uses the system resolver. Tests pass one that never
	// leaves the machine.
	Resolver *net.Resolver `yaml:"-"`
}

// Registrar is what the core needs from mediacore/native/registrar: a
// REGISTER handler to mount on the SIP server and the lookup of a user's
// contacts.
type Registrar interface {
	HandleRegister(req *sip.Request, tx sip.ServerTransaction)
	Lookup(user string) []registrar.Contact
}

// Trunk is a carrier connection.
type Trunk struct {
	// Name identifies the trunk ("tel/123@name" pins a call to it).
	Name string `yaml:"name"`
	// Address is the carrier's SIP "host:port" (IP literal or name).
	Address string `yaml:"address"`
	// Transport is "udp" (default) or "tcp".
	Transport string `yaml:"transport"`
	// Priority orders trunks for failover: lower first.
	Priority int `yaml:"priority"`
	// Username and Password answer the carrier's digest challenges (401/407)
	// and register when Register is set.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Register keeps an outbound registration (RFC 3261 §10) refreshed
	// before it expires.
	Register bool `yaml:"register"`
	// RegisterExpiry is the requested registration lifetime. Default 300 s.
	RegisterExpiry time.Duration `yaml:"register_expiry"`
	// CallerID is the From user for calls through this trunk when the
	// originate request has none.
	CallerID string `yaml:"caller_id"`
	// InboundFrom lists the source prefixes whose INVITEs belong to this
	// trunk. Default: the Address's IP (when it is a literal).
	InboundFrom []netip.Prefix `yaml:"inbound_from"`
	// Timeout is how long to wait for a provisional response before failing
	// over to the next trunk. Default 5 s.
	Timeout time.Duration `yaml:"timeout"`
	// Disabled keeps the trunk configured but unused: no calls out, no
	// calls admitted by its address, no registration.
	Disabled bool `yaml:"disabled"`
}

// withDefaults validates c and fills defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:5060"
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return c, fmt.Errorf("%w: listen %q: %w", ErrConfig, c.Listen, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return c, fmt.Errorf("%w: listen IP %q: %w", ErrConfig, host, err)
	}
	// Port 0 picks a free port (tests); Backend.Addr tells which.
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return c, fmt.Errorf("%w: listen port %q", ErrConfig, port)
	}
	if c.RTPIP == "" {
		c.RTPIP = ip.String()
	}
	if _, err := netip.ParseAddr(c.RTPIP); err != nil {
		return c, fmt.Errorf("%w: rtp_ip %q", ErrConfig, c.RTPIP)
	}
	if c.MediaDir == "" {
		c.MediaDir = "media"
	}
	if c.RecordingsDir == "" {
		c.RecordingsDir = c.MediaDir + "/recordings"
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 120 * time.Second
	}
	if c.TransferTimeout <= 0 {
		c.TransferTimeout = 30 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "hotline"
	}
	if c.InviteRate == 0 {
		c.InviteRate = DefaultInviteRate
	}
	if c.InviteBurst <= 0 {
		c.InviteBurst = DefaultInviteBurst
	}
	if c.MaxInvites <= 0 {
		c.MaxInvites = DefaultMaxInvites
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	trunks, err := validateTrunks(c.Trunks)
	if err != nil {
		return c, err
	}
	c.Trunks = trunks
	return c, nil
}

// validateTrunks checks trunks (unique names, "host:port" addresses, a
// known transport) and returns a copy with defaults filled. Config and
// Backend.SetTrunks share it.
func validateTrunks(in []Trunk) ([]Trunk, error) {
	out := slices.Clone(in)
	seen := map[string]bool{}
	for i := range out {
		t := &out[i]
		t.InboundFrom = slices.Clone(t.InboundFrom)
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("%w: trunk %d: empty or duplicate name %q", ErrConfig, i, t.Name)
		}
		seen[t.Name] = true
		th, tp, err := net.SplitHostPort(t.Address)
		if err != nil || th == "" {
			return nil, fmt.Errorf("%w: trunk %s address %q", ErrConfig, t.Name, t.Address)
		}
		if p, err := strconv.Atoi(tp); err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("%w: trunk %s port %q", ErrConfig, t.Name, tp)
		}
		switch t.Transport {
		case "":
			t.Transport = "udp"
		case "udp", "tcp":
		default:
			return nil, fmt.Errorf("%w: trunk %s transport %q", ErrConfig, t.Name, t.Transport)
		}
		if t.RegisterExpiry <= 0 {
			t.RegisterExpiry = 300 * time.Second
		}
		if t.Timeout <= 0 {
			t.Timeout = 5 * time.Second
		}
		if len(t.InboundFrom) == 0 {
			if a, err := netip.ParseAddr(th); err == nil {
				t.InboundFrom = []netip.Prefix{netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())}
			}
		}
	}
	return out, nil
}

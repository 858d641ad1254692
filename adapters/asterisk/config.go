package asterisk

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"hotline/mediacore"
)

// Config is one Asterisk node. Its keys are the `config:` map of a
// `media_nodes:` entry with `kind: asterisk` (see the package doc).
type Config struct {
	// URL is ARI's base URL, e.g. "http://127.0.0.1:8088/ari".
	URL string `yaml:"url"`
	// User and Password are the ari.conf user; the password is never
	// logged (String masks it).
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// App is the Stasis application calls enter through (default "hotline").
	App string `yaml:"app"`
	// AllowInsecureRemote accepts plain http/ws to a non-loopback host.
	// Without it such a URL is refused: the ARI password travels in clear.
	AllowInsecureRemote bool `yaml:"allow_insecure_remote"`
	// CommandTimeout bounds one ARI request (default 5 s); DialTimeout the
	// WebSocket dial (default 5 s); PingInterval the watchdog's
	// GET /asterisk/ping period (default 5 s).
	CommandTimeout time.Duration `yaml:"command_timeout"`
	DialTimeout    time.Duration `yaml:"dial_timeout"`
	PingInterval   time.Duration `yaml:"ping_interval"`
	// MaxBackoff caps the redial backoff (default 5 s).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// SIPEndpoint is the PJSIP endpoint that sip: URIs are dialled
	// through (default "hotline"): PJSIP/hotline/sip:user@host:port.
	SIPEndpoint string `yaml:"sip_endpoint"`
	// Trunk is the PJSIP endpoint tel/ numbers go to when the endpoint
	// names no trunk; empty: tel/ without @trunk is ErrNotFound.
	Trunk string `yaml:"trunk"`
	// MediaDir is where Hotline's prompt files live on the Asterisk host
	// (sound:<MediaDir>/<file>); empty: Asterisk's own sounds dir.
	MediaDir string `yaml:"media_dir"`
	// MediaListen is the address of the adapter's prompt server (uploaded
	// prompts and TTS, fetched by Asterisk through res_http_media_cache);
	// default "127.0.0.1:0". MediaURL is the base URL Asterisk uses to
	// reach it (default "http://" + the listening address).
	MediaListen string `yaml:"media_listen"`
	MediaURL    string `yaml:"media_url"`
	// MusicClass is the MOH class for Hold without music (default "default").
	MusicClass string `yaml:"music_class"`
}

func (c *Config) withDefaults() {
	if c.App == "" {
		c.App = "hotline"
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 5 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 5 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.SIPEndpoint == "" {
		c.SIPEndpoint = "hotline"
	}
	if c.MediaListen == "" {
		c.MediaListen = "127.0.0.1:0"
	}
	if c.MusicClass == "" {
		c.MusicClass = "default"
	}
}

// String describes the node without its password.
func (c Config) String() string {
	return fmt.Sprintf("asterisk{url=%s user=%s app=%s password=<redacted>}", c.URL, c.User, c.App)
}

// validate checks the configuration and returns the parsed ARI URL.
func (c *Config) validate() (*url.URL, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: ari url does not parse", ErrConfig)
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: ari url %q: want http(s)://host:port/ari without credentials", ErrConfig, u.Redacted())
	}
	if u.Scheme == "http" && !c.AllowInsecureRemote && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: plain http to non-loopback host %q (set allow_insecure_remote: true to accept)", ErrInsecureRemote, u.Hostname())
	}
	if c.User == "" || c.Password == "" {
		return nil, fmt.Errorf("%w: user and password are required", ErrConfig)
	}
	for name, v := range map[string]string{"user": c.User, "app": c.App, "sip_endpoint": c.SIPEndpoint, "trunk": c.Trunk, "music_class": c.MusicClass} {
		if v != "" && !isWord(v) {
			return nil, fmt.Errorf("%w: %s %q: letters, digits, '.', '_' and '-' only", ErrConfig, name, v)
		}
	}
	if strings.ContainsAny(c.Password, "\r\n") {
		return nil, fmt.Errorf("%w: password holds a line break", ErrConfig)
	}
	if c.MediaDir != "" && (!strings.HasPrefix(c.MediaDir, "/") || !isPath(strings.TrimPrefix(c.MediaDir, "/"))) {
		return nil, fmt.Errorf("%w: media_dir %q: an absolute path of letters, digits, '.', '_', '-' and '/'", ErrConfig, c.MediaDir)
	}
	if c.MediaURL != "" {
		mu, err := url.Parse(c.MediaURL)
		if err != nil || (mu.Scheme != "http" && mu.Scheme != "https") || mu.Host == "" || mu.RawQuery != "" {
			return nil, fmt.Errorf("%w: media_url %q", ErrConfig, c.MediaURL)
		}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isWord accepts Asterisk object names (endpoints, apps, users, classes).
func isWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isPath accepts a relative path of words separated by '/', none of them
// "." or "..": what may follow "sound:" or name a recording. ARI splits
// its media parameter on ',' and a ':' would start another URI scheme, so
// both are refused.
func isPath(s string) bool {
	if s == "" || len(s) > mediacore.MaxDialLen {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		if part == "." || part == ".." || !isWord(part) {
			return false
		}
	}
	return true
}

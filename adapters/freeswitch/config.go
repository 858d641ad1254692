package freeswitch

import (
	"fmt"
	"log/slog"
	"net"
	"path"
	"strings"
	"time"
)

// Config is one FreeSWITCH node. The yaml keys are what a media_nodes entry
// of kind "freeswitch" holds under config:.
type Config struct {
	// Address is the event socket, "host:port" (required).
	Address string `yaml:"address"`
	// Password is the event socket password (required; "ClueCon",
	// FreeSWITCH's default, is refused).
	Password string `yaml:"password"`
	// AllowRemote accepts a non-loopback Address. ESL is plain text (the
	// password and every command travel in clear): only set it when the
	// link is secured (VPN, stunnel, a private segment).
	AllowRemote bool `yaml:"allow_remote"`
	// Profile is the sofia profile for "sip:" endpoints (default "hotline").
	Profile string `yaml:"profile"`
	// Domain is the directory domain of "user/" endpoints (default: the
	// host of Address).
	Domain string `yaml:"domain"`
	// Gateway is the sofia gateway for "tel/" endpoints without a trunk
	// name ("tel/N@trunk" uses gateway "trunk"); empty: tel/ is ErrNotFound.
	Gateway string `yaml:"gateway"`
	// MediaDir is where the switch finds MediaFile prompts (a path on the
	// switch; default: the switch's sounds_dir).
	MediaDir string `yaml:"media_dir"`
	// RecordingsDir is where the switch writes recordings (a path on the
	// switch; default: the switch's recordings_dir).
	RecordingsDir string `yaml:"recordings_dir"`
	// SharedRecordingsDir is RecordingsDir as Hotline sees it (a shared
	// mount). Without it OpenRecording answers ErrNotSupported: this build
	// has no mod_http_cache/mod_httapi to upload a file, and ESL cannot read
	// one.
	SharedRecordingsDir string `yaml:"shared_recordings_dir"`
	// SharedMediaDir is MediaDir as Hotline sees it. Without it PutMedia
	// (and so the Core's TTS fallback) answers ErrNotSupported: the switch
	// cannot fetch http:// prompts without mod_http_cache.
	SharedMediaDir string `yaml:"shared_media_dir"`
	// ConferenceProfile is the mod_conference profile of bridges (default
	// "hotline", see deploy/freeswitch).
	ConferenceProfile string `yaml:"conference_profile"`
	// CommandTimeout bounds one ESL command (default 5 s); a command
	// without reply in time closes and redials the connection.
	CommandTimeout time.Duration `yaml:"command_timeout"`
	// WatchdogInterval is how often an idle connection is probed with
	// "api status" (default 5 s).
	WatchdogInterval time.Duration `yaml:"watchdog_interval"`
	// RedialMax caps the backoff between redials (default 5 s).
	RedialMax time.Duration `yaml:"redial_max"`

	// Logger receives the backend's logs (nil discards them).
	Logger *slog.Logger `yaml:"-"`
}

func (c *Config) defaults() error {
	if c.Address == "" {
		return fmt.Errorf("%w: address is required", ErrInsecureConfig)
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil || port == "" {
		return fmt.Errorf("%w: address %q: want host:port", ErrInsecureConfig, c.Address)
	}
	if c.Password == "" || c.Password == "ClueCon" {
		return fmt.Errorf("%w: set a password other than FreeSWITCH's default", ErrInsecureConfig)
	}
	if strings.ContainsAny(c.Password, " \t\r\n") {
		return fmt.Errorf("%w: password with white space", ErrInsecureConfig)
	}
	if !c.AllowRemote && !isLoopback(host) {
		return fmt.Errorf("%w: %s is not a loopback address; set allow_remote: true only over a secured link", ErrInsecureConfig, host)
	}
	if c.Profile == "" {
		c.Profile = "hotline"
	}
	if c.Domain == "" {
		c.Domain = host
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			c.Domain = "[" + host + "]"
		}
	}
	if c.ConferenceProfile == "" {
		c.ConferenceProfile = "hotline"
	}
	for _, s := range []struct{ name, v string }{
		{"profile", c.Profile}, {"domain", c.Domain}, {"gateway", c.Gateway}, {"conference_profile", c.ConferenceProfile},
	} {
		v := s.v
		if s.name == "domain" {
			v = strings.NewReplacer("[", "", "]", "", ":", "").Replace(v)
		}
		if s.v != "" && !isWord(v) {
			return fmt.Errorf("%w: %s %q", ErrInsecureConfig, s.name, s.v)
		}
	}
	for _, d := range []struct{ name, v string }{{"media_dir", c.MediaDir}, {"recordings_dir", c.RecordingsDir}} {
		if d.v != "" && (!path.IsAbs(d.v) || !safePath(d.v)) {
			return fmt.Errorf("%w: %s %q: want an absolute path without spaces or quotes", ErrInsecureConfig, d.name, d.v)
		}
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 5 * time.Second
	}
	if c.WatchdogInterval <= 0 {
		c.WatchdogInterval = 5 * time.Second
	}
	if c.RedialMax <= 0 {
		c.RedialMax = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isWord accepts config words that reach commands: letters, digits, '-',
// '_', '.'.
func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"hotline/controller/webhook"
	"hotline/mediacore"
)

// config is everything the daemon can be told. Each field has one YAML key,
// one HOTLINE_* environment variable and one flag, all listed in settings.
type config struct {
	DataDir     string `yaml:"data_dir"`
	HTTPAddr    string `yaml:"http_addr"`
	SIPAddr     string `yaml:"sip_addr"`
	DatabaseURL string `yaml:"database_url"`
	Demo        bool   `yaml:"demo"`
	LogLevel    string `yaml:"log_level"`
	SIPRealm    string `yaml:"sip_realm"`
	// SIPDigestAlgorithms are the digest challenges offered to phones,
	// preferred first, comma-separated ("SHA-256,MD5"). The default is MD5
	// alone: SIPp 3.6 and libre-based phones (baresip) give up when a
	// SHA-256 challenge comes first, or at all (RFC 8760 §2.4 lets the
	// server offer both; the phones do not cope).
	SIPDigestAlgorithms string `yaml:"sip_digest_algorithms"`
	RTPPortMin          int    `yaml:"rtp_port_min"`
	RTPPortMax          int    `yaml:"rtp_port_max"`
	// MediaTimeout hangs up a native call leg after this long without RTP
	// from a phone that should be sending (not while it is held): a phone
	// that lost its network, or a BYE lost on the way, would otherwise keep
	// its call, and its agent, busy for ever. 0 turns it off.
	MediaTimeout  time.Duration `yaml:"media_timeout"`
	MediaBackend  string        `yaml:"media_backend"`
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// BlacklistAction is how a blacklisted caller is refused: busy (SIP
	// 486) or reject (603 Decline).
	BlacklistAction string `yaml:"blacklist_action"`
	// MediaNodes lists the media nodes the controller drives (YAML only).
	// Empty means one node of kind media_backend named "native", configured
	// from sip_addr, rtp_port_min/max, sip_realm, sip_digest_algorithms and
	// data_dir, so the flags keep working without a file.
	MediaNodes []mediaNode `yaml:"media_nodes"`
	// Webhooks lists the CRM URLs the CTI events are POSTed to, signed
	// (YAML only: the secrets belong in a file, not in argv).
	Webhooks       []webhookConfig `yaml:"webhooks"`
	BootstrapToken string          `yaml:"-"` // environment only: a secret does not belong in a file or argv
	// SMTP e-mails new voicemail messages (YAML only; smtp.go).
	SMTP *smtpConfig `yaml:"smtp"`
}

// mediaNode is one entry of media_nodes: a name unique among the nodes, a
// backend kind registered in mediacore (e.g. native), and that backend's
// own configuration section, decoded by the backend (for native, the keys
// of native.Config: listen, rtp_port_min, ...). A native node's section is
// applied over the defaults taken from the top-level sip and rtp keys.
type mediaNode struct {
	Name   string    `yaml:"name"`
	Kind   string    `yaml:"kind"`
	Config yaml.Node `yaml:"config"`
}

// webhookConfig is one entry of webhooks, the fields of webhook.Endpoint:
// id (optional, default webhook-<n> counting from 1; it names the endpoint
// in metrics and X-Hotline-Delivery), url (http or https), secret (the HMAC
// key) and events (cti.Types patterns such as "call.*"; empty means all).
type webhookConfig struct {
	ID     string   `yaml:"id"`
	URL    string   `yaml:"url"`
	Secret string   `yaml:"secret"`
	Events []string `yaml:"events"`
}

// UnmarshalYAML refuses a key webhook.Endpoint does not have, so that a
// misspelt events or secret is an error rather than a silent default.
func (w *webhookConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of id, url, secret, events", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "id", "url", "secret", "events":
		default:
			return fmt.Errorf("line %d: unknown key %q: want id, url, secret, events", k.Line, k.Value)
		}
	}
	type plain webhookConfig
	return n.Decode((*plain)(w))
}

// maxWebhooks bounds webhooks: each endpoint has its own queue and worker.
const maxWebhooks = 32

// maxMediaNodes is how many media nodes one daemon drives
// (mediacore.NewNodes places calls across them).
const maxMediaNodes = 16

// defaultConfig is the one place that holds every default.
func defaultConfig() config {
	return config{
		DataDir:             "./data",
		HTTPAddr:            "127.0.0.1:8080",
		SIPAddr:             "127.0.0.1:5060",
		DatabaseURL:         "", // empty: the embedded SQLite store in DataDir
		LogLevel:            "info",
		SIPRealm:            "hotline",
		SIPDigestAlgorithms: "MD5",
		RTPPortMin:          20000,
		RTPPortMax:          29999,
		MediaTimeout:        60 * time.Second,
		MediaBackend:        "native",
		ShutdownGrace:       10 * time.Second,
		BlacklistAction:     "busy",
	}
}

// setting ties a config field to its environment variable and flag.
type setting struct {
	env, flag, usage string
	value            flag.Value
}

func settings(c *config) []setting {
	return []setting{
		{"HOTLINE_DATA_DIR", "data", "data directory (embedded database, recordings, prompts)", stringValue{&c.DataDir}},
		{"HOTLINE_HTTP_ADDR", "http", "HTTP listen address for the API", stringValue{&c.HTTPAddr}},
		{"HOTLINE_SIP_ADDR", "sip", "SIP listen address of the native media core (UDP and TCP)", stringValue{&c.SIPAddr}},
		{"HOTLINE_DATABASE_URL", "database-url", "PostgreSQL URL; empty uses the embedded store in the data directory", stringValue{&c.DatabaseURL}},
		{"HOTLINE_DEMO", "demo", "seed an empty store with a small demo call center", boolValue{&c.Demo}},
		{"HOTLINE_LOG_LEVEL", "log-level", "log level: debug, info, warn, error", stringValue{&c.LogLevel}},
		{"HOTLINE_SIP_REALM", "sip-realm", "SIP digest realm for agent phones", stringValue{&c.SIPRealm}},
		{"HOTLINE_SIP_DIGEST_ALGORITHMS", "sip-digest-algorithms", "digest challenges offered to phones, preferred first: MD5, SHA-256", stringValue{&c.SIPDigestAlgorithms}},
		{"HOTLINE_RTP_PORT_MIN", "rtp-port-min", "lowest RTP port of the native media core", intValue{&c.RTPPortMin}},
		{"HOTLINE_RTP_PORT_MAX", "rtp-port-max", "highest RTP port of the native media core", intValue{&c.RTPPortMax}},
		{"HOTLINE_MEDIA_TIMEOUT", "media-timeout", "hang up a native call leg after this long without RTP (0: never)", durationValue{&c.MediaTimeout}},
		{"HOTLINE_MEDIA_BACKEND", "media-backend", "media core backend: native", stringValue{&c.MediaBackend}},
		{"HOTLINE_SHUTDOWN_GRACE", "shutdown-grace", "how long a graceful shutdown may take", durationValue{&c.ShutdownGrace}},
		{"HOTLINE_BLACKLIST_ACTION", "blacklist-action", "how a blacklisted caller is refused: busy (486) or reject (603)", stringValue{&c.BlacklistAction}},
	}
}

// errConfig marks a configuration the daemon refuses.
var errConfig = errors.New("config")

// commands are the daemon's subcommands, in the order help lists them.
var commands = []struct{ name, doc string }{
	{"serve", "run the call center: API, media core, controller (the default command)"},
	{"migrate", "apply the database migrations and exit"},
	{"demo", "serve a demo call center on a temporary embedded store, drive it with sim, print the verdict and stop (demo -h)"},
	{"sim", "drive a running Hotline with simulated agents and callers and reconcile its reports (sim -h)"},
	{"version", "print the version"},
	{"help", "show this help"},
}

// commandFlags lists the flags a command other than serve takes; serve
// takes them all.
var commandFlags = map[string][]string{
	"migrate": {"data", "database-url", "log-level"},
}

// loadConfig builds serve's configuration (see loadCommandConfig).
func loadConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	return loadCommandConfig("serve", args, getenv, usage)
}

// loadCommandConfig builds the configuration of cmd: defaults, then the
// YAML file named by --config (or HOTLINE_CONFIG), then HOTLINE_*
// variables, then the flags cmd takes. -h prints the commands (for serve)
// and cmd's flags with their defaults and variables.
func loadCommandConfig(cmd string, args []string, getenv func(string) string, usage io.Writer) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("hotline "+cmd, flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() { printUsage(fs, cmd) }
	configPath := fs.String("config", getenv("HOTLINE_CONFIG"), "YAML configuration file ($HOTLINE_CONFIG)")
	// Flags are parsed into a scratch config first, so that the file and the
	// environment can be applied before the flags override them.
	var fromFlags config
	flagSettings := settings(&fromFlags)
	defaults := settings(&c)
	for i, s := range flagSettings {
		if only, ok := commandFlags[cmd]; ok && !slices.Contains(only, s.flag) {
			continue
		}
		// The flag package shows no default: the scratch values are zero.
		fs.Var(s.value, s.flag, fmt.Sprintf("%s (default %q, $%s)", s.usage, defaults[i].value.String(), s.env))
	}
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("%w: %w", errConfig, err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("%w: unexpected argument %q", errConfig, fs.Arg(0))
	}
	if *configPath != "" {
		raw, err := os.ReadFile(*configPath)
		if err != nil {
			return config{}, fmt.Errorf("%w: %w", errConfig, err)
		}
		if err := decodeConfigFile(raw, &c); err != nil {
			return config{}, fmt.Errorf("%w: %s: %w", errConfig, *configPath, err)
		}
	}
	for _, s := range settings(&c) {
		if v := getenv(s.env); v != "" {
			if err := s.value.Set(v); err != nil {
				return config{}, fmt.Errorf("%w: %s: %w", errConfig, s.env, err)
			}
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	target := settings(&c)
	for i, s := range flagSettings {
		if set[s.flag] {
			if err := target[i].value.Set(s.value.String()); err != nil {
				return config{}, fmt.Errorf("%w: --%s: %w", errConfig, s.flag, err)
			}
		}
	}
	c.BootstrapToken = getenv("HOTLINE_BOOTSTRAP_TOKEN")
	return c, c.validate()
}

// printUsage writes cmd's help: for serve, the commands too.
func printUsage(fs *flag.FlagSet, cmd string) {
	w := fs.Output()
	if cmd == "serve" {
		fmt.Fprintln(w, "usage: hotline [command] [flags]")
		fmt.Fprintln(w, "\ncommands:")
		for _, c := range commands {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.doc)
		}
		fmt.Fprintln(w, "\nflags of serve (hotline migrate -h lists migrate's); the environment variable")
		fmt.Fprintln(w, "overrides the configuration file, the flag overrides both; the admin token")
		fmt.Fprintln(w, "of a fresh install comes from $HOTLINE_BOOTSTRAP_TOKEN:")
	} else {
		fmt.Fprintf(w, "usage: hotline %s [flags]\n\nflags:\n", cmd)
	}
	fs.PrintDefaults()
}

// decodeConfigFile applies a YAML mapping to c key by key, so that an
// unknown key or a value of the wrong type is reported with its key's name
// and line.
func decodeConfigFile(raw []byte, c *config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return err
	}
	if len(root.Content) == 0 {
		return nil // an empty file changes nothing
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of keys to values", doc.Line)
	}
	fields := map[string]any{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		if tag := v.Type().Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			fields[tag] = v.Field(i).Addr().Interface()
		}
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, value := doc.Content[i], doc.Content[i+1]
		field, ok := fields[key.Value]
		if !ok {
			return fmt.Errorf("line %d: unknown key %q", key.Line, key.Value)
		}
		if err := value.Decode(field); err != nil {
			return fmt.Errorf("line %d: %s: %w", key.Line, key.Value, err)
		}
	}
	return nil
}

func (c config) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("%w: data_dir is empty", errConfig)
	}
	for name, addr := range map[string]string{"http_addr": c.HTTPAddr, "sip_addr": c.SIPAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%w: %s %q: %w", errConfig, name, addr, err)
		}
	}
	switch c.BlacklistAction {
	case "busy", "reject":
	default:
		return fmt.Errorf("%w: blacklist_action %q: want busy or reject", errConfig, c.BlacklistAction)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%w: log_level %q: want debug, info, warn or error", errConfig, c.LogLevel)
	}
	if c.MediaTimeout < 0 {
		return fmt.Errorf("%w: media_timeout %v is negative", errConfig, c.MediaTimeout)
	}
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65535 || c.RTPPortMax-c.RTPPortMin < 2 {
		return fmt.Errorf("%w: rtp ports %d-%d: want a range of at least 2 inside 1024-65535", errConfig, c.RTPPortMin, c.RTPPortMax)
	}
	for _, alg := range strings.Split(c.SIPDigestAlgorithms, ",") {
		if alg != "MD5" && alg != "SHA-256" {
			return fmt.Errorf("%w: sip_digest_algorithms %q: want MD5 and/or SHA-256, comma-separated", errConfig, c.SIPDigestAlgorithms)
		}
	}
	if !slices.Contains(mediacore.Backends(), c.MediaBackend) {
		return fmt.Errorf("%w: media_backend %q: want one of %v", errConfig, c.MediaBackend, mediacore.Backends())
	}
	if err := validateMediaNodes(c.MediaNodes); err != nil {
		return err
	}
	if err := validateWebhooks(c.Webhooks); err != nil {
		return err
	}
	if err := c.SMTP.validate(); err != nil {
		return err
	}
	if c.ShutdownGrace <= 0 {
		return fmt.Errorf("%w: shutdown_grace must be positive", errConfig)
	}
	if c.BootstrapToken != "" && len(c.BootstrapToken) < 16 {
		return fmt.Errorf("%w: HOTLINE_BOOTSTRAP_TOKEN must be at least 16 characters", errConfig)
	}
	return nil
}

func validateMediaNodes(nodes []mediaNode) error {
	seen := map[string]bool{}
	for i, n := range nodes {
		key := fmt.Sprintf("media_nodes[%d]", i)
		if n.Name == "" {
			return fmt.Errorf("%w: %s.name is empty", errConfig, key)
		}
		if seen[n.Name] {
			return fmt.Errorf("%w: %s.name %q is used twice", errConfig, key, n.Name)
		}
		seen[n.Name] = true
		if !slices.Contains(mediacore.Backends(), n.Kind) {
			return fmt.Errorf("%w: %s.kind %q: want one of %v", errConfig, key, n.Kind, mediacore.Backends())
		}
		if n.Config.Kind != 0 && n.Config.Kind != yaml.MappingNode {
			return fmt.Errorf("%w: %s.config (line %d): want a mapping", errConfig, key, n.Config.Line)
		}
	}
	if len(nodes) > maxMediaNodes {
		return fmt.Errorf("%w: media_nodes lists %d nodes; a daemon drives at most %d",
			errConfig, len(nodes), maxMediaNodes)
	}
	return nil
}

// validateWebhooks checks webhooks the way webhook.New will, naming the
// entry and field; an error never quotes a secret.
func validateWebhooks(hooks []webhookConfig) error {
	if len(hooks) > maxWebhooks {
		return fmt.Errorf("%w: webhooks lists %d endpoints; at most %d", errConfig, len(hooks), maxWebhooks)
	}
	seen := map[string]bool{}
	for i, h := range hooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		id := webhookID(i, h)
		if seen[id] {
			return fmt.Errorf("%w: %s.id %q is used twice", errConfig, key, id)
		}
		seen[id] = true
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: %s.url %q: want an http or https URL", errConfig, key, h.URL)
		}
		if u.User != nil {
			return fmt.Errorf("%w: %s.url: credentials in the URL; use secret", errConfig, key)
		}
		if h.Secret == "" {
			return fmt.Errorf("%w: %s.secret is empty", errConfig, key)
		}
		for j, e := range h.Events {
			if e == "" || strings.ContainsAny(e, " \t,") || strings.Contains(strings.TrimSuffix(e, "*"), "*") {
				return fmt.Errorf("%w: %s.events[%d] %q: want an event type or a prefix ending in *, such as call.*", errConfig, key, j, e)
			}
		}
	}
	return nil
}

// webhookID is the endpoint id of webhooks[i].
func webhookID(i int, h webhookConfig) string {
	if h.ID != "" {
		return h.ID
	}
	return fmt.Sprintf("webhook-%d", i+1)
}

// webhookEndpoints turns the validated webhooks into the dispatcher's
// endpoints.
func webhookEndpoints(hooks []webhookConfig) []webhook.Endpoint {
	var eps []webhook.Endpoint
	for i, h := range hooks {
		eps = append(eps, webhook.Endpoint{ID: webhookID(i, h), URL: h.URL, Secret: h.Secret, Types: h.Events})
	}
	return eps
}

type stringValue struct{ p *string }

func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v stringValue) Set(s string) error { *v.p = s; return nil }

type boolValue struct{ p *bool }

func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}
func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*v.p = b
	return nil
}
func (v boolValue) IsBoolFlag() bool { return true }

type intValue struct{ p *int }

func (v intValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}
func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

type durationValue struct{ p *time.Duration }

func (v durationValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}
func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*v.p = d
	return nil
}

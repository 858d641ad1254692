package main

import (
	"fmt"
	"net/mail"

	"gopkg.in/yaml.v3"

	"hotline/controller"
	"hotline/internal/smtpmail"
)

// smtpConfig is the smtp: key (YAML only: it holds a password): where new
// voicemail messages are e-mailed from, with their WAV attached.
//
//	smtp:
//	  host: mail.example.com
//	  port: 587          # default 587 with starttls, else 25
//	  starttls: true     # upgrade before AUTH (RFC 3207); required if set
//	  username: hotline  # AUTH PLAIN when set
//	  password: secret
//	  from: Hotline <hotline@example.com>
type smtpConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	StartTLS bool   `yaml:"starttls"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
}

// UnmarshalYAML refuses unknown keys (a misspelt starttls must not send
// in clear).
func (s *smtpConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of host, port, starttls, username, password, from", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "host", "port", "starttls", "username", "password", "from":
		default:
			return fmt.Errorf("line %d: unknown key %q: want host, port, starttls, username, password, from", k.Line, k.Value)
		}
	}
	type plain smtpConfig
	return n.Decode((*plain)(s))
}

func (s *smtpConfig) validate() error {
	if s == nil {
		return nil
	}
	if s.Host == "" {
		return fmt.Errorf("%w: smtp.host is empty", errConfig)
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("%w: smtp.port %d: want 1-65535", errConfig, s.Port)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("%w: smtp.from %q: %w", errConfig, s.From, err)
	}
	if s.Password != "" && s.Username == "" {
		return fmt.Errorf("%w: smtp.password without smtp.username", errConfig)
	}
	return nil
}

// mailer is the call path's voicemail mailer; nil without smtp:.
func (s *smtpConfig) mailer() controller.VoicemailMailer {
	if s == nil {
		return nil
	}
	return smtpmail.Config{Host: s.Host, Port: s.Port, StartTLS: s.StartTLS, Username: s.Username,
		Password: s.Password, From: s.From}
}

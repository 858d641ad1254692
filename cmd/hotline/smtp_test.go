package main

import (
	"errors"
	"strings"
	"testing"

	"hotline/internal/smtpmail"
)

func TestSMTPConfig(t *testing.T) {
	c := defaultConfig()
	if c.SMTP.mailer() != nil {
		t.Fatal("a mailer without smtp:")
	}
	raw := "smtp:\n  host: mail.example.com\n  port: 2525\n  starttls: true\n  username: hl\n  password: pw\n  from: Hotline <hl@example.com>\n"
	if err := decodeConfigFile([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	m, ok := c.SMTP.mailer().(smtpmail.Config)
	if !ok || m.Host != "mail.example.com" || m.Port != 2525 || !m.StartTLS || m.Username != "hl" || m.Password != "pw" {
		t.Fatalf("mailer = %+v", m)
	}
	for name, tc := range map[string]struct{ raw, want string }{
		"unknown key":    {"smtp:\n  host: a\n  from: a@b.c\n  start_tls: true\n", `unknown key "start_tls"`},
		"no host":        {"smtp:\n  from: a@b.c\n", "smtp.host"},
		"bad from":       {"smtp:\n  host: a\n  from: nobody\n", "smtp.from"},
		"password alone": {"smtp:\n  host: a\n  from: a@b.c\n  password: x\n", "smtp.password"},
	} {
		t.Run(name, func(t *testing.T) {
			c := defaultConfig()
			err := decodeConfigFile([]byte(tc.raw), &c)
			if err == nil {
				err = c.validate()
				if err != nil && !errors.Is(err, errConfig) {
					t.Fatalf("err %v is not errConfig", err)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

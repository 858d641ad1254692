package smtpmail_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"hotline/internal/smtpmail"
	"hotline/internal/smtpmail/smtptest"
)

func server(t *testing.T, user, pass string) (*smtptest.Server, smtpmail.Config) {
	t.Helper()
	s, err := smtptest.Start(user, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	return s, smtpmail.Config{Host: host, Port: p, Username: user, Password: pass, From: "Hotline <vm@example.com>"}
}

func TestSendWithAttachment(t *testing.T) {
	s, cfg := server(t, "hotline", "s3cret")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	wav := bytes.Repeat([]byte{0, 1, 2, 3, 250}, 1000)
	err := cfg.Send(ctx, smtpmail.Message{To: []string{"agent@example.com"}, Subject: "新语音留言 from 13800000001",
		Text: "hello", Attachments: []smtpmail.Attachment{{Name: "msg.wav", ContentType: "audio/wav", Data: wav}}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-s.Messages:
		if m.Auth != "hotline" || m.From != "vm@example.com" || len(m.To) != 1 || m.To[0] != "agent@example.com" ||
			m.Subject != "新语音留言 from 13800000001" || len(m.Parts) != 2 {
			t.Fatalf("message = %+v", m)
		}
		if string(m.Parts[0].Data) != "hello" || m.Parts[1].Filename != "msg.wav" || !bytes.Equal(m.Parts[1].Data, wav) {
			t.Fatalf("parts = %q, %q (%d bytes)", m.Parts[0].Data, m.Parts[1].Filename, len(m.Parts[1].Data))
		}
	case <-ctx.Done():
		t.Fatal("no message")
	}
}

func TestSendRefused(t *testing.T) {
	_, cfg := server(t, "hotline", "s3cret")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for name, tc := range map[string]struct {
		cfg  smtpmail.Config
		msg  smtpmail.Message
		want error
	}{
		"no recipient": {cfg, smtpmail.Message{}, smtpmail.ErrInvalidMessage},
		"no host":      {smtpmail.Config{From: "a@b.c"}, smtpmail.Message{To: []string{"x@y.z"}}, smtpmail.ErrInvalidConfig},
		"bad password": {func() smtpmail.Config { c := cfg; c.Password = "wrong"; return c }(), smtpmail.Message{To: []string{"x@y.z"}}, nil},
		"starttls not offered": {func() smtpmail.Config { c := cfg; c.StartTLS = true; return c }(),
			smtpmail.Message{To: []string{"x@y.z"}}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Send(ctx, tc.msg)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// STARTTLS upgrades the session before AUTH and the message.
func TestSendStartTLS(t *testing.T) {
	s, err := smtptest.StartTLS("hotline", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg := smtpmail.Config{Host: host, Port: p, StartTLS: true, Username: "hotline", Password: "s3cret",
		From: "vm@example.com", TLS: s.ClientTLS()}
	if err := cfg.Send(ctx, smtpmail.Message{To: []string{"a@example.com"}, Subject: "x", Text: "over TLS"}); err != nil {
		t.Fatal(err)
	}
	m := <-s.Messages
	if !m.TLS || m.Auth != "hotline" || string(m.Parts[0].Data) != "over TLS" {
		t.Fatalf("message = TLS %v auth %q parts %+v", m.TLS, m.Auth, m.Parts)
	}
	// An untrusted certificate is refused, not skipped.
	cfg.TLS = nil
	if err := cfg.Send(ctx, smtpmail.Message{To: []string{"a@example.com"}}); err == nil {
		t.Fatal("sent to a server whose certificate is not trusted")
	}
}

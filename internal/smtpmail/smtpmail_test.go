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

package smtpmail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidConfig is a Config that cannot send (no host, no sender).
var ErrInvalidConfig = errors.New("smtpmail: invalid configuration")

// ErrInvalidMessage is a message without a valid recipient.
var ErrInvalidMessage = errors.New("smtpmail: invalid message")

// Config is where and how mail is sent (cmd/hotline's smtp: key).
type Config struct {
	Host string `json:"host" yaml:"host"`
	Port int    `json:"port" yaml:"port"` // 0: 587 with StartTLS, else 25
	// StartTLS upgrades the connection before AUTH and the message; a
	// server that does not offer it is an error (no silent downgrade).
	StartTLS bool   `json:"starttls" yaml:"starttls"`
	Username string `json:"username" yaml:"username"`
	Password string `json:"password" yaml:"password"`
	From     string `json:"from" yaml:"from"`
	// TLS configures STARTTLS (nil: verify Host with the system roots).
	TLS *tls.Config `json:"-" yaml:"-"`
}

// Attachment is one attached file.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one e-mail.
type Message struct {
	To          []string
	Subject     string
	Text        string
	Attachments []Attachment
}

func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = 25
		if c.StartTLS {
			port = 587
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// Send delivers m. ctx bounds the whole exchange (its deadline becomes the
// connection's).
func (c Config) Send(ctx context.Context, m Message) error {
	if c.Host == "" || c.From == "" {
		return fmt.Errorf("%w: host and from are required", ErrInvalidConfig)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fmt.Errorf("%w: from %q: %w", ErrInvalidConfig, c.From, err)
	}
	if len(m.To) == 0 {
		return fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	}
	var to []string
	for _, t := range m.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return fmt.Errorf("%w: recipient %q: %w", ErrInvalidMessage, t, err)
		}
		to = append(to, a.Address)
	}
	body, err := compose(from.String(), to, m)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr())
	if err != nil {
		return fmt.Errorf("smtpmail: dial %s: %w", c.addr(), err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled ctx without a deadline still ends the exchange.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return fmt.Errorf("smtpmail: greeting: %w", err)
	}
	defer cl.Close()
	if err := cl.Hello("localhost"); err != nil {
		return fmt.Errorf("smtpmail: EHLO: %w", err)
	}
	if c.StartTLS {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtpmail: %s does not offer STARTTLS", c.Host)
		}
		tc := c.TLS
		if tc == nil {
			tc = &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
		}
		if err := cl.StartTLS(tc); err != nil {
			return fmt.Errorf("smtpmail: STARTTLS: %w", err)
		}
	}
	if c.Username != "" {
		// net/smtp's PlainAuth refuses to send the password over an
		// unencrypted connection except to localhost.
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("smtpmail: AUTH: %w", err)
		}
	}
	if err := cl.Mail(from.Address); err != nil {
		return fmt.Errorf("smtpmail: MAIL FROM: %w", err)
	}
	for _, t := range to {
		if err := cl.Rcpt(t); err != nil {
			return fmt.Errorf("smtpmail: RCPT TO %s: %w", t, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("smtpmail: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtpmail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtpmail: end of message: %w", err)
	}
	return cl.Quit()
}

// compose builds the RFC 5322 message: headers, a text part and the
// attachments, CRLF line endings throughout.
func compose(from string, to []string, m Message) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var hdr bytes.Buffer
	hdr.WriteString("From: " + from + "\r\n")
	hdr.WriteString("To: " + strings.Join(to, ", ") + "\r\n")
	hdr.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", m.Subject) + "\r\n")
	hdr.WriteString("Date: " + time.Now().Format(time.RFC1123Z) + "\r\n")
	hdr.WriteString("Message-ID: <" + randomID() + "@hotline>\r\n")
	hdr.WriteString("MIME-Version: 1.0\r\n")
	hdr.WriteString("Content-Type: multipart/mixed; boundary=" + mw.Boundary() + "\r\n\r\n")
	th := textproto.MIMEHeader{}
	th.Set("Content-Type", "text/plain; charset=utf-8")
	th.Set("Content-Transfer-Encoding", "base64")
	pw, err := mw.CreatePart(th)
	if err != nil {
		return nil, err
	}
	writeBase64(pw, []byte(m.Text))
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		ah := textproto.MIMEHeader{}
		ah.Set("Content-Type", ct)
		ah.Set("Content-Transfer-Encoding", "base64")
		ah.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		aw, err := mw.CreatePart(ah)
		if err != nil {
			return nil, err
		}
		writeBase64(aw, a.Data)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(hdr.Bytes(), buf.Bytes()...), nil
}

// writeBase64 writes data in base64 lines of 76 characters (RFC 2045
// §6.8).
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		_, _ = w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	_, _ = w.Write([]byte(enc + "\r\n"))
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Package smtptest is a tiny SMTP server on loopback for tests: it speaks
// enough of RFC 5321 for net/smtp (EHLO, AUTH PLAIN, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT), keeps every message it accepts and decodes its MIME
// parts. StartTLS makes it offer STARTTLS (RFC 3207) with a self-signed
// certificate for 127.0.0.1 that ClientTLS trusts.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Part is one decoded MIME part.
type Part struct {
	ContentType string
	Filename    string
	Data        []byte
}

// Message is one accepted message.
type Message struct {
	From    string
	To      []string
	Auth    string // the AUTH PLAIN user, "" without AUTH
	TLS     bool   // the session was upgraded with STARTTLS
	Subject string
	Raw     []byte
	Parts   []Part
}

// Server is the test server. Messages delivers each accepted message.
type Server struct {
	ln       net.Listener
	user     string
	password string
	tls      *tls.Config // server side; nil offers no STARTTLS
	roots    *x509.CertPool
	Messages chan Message
	wg       sync.WaitGroup
}

// Start listens on a free loopback port. A user ("" for none) must then
// log in with AUTH PLAIN and password before MAIL.
func Start(user, password string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, user: user, password: password, Messages: make(chan Message, 16)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// StartTLS is Start with STARTTLS offered.
func StartTLS(user, password string) (*Server, error) {
	cert, roots, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, user: user, password: password, Messages: make(chan Message, 16), roots: roots,
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// ClientTLS is a client configuration that trusts the server's
// certificate (nil without StartTLS).
func (s *Server) ClientTLS() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and waits for its connections.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

func (s *Server) session(c net.Conn) {
	tc := textproto.NewConn(c)
	_ = tc.PrintfLine("220 smtptest ready")
	var m Message
	authed := s.user == ""
	for {
		line, err := tc.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if s.tls != nil && !m.TLS {
				_ = tc.PrintfLine("250-smtptest\r\n250-STARTTLS\r\n250-AUTH PLAIN\r\n250 8BITMIME")
			} else {
				_ = tc.PrintfLine("250-smtptest\r\n250-AUTH PLAIN\r\n250 8BITMIME")
			}
		case "STARTTLS":
			if s.tls == nil || m.TLS {
				_ = tc.PrintfLine("502 not offered")
				continue
			}
			_ = tc.PrintfLine("220 go ahead")
			tlsConn := tls.Server(c, s.tls)
			if err := tlsConn.Handshake(); err != nil {
				return
			}
			// RFC 3207 §4.2: the session starts over on the TLS connection.
			tc = textproto.NewConn(tlsConn)
			m, authed = Message{TLS: true}, s.user == ""
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				_ = tc.PrintfLine("504 unsupported")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(ir)
			f := bytes.Split(b, []byte{0})
			if err != nil || len(f) != 3 || (s.user != "" && (string(f[1]) != s.user || string(f[2]) != s.password)) {
				_ = tc.PrintfLine("535 authentication failed")
				continue
			}
			authed, m.Auth = true, string(f[1])
			_ = tc.PrintfLine("235 ok")
		case "MAIL":
			if !authed {
				_ = tc.PrintfLine("530 authentication required")
				continue
			}
			m.From = addrOf(arg)
			_ = tc.PrintfLine("250 ok")
		case "RCPT":
			m.To = append(m.To, addrOf(arg))
			_ = tc.PrintfLine("250 ok")
		case "DATA":
			_ = tc.PrintfLine("354 go ahead")
			raw, err := tc.ReadDotBytes()
			if err != nil {
				return
			}
			m.Raw = raw
			decode(&m)
			_ = tc.PrintfLine("250 queued")
			select {
			case s.Messages <- m:
			default:
			}
			m = Message{Auth: m.Auth, TLS: m.TLS}
		case "RSET":
			m = Message{Auth: m.Auth, TLS: m.TLS}
			_ = tc.PrintfLine("250 ok")
		case "NOOP":
			_ = tc.PrintfLine("250 ok")
		case "QUIT":
			_ = tc.PrintfLine("221 bye")
			return
		default:
			_ = tc.PrintfLine("502 not implemented")
		}
	}
}

func addrOf(arg string) string {
	_, a, _ := strings.Cut(arg, ":")
	a = strings.TrimSpace(a)
	if i := strings.IndexByte(a, ' '); i >= 0 {
		a = a[:i]
	}
	return strings.Trim(a, "<>")
}

// decode fills Subject and Parts from Raw (a multipart message or a single
// part).
func decode(m *Message) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return
	}
	var dec mime.WordDecoder
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		body, _ := io.ReadAll(msg.Body)
		m.Parts = append(m.Parts, Part{ContentType: mt, Data: body})
		return
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			return
		}
		data, _ := io.ReadAll(p)
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			data, _ = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		_, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		m.Parts = append(m.Parts, Part{ContentType: ct, Filename: dp["filename"], Data: data})
	}
}

package sipdigest

import (
	"errors"
	"strings"
	"testing"
)

// rfc7616Header is the Authorization header of RFC 7616 §3.9.1 (SHA-256).
const rfc7616Header = `Digest username="Mufasa",
       realm="http-auth@example.org",
       uri="/dir/index.html",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
       qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`

func TestParseCredentials(t *testing.T) {
	// SIP headers arrive unfolded; the RFC example is folded for print.
	unfolded := strings.ReplaceAll(rfc7616Header, "\n       ", " ")
	tests := []struct {
		name string
		in   string
		want Credentials
	}{
		{
			name: "RFC 7616 3.9.1",
			in:   unfolded,
			want: Credentials{
				Username: "Mufasa", Realm: "http-auth@example.org", URI: "/dir/index.html",
				Algorithm: SHA256, Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
				NC: "00000001", CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", QOP: "auth",
				Response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
				Opaque:   "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
			},
		},
		{
			name: "typical SIP phone, no algorithm means MD5",
			in:   `Digest username="1001",realm="hotline",nonce="n1",uri="sip:127.0.0.1",response="abc"`,
			want: Credentials{Username: "1001", Realm: "hotline", Nonce: "n1", URI: "sip:127.0.0.1", Response: "abc", Algorithm: MD5},
		},
		{
			name: "case-insensitive scheme and names, quoted qop and nc, escapes",
			in:   `dIgEsT USERNAME="a\"b\\c", Realm = "r" ,NONCE="n",Uri="sip:x",RESPONSE="ff",Algorithm="md5",QOP="auth",NC="0000000A",cnonce="c,d",extra=token`,
			want: Credentials{Username: `a"b\c`, Realm: "r", Nonce: "n", URI: "sip:x", Response: "ff", Algorithm: MD5, QOP: "auth", NC: "0000000A", CNonce: "c,d"},
		},
		{
			name: "tabs and empty opaque",
			in:   "Digest\tusername=\"u\",\trealm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"ff\", opaque=\"\"",
			want: Credentials{Username: "u", Realm: "r", Nonce: "n", URI: "sip:x", Response: "ff", Algorithm: MD5},
		},
		{
			name: "UTF-8 user",
			in:   `Digest username="坐席1", realm="r", nonce="n", uri="sip:x", response="ff"`,
			want: Credentials{Username: "坐席1", Realm: "r", Nonce: "n", URI: "sip:x", Response: "ff", Algorithm: MD5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if *got != tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	const ok = `username="u", realm="r", nonce="n", uri="sip:x", response="ff"`
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"empty", "", ErrMalformed},
		{"basic scheme", `Basic dXNlcjpwYXNz`, ErrMalformed},
		{"scheme only", `Digest`, ErrMalformed},
		{"scheme glued", `Digestusername="u"`, ErrMalformed},
		{"duplicate param", `Digest ` + ok + `, username="v"`, ErrMalformed},
		{"duplicate param other case", `Digest ` + ok + `, NONCE="v"`, ErrMalformed},
		{"duplicate unknown param", `Digest ` + ok + `, x=1, X=2`, ErrMalformed},
		{"missing username", `Digest realm="r", nonce="n", uri="sip:x", response="ff"`, ErrMalformed},
		{"missing response", `Digest username="u", realm="r", nonce="n", uri="sip:x"`, ErrMalformed},
		{"empty username", `Digest username="", realm="r", nonce="n", uri="sip:x", response="ff"`, ErrMalformed},
		{"unterminated quote", `Digest username="u, realm="r"`, ErrMalformed},
		{"backslash at end", `Digest username="u\`, ErrMalformed},
		{"CRLF in quoted", "Digest username=\"u\r\nVia: x\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"ff\"", ErrMalformed},
		{"NUL in quoted", "Digest username=\"u\x00\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"ff\"", ErrMalformed},
		{"escaped CR", "Digest username=\"u\\\r\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"ff\"", ErrMalformed},
		{"no value", `Digest username=, realm="r"`, ErrMalformed},
		{"no equals", `Digest username "u"`, ErrMalformed},
		{"trailing comma", `Digest ` + ok + `,`, ErrMalformed},
		{"double comma", `Digest username="u",, realm="r", nonce="n", uri="sip:x", response="ff"`, ErrMalformed},
		{"garbage after value", `Digest username="u" x, realm="r"`, ErrMalformed},
		{"unknown algorithm", `Digest ` + ok + `, algorithm=SHA-512`, ErrUnsupportedAlgorithm},
		{"sess algorithm", `Digest ` + ok + `, algorithm=MD5-sess`, ErrUnsupportedAlgorithm},
		{"qop without nc", `Digest ` + ok + `, qop=auth, cnonce="c"`, ErrMalformed},
		{"qop without cnonce", `Digest ` + ok + `, qop=auth, nc=00000001`, ErrMalformed},
		{"short nc", `Digest ` + ok + `, qop=auth, nc=1, cnonce="c"`, ErrMalformed},
		{"non-hex nc", `Digest ` + ok + `, qop=auth, nc=0000000g, cnonce="c"`, ErrMalformed},
		{"too long", `Digest ` + ok + `, x="` + strings.Repeat("a", maxCredentialsLen) + `"`, ErrMalformed},
		{"too many params", `Digest ` + ok + manyParams(maxParams), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v (got %+v)", err, tt.wantErr, got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(", p")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString("=1")
	}
	return b.String()
}

// formatCredentials is the inverse of ParseCredentials for the fuzz
// round trip: every value quoted and escaped.
func formatCredentials(c *Credentials) string {
	var b strings.Builder
	b.WriteString("Digest ")
	kv := []struct{ k, v string }{
		{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce}, {"uri", c.URI},
		{"response", c.Response}, {"algorithm", c.Algorithm.String()}, {"cnonce", c.CNonce},
		{"opaque", c.Opaque}, {"qop", c.QOP}, {"nc", c.NC},
	}
	first := true
	for _, p := range kv {
		if p.v == "" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(p.k)
		b.WriteByte('=')
		writeQuoted(&b, p.v)
	}
	return b.String()
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(strings.ReplaceAll(rfc7616Header, "\n       ", " "))
	f.Add(`Digest username="1001",realm="hotline",nonce="n1",uri="sip:127.0.0.1",response="abc"`)
	f.Add(`Digest username="a\"b", realm="r", nonce="n", uri="sip:x", response="ff", qop=auth, nc=00000001, cnonce="c"`)
	f.Add(`Digest username="u", username="v"`)
	f.Add("Digest username=\"u\r\n\"")
	f.Add(`Digest a=b,`)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCredentials(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for _, v := range []string{c.Username, c.Realm, c.Nonce, c.URI, c.Response, c.CNonce, c.Opaque, c.QOP, c.NC} {
			for i := 0; i < len(v); i++ {
				if isCTL(v[i]) {
					t.Fatalf("control character in parsed value %q", v)
				}
			}
		}
		if c.Username == "" || c.Realm == "" || c.Nonce == "" || c.URI == "" || c.Response == "" || !c.Algorithm.Valid() {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
		formatted := formatCredentials(c)
		if len(formatted) > maxCredentialsLen {
			return // quoting grew it past the limit; nothing to compare
		}
		again, err := ParseCredentials(formatted)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", formatted, err)
		}
		if *again != *c {
			t.Fatalf("round trip changed credentials:\n%+v\n%+v", *c, *again)
		}
	})
}

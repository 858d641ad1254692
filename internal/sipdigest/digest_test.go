package sipdigest

import (
	"errors"
	"testing"
)

// RFC 2617 §3.5 and RFC 7616 §3.9.1 worked examples.
func TestResponseRFCExamples(t *testing.T) {
	tests := []struct {
		name                                          string
		alg                                           Algorithm
		user, realm, password                         string
		method, uri, nonce, nc, cnonce, qop, response string
	}{
		{
			name: "RFC 2617 3.5 MD5", alg: MD5,
			user: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life",
			method: "GET", uri: "/dir/index.html", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			nc: "00000001", cnonce: "0a4f113b", qop: "auth",
			response: "6629fae49393a05397450978507c4ef1",
		},
		{
			name: "RFC 7616 3.9.1 MD5", alg: MD5,
			user: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life",
			method: "GET", uri: "/dir/index.html", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			nc: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop: "auth",
			response: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			name: "RFC 7616 3.9.1 SHA-256", alg: SHA256,
			user: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life",
			method: "GET", uri: "/dir/index.html", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			nc: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop: "auth",
			response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha1 := HA1(tt.alg, tt.user, tt.realm, tt.password)
			if len(ha1) != tt.alg.hexLen() {
				t.Fatalf("HA1 length %d, want %d", len(ha1), tt.alg.hexLen())
			}
			got := Response(tt.alg, ha1, tt.nonce, tt.nc, tt.cnonce, tt.qop, tt.method, tt.uri)
			if got != tt.response {
				t.Errorf("response = %s, want %s", got, tt.response)
			}
		})
	}
}

func TestHA1KnownValue(t *testing.T) {
	// RFC 2617 §3.5: HA1 of Mufasa:testrealm@host.com:Circle Of Life.
	const want = "939e7578ed9e3c518a452acee763bce9"
	if got := HA1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life"); got != want {
		t.Errorf("HA1 = %s, want %s", got, want)
	}
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in      string
		want    Algorithm
		wantErr error
	}{
		{"", MD5, nil},
		{"MD5", MD5, nil},
		{"md5", MD5, nil},
		{"SHA-256", SHA256, nil},
		{"sha-256", SHA256, nil},
		{"MD5-sess", 0, ErrUnsupportedAlgorithm},
		{"SHA-512-256", 0, ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAlgorithm(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr != nil) != (err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChallengeString(t *testing.T) {
	tests := []struct {
		name string
		c    Challenge
		want string
	}{
		{
			name: "sha256",
			c:    Challenge{Realm: "hotline", Nonce: "abc", Algorithm: SHA256},
			want: `Digest realm="hotline", nonce="abc", algorithm=SHA-256, qop="auth"`,
		},
		{
			name: "md5 stale opaque",
			c:    Challenge{Realm: "hotline", Nonce: "abc", Opaque: "o", Algorithm: MD5, Stale: true},
			want: `Digest realm="hotline", nonce="abc", opaque="o", algorithm=MD5, qop="auth", stale=true`,
		},
		{
			name: "escapes and drops control characters",
			c:    Challenge{Realm: "a\"b\\c\r\nX: y", Nonce: "n", Algorithm: MD5},
			want: `Digest realm="a\"b\\cX: y", nonce="n", algorithm=MD5, qop="auth"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

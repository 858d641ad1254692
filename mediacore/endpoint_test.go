package mediacore

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint
		err  error
	}{
		{"user/1001", Endpoint{Kind: EndpointUser, User: "1001"}, nil},
		{"tel/+861012345678", Endpoint{Kind: EndpointTel, Number: "+861012345678"}, nil},
		{"tel/10086@carrier-a", Endpoint{Kind: EndpointTel, Number: "10086", Trunk: "carrier-a"}, nil},
		{"sip:alice@127.0.0.1:5070", Endpoint{Kind: EndpointSIP, User: "alice", Host: "127.0.0.1", Port: 5070}, nil},
		{"sip:[::1]:5060;transport=tcp", Endpoint{Kind: EndpointSIP, Host: "::1", Port: 5060, Params: "transport=tcp"}, nil},
		{"sip:bob@example.com", Endpoint{Kind: EndpointSIP, User: "bob", Host: "example.com"}, nil},
		{"user/1001&user/1002", Endpoint{}, ErrInvalidEndpoint},
		{"user/1001,user/1002", Endpoint{}, ErrInvalidEndpoint},
		{"user/${sofia_contact(1001)}", Endpoint{}, ErrInvalidEndpoint},
		{"user/1001|1002", Endpoint{}, ErrInvalidEndpoint},
		{"user/10 01", Endpoint{}, ErrInvalidEndpoint},
		{"user/1001\r\nVia: x", Endpoint{}, ErrInvalidEndpoint},
		{"user/1001\x00", Endpoint{}, ErrInvalidEndpoint},
		{`user/"1001"`, Endpoint{}, ErrInvalidEndpoint},
		{"user/", Endpoint{}, ErrInvalidEndpoint},
		{"tel/12a", Endpoint{}, ErrInvalidEndpoint},
		{"tel/" + strings.Repeat("1", 33), Endpoint{}, ErrInvalidEndpoint},
		{"sip:a@b:99999", Endpoint{}, ErrInvalidEndpoint},
		{"sip:a@b?X-Inject=1", Endpoint{}, ErrInvalidEndpoint},
		{"sip:a:pw@b", Endpoint{}, ErrInvalidEndpoint},
		{"sips:a@b", Endpoint{}, ErrInvalidEndpoint},
		{"sofia/gateway/x/1", Endpoint{}, ErrInvalidEndpoint},
		{"user/" + strings.Repeat("a", MaxDialLen), Endpoint{}, ErrInvalidEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEndpoint(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.raw = tt.in
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q", got.String())
			}
		})
	}
}

// FuzzParseEndpoint checks that nothing ParseEndpoint accepts carries a byte
// that could split or extend a dial string or a SIP header.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"user/1001", "tel/+8610@t1", "sip:a@[::1]:5060;transport=tcp", "user/a&b", "sip:${x}", "tel/1\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEndpoint(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEndpoint) {
				t.Fatalf("error %v does not wrap ErrInvalidEndpoint", err)
			}
			return
		}
		if len(s) > MaxDialLen || strings.ContainsAny(s, "&,|\"'\\<>?{} \t\r\n\x00") || strings.Contains(s, "${") {
			t.Fatalf("accepted dangerous endpoint %q", s)
		}
		for _, part := range []string{e.User, e.Number, e.Trunk, e.Host, e.Params} {
			if strings.ContainsAny(part, "@:/") && part != e.Host && part != e.Params {
				t.Fatalf("field %q of %q holds a separator", part, s)
			}
		}
		if e.Kind < EndpointUser || e.Kind > EndpointSIP {
			t.Fatalf("kind %d", e.Kind)
		}
	})
}

func FuzzValidateDialString(f *testing.F) {
	for _, s := range []string{"1001", "a,b", "${x}", "a\nb", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateDialString(s) != nil {
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f || strings.IndexByte("&,|\"'`\\<>?{}$", s[i]) >= 0 {
				t.Fatalf("accepted byte %q in %q", s[i], s)
			}
		}
	})
}

func TestCauseMapping(t *testing.T) {
	tests := []struct {
		sip  int
		want Cause
	}{
		{200, CauseNormal}, {404, CauseUnallocated}, {408, CauseTimeout}, {480, CauseUnavailable},
		{486, CauseBusy}, {487, CauseCancelled}, {488, CauseIncompatible}, {500, CauseFailure},
		{502, CauseFailure}, {503, CauseCongestion}, {603, CauseRejected}, {600, CauseBusy},
		{403, CauseForbidden}, {499, CauseRejected}, {100, CauseUnknown},
	}
	for _, tt := range tests {
		if got := CauseFromSIP(tt.sip); got != tt.want {
			t.Errorf("CauseFromSIP(%d) = %v, want %v", tt.sip, got, tt.want)
		}
	}
	// Every cause survives a round trip through its SIP code and its Q.850
	// value, except those SIP or Q.850 cannot tell apart.
	for c := CauseNormal; c <= CauseNodeLost; c++ {
		if c != CauseNormal && c != CauseNoAnswer && c != CauseMediaTimeout && c != CauseNodeLost {
			if got := CauseFromSIP(c.SIPCode()); got != c {
				t.Errorf("%v -> SIP %d -> %v", c, c.SIPCode(), got)
			}
		}
		switch c {
		case CauseCancelled, CauseForbidden, CauseMediaTimeout, CauseNodeLost:
		default:
			if got := CauseFromQ850(c.Q850()); got != c {
				t.Errorf("%v -> Q.850 %d -> %v", c, c.Q850(), got)
			}
		}
		if c.String() == "unknown" {
			t.Errorf("cause %d has no name", c)
		}
	}
}

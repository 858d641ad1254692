package native

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// registerTrunk sends one REGISTER (answering a digest challenge) and
// returns the lifetime the registrar granted.
func (b *Backend) registerTrunk(ctx context.Context, t *Trunk, expiry time.Duration) (time.Duration, error) {
	host, port, _ := net.SplitHostPort(t.Address)
	p, _ := strconv.Atoi(port)
	user := t.Username
	if user == "" {
		user = "hotline"
	}
	aor := sip.Uri{Scheme: "sip", User: user, Host: host, Port: p}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: p})
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: b.host, Port: b.port}})
	secs := int(expiry / time.Second)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	req.SetTransport(strings.ToUpper(t.Transport))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := b.cli.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && t.Password != "" {
		res, err = b.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: t.Password})
		if err != nil {
			return 0, err
		}
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("native: REGISTER to %s: %s", t.Name, res.StartLine())
	}
	granted := expiry
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			granted = time.Duration(n) * time.Second
		}
	}
	if granted < 10*time.Second {
		granted = 10 * time.Second
	}
	return granted, nil
}

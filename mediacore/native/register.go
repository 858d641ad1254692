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

// startTrunkRegistrations keeps one registration per trunk with Register
// set (RFC 3261 §10.2), refreshed at 80% of the granted lifetime and
// retried every 30 s after a failure.
func (b *Backend) startTrunkRegistrations() {
	for i := range b.cfg.Trunks {
		t := &b.cfg.Trunks[i]
		if !t.Register {
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for {
				granted, err := b.registerTrunk(b.ctx, t, t.RegisterExpiry)
				wait := 30 * time.Second
				if err != nil {
					b.log.Warn("trunk registration failed", "trunk", t.Name, "err", err)
				} else {
					wait = granted * 8 / 10
				}
				select {
				case <-b.ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}()
	}
}

// unregisterTrunks removes our registrations (Expires: 0) on shutdown, with
// a short deadline: a carrier that does not answer must not stall Close.
func (b *Backend) unregisterTrunks() {
	for i := range b.cfg.Trunks {
		t := &b.cfg.Trunks[i]
		if !t.Register {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = b.registerTrunk(ctx, t, 0)
		cancel()
	}
}

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

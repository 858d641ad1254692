package asterisk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hotline/mediacore"
)

// ariClient speaks ARI's REST half. It is the adapter's own rather than
// the library's (github.com/CyCoreSystems/ari/v6/client/native) because
// the library's requests take no context and its http.Client has no
// timeout, so a hung Asterisk hangs the caller forever (DEPENDENCIES.md);
// here every request carries ctx and a deadline.
type ariClient struct {
	base    string // ARI base URL without a trailing slash
	user    string
	pass    string
	timeout time.Duration
	http    *http.Client
}

// statusError is a non-2xx answer from ARI.
type statusError struct {
	method, path string
	code         int
	msg          string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("asterisk: %s %s: %d %s", e.method, e.path, e.code, e.msg)
}

// ariErr maps an ARI status to the contract's sentinel for what (the kind
// of object the path names).
func ariErr(err error, notFound error) error {
	var se *statusError
	if !errors.As(err, &se) {
		return err
	}
	switch se.code {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", notFound, err)
	case http.StatusConflict, http.StatusPreconditionFailed:
		return fmt.Errorf("%w: %w", mediacore.ErrChannelState, err)
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable:
		return fmt.Errorf("%w: %w", mediacore.ErrBackendUnavailable, err)
	}
	return err
}

// do sends one request: path is below the base URL (its segments already
// escaped), q the query, body JSON-encoded when not nil, out decoded from
// a JSON answer when not nil.
func (c *ariClient) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	rc, err := c.open(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer rc.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(out); err != nil {
		return fmt.Errorf("asterisk: %s %s: decode: %w", method, path, err)
	}
	return nil
}

// open sends one request and returns the body of a 2xx answer; the
// deadline covers the headers only, reading is bounded by ctx.
func (c *ariClient) open(ctx context.Context, method, path string, q url.Values, body any) (io.ReadCloser, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	hctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(c.timeout, cancel)
	req, err := http.NewRequestWithContext(hctx, method, u, rd)
	if err != nil {
		timer.Stop()
		cancel()
		return nil, err
	}
	req.SetBasicAuth(c.user, c.pass)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	stopped := timer.Stop()
	if err != nil {
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("asterisk: %s %s: %w", method, path, ctx.Err())
		case !stopped:
			return nil, fmt.Errorf("%w: %w: asterisk: %s %s after %v", mediacore.ErrTimeout, context.DeadlineExceeded, method, path, c.timeout)
		}
		return nil, fmt.Errorf("%w: asterisk: %s %s: %v", mediacore.ErrBackendUnavailable, method, path, redact(err))
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		cancel()
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(msg, &m) == nil && m.Message != "" {
			msg = []byte(m.Message)
		}
		return nil, &statusError{method: method, path: path, code: res.StatusCode, msg: strings.TrimSpace(string(msg))}
	}
	return &cancelOnClose{ReadCloser: res.Body, cancel: cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// redact drops a URL's userinfo from an error (net/http errors quote the
// URL; ours never carries credentials, but a misconfigured one might).
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.User != nil {
			u.User = nil
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// maxARIConns bounds the client's connections to one Asterisk. Asterisk's
// HTTP server refuses sessions beyond http.conf's sessionlimit (100 by
// default) by closing the connection, which the client sees as EOF on a
// request Asterisk never ran: at 40 new calls per second an unbounded pool
// opened over 100 and answers and dials failed. Requests beyond the bound
// wait for a free connection instead (their context still bounds them).
const maxARIConns = 48

// newHTTP is the client for ARI requests: its own pool (the default
// transport is shared with the rest of the process); deadlines come from
// each request's context.
func newHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxConnsPerHost: maxARIConns,
		MaxIdleConnsPerHost: maxARIConns, IdleConnTimeout: 30 * time.Second}}
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

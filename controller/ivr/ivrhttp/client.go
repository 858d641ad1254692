package ivrhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"hotline/controller/ivr"
)

// Defaults of a Client.
const (
	// DefaultMaxBody bounds a response body; a longer one is an error.
	DefaultMaxBody = 64 << 10
	// DefaultTimeout applies when Lookup is given no timeout.
	DefaultTimeout = ivr.DefaultHTTPTimeout
	// maxRedirects bounds redirects followed.
	maxRedirects = 3
)

// Client performs IVR lookups over net/http. The zero value is not usable;
// build one with New. It is safe for concurrent use by many calls.
type Client struct {
	hc        *http.Client
	maxBody   int64
	userAgent string
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient uses hc (its Timeout is ignored: each lookup has its own).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("ivrhttp: nil http.Client")
		}
		cp := *hc
		c.hc = &cp
		return nil
	}
}

// WithMaxBody bounds response bodies to n bytes (n > 0).
func WithMaxBody(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return fmt.Errorf("ivrhttp: max body %d", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// New returns a Client with DefaultMaxBody and its own transport.
func New(opts ...Option) (*Client, error) {
	c := &Client{
		hc:        &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		maxBody:   DefaultMaxBody,
		userAgent: "hotline-ivr",
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.hc.Timeout = 0
	c.hc.Jar = nil
	c.hc.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("ivrhttp: more than %d redirects", maxRedirects)
		}
		return nil
	}
	return c, nil
}

// Lookup implements ivr.Lookuper: it sends the request, reads at most the
// body limit, and returns the status and body. A non-2xx status is not an
// error. When timeout (default DefaultTimeout) passes first, the error
// wraps ivr.ErrLookupTimeout; when ctx ends first, ctx's error.
func (c *Client) Lookup(ctx context.Context, method, url string, body []byte, timeout time.Duration) (int, []byte, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rctx, cancel := context.WithTimeoutCause(ctx, timeout, ivr.ErrLookupTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, url, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("ivrhttp: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, c.cause(ctx, rctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return 0, nil, c.cause(ctx, rctx, err)
	}
	if int64(len(data)) > c.maxBody {
		return resp.StatusCode, nil, fmt.Errorf("%w: over %d bytes from %s", ErrBodyTooLarge, c.maxBody, req.URL.Redacted())
	}
	return resp.StatusCode, data, nil
}

// cause tells a lookup's own timeout from the caller's context ending.
func (c *Client) cause(ctx, rctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(rctx), ivr.ErrLookupTimeout) {
		return fmt.Errorf("%w: %v", ivr.ErrLookupTimeout, err)
	}
	return fmt.Errorf("ivrhttp: %w", err)
}

var _ ivr.Lookuper = (*Client)(nil)

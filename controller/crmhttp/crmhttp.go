package crmhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hotline/controller"
)

// Errors.
var (
	// ErrConfig: the Config is unusable (the message says which field).
	ErrConfig = errors.New("crmhttp: bad configuration")
	// ErrStatus: the CRM answered neither 2xx nor 404.
	ErrStatus = errors.New("crmhttp: unexpected status")
	// ErrBody: the CRM's answer is not a JSON object (or is too large).
	ErrBody = errors.New("crmhttp: bad answer")
)

// Placeholder is replaced by the caller's number (query-escaped) in
// Config.URL.
const Placeholder = "${caller}"

// DefaultTimeout bounds a lookup when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// MaxBody bounds the answer read.
const MaxBody = 1 << 20

// Config is one CRM's lookup.
type Config struct {
	// URL is an absolute http(s) URL holding ${caller}, e.g.
	// "https://crm.example/api/customers?phone=${caller}".
	URL string `json:"url" yaml:"url"`
	// Timeout bounds the request (DefaultTimeout when zero).
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// Headers are sent with the request (an API key, ...).
	Headers map[string]string `json:"headers,omitempty" yaml:"headers"`
	// Map says where each Customer field is in the answer, as a dotted
	// path ("data.0.name": object keys and array indexes). Keys: "id",
	// "name", "company", "notes", and "fields.<name>" for custom fields.
	// An empty Map reads the top-level keys id, name, company and notes.
	Map map[string]string `json:"map,omitempty" yaml:"map"`
}

// Client looks callers up in a CRM. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ controller.Directory = (*Client)(nil)

// New checks cfg and returns a Client using hc (http.DefaultClient when
// nil).
func New(cfg Config, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.ReplaceAll(cfg.URL, Placeholder, "0"))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: url: %w", ErrConfig, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("%w: url must be an absolute http(s) URL", ErrConfig)
	case !strings.Contains(cfg.URL, Placeholder):
		return nil, fmt.Errorf("%w: url must hold %s", ErrConfig, Placeholder)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("%w: timeout must not be negative", ErrConfig)
	}
	for k := range cfg.Map {
		switch {
		case k == "id", k == "name", k == "company", k == "notes":
		case strings.HasPrefix(k, "fields.") && len(k) > len("fields."):
		default:
			return nil, fmt.Errorf("%w: map key %q", ErrConfig, k)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if len(cfg.Map) == 0 {
		cfg.Map = map[string]string{"id": "id", "name": "name", "company": "company", "notes": "notes"}
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// LookupCaller implements controller.Directory: a Customer with Source
// "crm", or a zero Customer (Source "") when the CRM answers 404 or the
// mapped name and id are both empty.
func (c *Client) LookupCaller(ctx context.Context, number string) (controller.Customer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		strings.ReplaceAll(c.cfg.URL, Placeholder, url.QueryEscape(number)), nil)
	if err != nil {
		return controller.Customer{}, fmt.Errorf("crmhttp: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return controller.Customer{}, fmt.Errorf("crmhttp: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return controller.Customer{}, nil
	}
	if resp.StatusCode/100 != 2 {
		return controller.Customer{}, fmt.Errorf("%w: %s", ErrStatus, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return controller.Customer{}, fmt.Errorf("crmhttp: read: %w", err)
	}
	if len(body) > MaxBody {
		return controller.Customer{}, fmt.Errorf("%w: more than %d bytes", ErrBody, MaxBody)
	}
	return Map(body, c.cfg.Map)
}

// Map decodes a CRM answer and maps it onto a Customer (see Config.Map).
// Scalars (strings, numbers, booleans) are taken as text; a path that is
// missing or leads to an object, an array or null gives "".
func Map(body []byte, m map[string]string) (controller.Customer, error) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return controller.Customer{}, fmt.Errorf("%w: %w", ErrBody, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		if _, ok := doc.([]any); !ok {
			return controller.Customer{}, fmt.Errorf("%w: not a JSON object or array", ErrBody)
		}
	}
	var c controller.Customer
	for k, p := range m {
		v := lookup(doc, p)
		switch k {
		case "id":
			c.ContactID = v
		case "name":
			c.Name = v
		case "company":
			c.Company = v
		case "notes":
			c.Notes = v
		default:
			if name, ok := strings.CutPrefix(k, "fields."); ok && v != "" {
				if c.Fields == nil {
					c.Fields = map[string]string{}
				}
				c.Fields[name] = v
			}
		}
	}
	if c.Name != "" || c.ContactID != "" {
		c.Source = "crm"
	}
	return c, nil
}

// lookup follows a dotted path of object keys and array indexes.
func lookup(doc any, path string) string {
	cur := doc
	for part := range strings.SplitSeq(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return ""
			}
			cur = v[i]
		default:
			return ""
		}
	}
	switch v := cur.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

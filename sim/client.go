package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hotline/controller/reports"
)

// client is a small REST client of a Hotline instance.
type client struct {
	base  string // e.g. http://127.0.0.1:8080
	token string
	http  *http.Client
}

// statusError is a non-2xx answer.
type statusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// do sends body as JSON and decodes a 2xx answer into out.
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTarget, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrTarget, method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrTarget, method, path, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %w", ErrTarget, &statusError{Method: method, Path: path, Status: res.StatusCode, Body: string(data)})
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: %s %s: decode: %w", ErrTarget, method, path, err)
		}
	}
	return nil
}

// list reads every page of a collection.
func list[T any](ctx context.Context, c *client, path string) ([]T, error) {
	var all []T
	after := ""
	for {
		var pg struct {
			Items []T    `json:"items"`
			Next  string `json:"next"`
		}
		q := url.Values{"limit": {"500"}}
		if after != "" {
			q.Set("after", after)
		}
		if err := c.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.Items...)
		if pg.Next == "" {
			return all, nil
		}
		after = pg.Next
	}
}

// maxReportKeys is how many keys one report request may name (the API
// answers 400 beyond: api/reports.go).
const maxReportKeys = 500

// fetchReport reads a report over the run's range for keys, in requests
// of at most maxReportKeys keys, and joins their rows: a run with more
// than 500 agents asks for their report in several requests.
func fetchReport(ctx context.Context, c *client, kind string, from, to time.Time, keys []string) (reports.Report, error) {
	var all reports.Report
	for i := 0; i == 0 || i < len(keys); i += maxReportKeys {
		var part reports.Report
		if err := c.do(ctx, http.MethodGet, reportPath(kind, from, to, keys[i:min(i+maxReportKeys, len(keys))]), nil, &part); err != nil {
			return reports.Report{}, err
		}
		rows := append(all.Rows, part.Rows...)
		all = part
		all.Rows = rows
	}
	return all, nil
}

// reportPath is a report route with the range of a run.
func reportPath(kind string, from, to time.Time, keys []string) string {
	q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}, "interval": {"total"}}
	if len(keys) > 0 {
		q.Set("keys", strings.Join(keys, ","))
	}
	return "/api/v1/reports/" + kind + "?" + q.Encode()
}

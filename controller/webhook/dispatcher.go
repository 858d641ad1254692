package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/controller/cti"
	"hotline/internal/clock"
)

// Endpoint is one CRM URL.
type Endpoint struct {
	// ID names the endpoint in metrics, logs and X-Hotline-Delivery.
	ID string
	// URL receives the POSTs (http or https).
	URL string
	// Secret keys the HMAC signature.
	Secret string
	// Types selects the events sent, as cti.Types patterns ("call.*",
	// "agent.state"); empty means all.
	Types []string
}

// Options configure a Dispatcher. Endpoints may be empty.
type Options struct {
	Endpoints []Endpoint
	// Client sends the requests (a client on http.DefaultTransport when
	// nil); its CheckRedirect is replaced by the same-host 307/308 rule.
	Client *http.Client
	// Clock drives timeouts and backoff (clock.Real when nil).
	Clock clock.Clock
	// Logger gets failures (slog.Default() when nil).
	Logger *slog.Logger
	// Registerer gets the metrics (nil: none).
	Registerer prometheus.Registerer
	// QueueSize bounds the events waiting per endpoint (default 1024).
	QueueSize int
	// Timeout bounds one attempt, response headers included (default 5 s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts per event (default 8).
	MaxAttempts int
	// MinBackoff is the delay after the first failed attempt; it doubles
	// per attempt up to MaxBackoff (defaults 1 s and 5 min). The delay
	// used is drawn uniformly in [d/2, d) (jitter), or Retry-After when
	// longer (capped at MaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// Rand returns a number in [0, 1) for the jitter (math/rand/v2 when nil).
	Rand func() float64
	// OnAttempt, when set, is called after each attempt, on the
	// endpoint's worker goroutine; it must not block.
	OnAttempt func(Attempt)
}

// Attempt describes one delivery attempt.
type Attempt struct {
	Endpoint string
	Seq      uint64
	Type     string
	N        int           // 1 for the first attempt
	Status   int           // HTTP status; 0 when the request failed
	Err      error         // transport error or timeout
	Retry    time.Duration // the delay before the next attempt; 0 when none follows
	Final    bool          // no attempt follows (delivered or given up)
	OK       bool          // delivered (2xx)
}

// Stats are an endpoint's counters.
type Stats struct {
	Delivered, Failed, Dropped, Attempts uint64
	Queued                               int
}

type job struct {
	seq  uint64
	typ  string
	body []byte
}

type endpoint struct {
	Endpoint
	filter                               cti.Filter
	queue                                chan job
	delivered, failed, dropped, attempts atomic.Uint64
}

// Dispatcher delivers events to the configured endpoints. Safe for
// concurrent use.
type Dispatcher struct {
	opts   Options
	client *http.Client
	clk    clock.Clock
	log    *slog.Logger
	m      *metrics
	eps    []*endpoint
	ctx    context.Context // cancelled by Close when its ctx ends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex // guards closed against sends on closed queues
	closed bool
}

// New validates the endpoints and starts one worker per endpoint.
func New(opts Options) (*Dispatcher, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Minute, opts.MinBackoff)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	client := &http.Client{}
	if opts.Client != nil {
		c := *opts.Client
		client = &c
	}
	client.CheckRedirect = sameHostRedirect
	d := &Dispatcher{opts: opts, client: client, clk: opts.Clock, log: opts.Logger}
	seen := map[string]bool{}
	for _, e := range opts.Endpoints {
		u, err := url.Parse(e.URL)
		switch {
		case e.ID == "" || seen[e.ID]:
			return nil, fmt.Errorf("%w: id %q empty or repeated", ErrInvalidEndpoint, e.ID)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return nil, fmt.Errorf("%w: %s: url %q", ErrInvalidEndpoint, e.ID, e.URL)
		case e.Secret == "":
			return nil, fmt.Errorf("%w: %s: empty secret", ErrInvalidEndpoint, e.ID)
		}
		seen[e.ID] = true
		ep := &endpoint{Endpoint: e, queue: make(chan job, opts.QueueSize)}
		if len(e.Types) > 0 {
			ep.filter = cti.Types(e.Types...)
		}
		d.eps = append(d.eps, ep)
	}
	m, err := newMetrics(opts.Registerer, d)
	if err != nil {
		return nil, err
	}
	d.m = m
	d.ctx, d.cancel = context.WithCancel(context.Background())
	for _, ep := range d.eps {
		d.wg.Add(1)
		go d.work(ep)
	}
	return d, nil
}

// sameHostRedirect follows only 307/308 (which keep the method and body)
// to the same scheme and host as the original request.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if len(via) >= 5 || req.Response == nil ||
		(req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect) ||
		req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// Publish offers ev to every endpoint whose filter passes it. It never
// blocks: an endpoint whose queue is full drops the event and counts it.
// It does nothing after Close.
func (d *Dispatcher) Publish(ev cti.Event) {
	var body []byte
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return
	}
	for _, ep := range d.eps {
		if ep.filter != nil && !ep.filter(&ev) {
			continue
		}
		if body == nil {
			b, err := json.Marshal(ev)
			if err != nil {
				d.log.Error("webhook: event does not marshal", "seq", ev.Seq, "type", ev.Type, "err", err)
				return
			}
			body = b
		}
		select {
		case ep.queue <- job{seq: ev.Seq, typ: ev.Type, body: body}:
		default:
			ep.dropped.Add(1)
			d.m.deliveries.WithLabelValues(ep.ID, "dropped").Inc()
		}
	}
}

// Stats returns the counters of the endpoint id (zero when unknown).
func (d *Dispatcher) Stats(id string) Stats {
	for _, ep := range d.eps {
		if ep.ID == id {
			return Stats{Delivered: ep.delivered.Load(), Failed: ep.failed.Load(),
				Dropped: ep.dropped.Load(), Attempts: ep.attempts.Load(), Queued: len(ep.queue)}
		}
	}
	return Stats{}
}

// Close stops accepting events and lets the workers deliver what is queued
// until ctx ends; then in-flight attempts are cancelled and what remains is
// counted as dropped.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	d.closed = true
	for _, ep := range d.eps {
		close(ep.queue)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	d.cancel()
	<-done
	return err
}

func (d *Dispatcher) work(ep *endpoint) {
	defer d.wg.Done()
	for j := range ep.queue {
		if d.ctx.Err() != nil {
			ep.dropped.Add(1)
			d.m.deliveries.WithLabelValues(ep.ID, "dropped").Inc()
			continue
		}
		d.deliver(ep, j)
	}
}

// deliver sends j to ep until it succeeds, fails for good, or is cancelled.
func (d *Dispatcher) deliver(ep *endpoint, j job) {
	for n := 1; ; n++ {
		status, retryAfter, err := d.attempt(ep, j)
		ep.attempts.Add(1)
		a := Attempt{Endpoint: ep.ID, Seq: j.seq, Type: j.typ, N: n, Status: status, Err: err}
		d.m.attempts.WithLabelValues(ep.ID, statusClass(status, err)).Inc()
		a.OK = err == nil && status >= 200 && status < 300
		retryable := err != nil || status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
		switch {
		case a.OK:
			ep.delivered.Add(1)
			d.m.deliveries.WithLabelValues(ep.ID, "delivered").Inc()
			a.Final = true
		case d.ctx.Err() != nil:
			ep.dropped.Add(1)
			d.m.deliveries.WithLabelValues(ep.ID, "dropped").Inc()
			a.Final = true
		case !retryable || n >= d.opts.MaxAttempts:
			ep.failed.Add(1)
			d.m.deliveries.WithLabelValues(ep.ID, "failed").Inc()
			d.log.Warn("webhook: delivery failed", "endpoint", ep.ID, "seq", j.seq, "type", j.typ,
				"attempts", n, "status", status, "err", err)
			a.Final = true
		default:
			a.Retry = max(d.backoff(n), min(retryAfter, d.opts.MaxBackoff))
		}
		if a.Final {
			d.observe(a)
			return
		}
		// Arm the retry timer before reporting the attempt, so an
		// observer that advances a virtual clock cannot miss it.
		ch := make(chan struct{})
		t := d.clk.AfterFunc(a.Retry, func() { close(ch) })
		d.observe(a)
		select {
		case <-ch:
		case <-d.ctx.Done():
			t.Stop()
			ep.dropped.Add(1)
			d.m.deliveries.WithLabelValues(ep.ID, "dropped").Inc()
			return
		}
	}
}

func (d *Dispatcher) observe(a Attempt) {
	if d.opts.OnAttempt != nil {
		d.opts.OnAttempt(a)
	}
}

// backoff returns the jittered delay after the n-th failed attempt.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.opts.MinBackoff
	for i := 1; i < n && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opts.MaxBackoff)
	return b/2 + time.Duration(d.opts.Rand()*float64(b/2))
}

// attempt makes one signed POST; it returns the status and the Retry-After
// delay the endpoint asked for, if any.
func (d *Dispatcher) attempt(ep *endpoint, j job) (int, time.Duration, error) {
	ctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	t := d.clk.AfterFunc(d.opts.Timeout, cancel)
	defer t.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(j.body))
	if err != nil {
		return 0, 0, err
	}
	ts := strconv.FormatInt(d.clk.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hotline-Webhook/1")
	req.Header.Set(HeaderEvent, j.typ)
	req.Header.Set(HeaderDelivery, ep.ID+"/"+strconv.FormatUint(j.seq, 10))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(ep.Secret, ts, j.body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var retryAfter time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retryAfter, nil
}

func statusClass(status int, err error) string {
	if err != nil || status == 0 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Follow publishes every event sub yields (normally a hub subscription with
// a nil filter, the endpoints filtering by type) until ctx ends or the
// subscription closes, and returns what stopped it. A gap event reaches the
// endpoints whose filter passes type "gap" (those without a filter do).
func (d *Dispatcher) Follow(ctx context.Context, sub *cti.Subscription) error {
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		d.Publish(ev)
	}
}

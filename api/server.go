package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/webhook"
)

// Controller is what the API needs below it: the configuration
// repositories, whose writes the controller applies to its live state
// (ACD, media trunks, number routes) before they return; the token and
// audit repositories; and a readiness ping. *controller.Controller
// implements it; the API never writes the store around it.
type Controller interface {
	Users() store.UserRepo
	Agents() store.AgentRepo
	Skills() store.SkillRepo
	Queues() store.QueueRepo
	Numbers() store.NumberRepo
	Trunks() store.TrunkRepo
	Schedules() store.ScheduleRepo
	Lists() store.ListRepo
	Tokens() store.TokenRepo
	Audit() store.AuditRepo
	// The customer directory and IVR flows (configuration), and what the
	// call path wrote through its journal (records.go).
	Contacts() store.ContactRepo
	IVRFlows() store.IVRFlowRepo
	CDRs() store.CDRRepo
	QueueEvents() store.QueueEventRepo
	Recordings() store.RecordingRepo
	// Ping reports whether the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Conferences stores conference rooms (conferences.go).
	Conferences() store.ConferenceRepo
	// Voicemail boxes (configuration) and messages (voicemail.go).
	VoicemailBoxes() store.VoicemailBoxRepo
	VoicemailMessages() store.VoicemailMessageRepo
	// RingGroups is configuration (pbx.go).
	RingGroups() store.RingGroupRepo
}

// Options configure a Server. Controller is required; every other field
// has a default (see defaults.go).
type Options struct {
	Controller Controller
	Logger     *slog.Logger // nil = discard
	// Registry receives the HTTP metrics and is served at /metrics; nil
	// creates a registry with the Go and process collectors.
	Registry *prometheus.Registry
	Version  string
	Now      func() time.Time // nil = time.Now
	// SIPRealm is the digest realm of agents' HA1s (default "hotline").
	SIPRealm string
	// SessionTTL is how long a login session lasts (default 12h).
	SessionTTL time.Duration
	// BcryptCost hashes user passwords (default bcrypt cost 10); tests
	// lower it to bcrypt.MinCost.
	BcryptCost int
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For is believed. nil trusts none: the client address is
	// the peer's, so nobody can forge the address that the audit log
	// records and the login lockout counts.
	TrustedProxies []string
	// SIPBlocks, when set, serves /api/v1/sip/blocks (the registrar's
	// blocked guessers); nil lists none.
	SIPBlocks SIPBlocker
	// Live is the call path's live control (agent states, live calls,
	// recording pause/resume) and its CTI hub (the WebSocket
	// /api/v1/events); nil: those routes answer 503 (live.go).
	Live controller.LiveControl
	// RecordingStore serves /api/v1/recordings/{id}/audio; nil: 503.
	RecordingStore controller.RecordingStore
	// Webhooks lists the configured webhook endpoints (secrets are never
	// shown) and Dispatcher their delivery statistics, for GET
	// /api/v1/webhooks; both may be nil.
	Webhooks   []webhook.Endpoint
	Dispatcher *webhook.Dispatcher
	// WSPingInterval is how often an idle CTI socket is pinged (default
	// 30 s); a peer that does not answer within twice that is dropped.
	WSPingInterval time.Duration
	// Reports, when set, serves /api/v1/reports/...; nil answers 503.
	Reports ReportSource
	// Realtime, when set, serves /api/v1/stats/realtime; nil answers 503.
	Realtime RealtimeSource
}

// Server is the HTTP API. Build it with New and serve Handler.
type Server struct {
	st      Controller
	log     *slog.Logger
	reg     *prometheus.Registry
	version string
	now     func() time.Time
	realm   string
	ttl     time.Duration
	cost    int
	lockout *lockout
	// dummyHash is compared against when a user does not exist or has no
	// password, so that a wrong username costs as much as a wrong password.
	dummyHash []byte
	engine    *gin.Engine
	routes    []route
	openapi   []byte
	blocks    SIPBlocker
	reports   ReportSource
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec

	live     controller.LiveControl
	recStore controller.RecordingStore
	webhooks []webhook.Endpoint
	whStats  *webhook.Dispatcher
	wsPing   time.Duration
	realtime RealtimeSource
}

// New builds the server and its routes. It fails when Options are unusable
// or when a route lacks an access rule.
func New(opt Options) (*Server, error) {
	if opt.Controller == nil {
		return nil, fmt.Errorf("%w: Controller is required", ErrInvalidOptions)
	}
	s := &Server{
		st: opt.Controller, log: opt.Logger, reg: opt.Registry, version: opt.Version, now: opt.Now,
		realm: opt.SIPRealm, ttl: opt.SessionTTL, cost: opt.BcryptCost, blocks: opt.SIPBlocks,
		live: opt.Live, recStore: opt.RecordingStore, webhooks: opt.Webhooks, whStats: opt.Dispatcher,
		wsPing: opt.WSPingInterval, reports: opt.Reports,
	}
	s.realtime = opt.Realtime
	if s.wsPing <= 0 {
		s.wsPing = defaultWSPing
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.realm == "" {
		s.realm = defaultSIPRealm
	}
	if s.ttl <= 0 {
		s.ttl = defaultSessionTTL
	}
	if s.cost == 0 {
		s.cost = defaultBcryptCost
	}
	if s.cost < bcrypt.MinCost || s.cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("%w: BcryptCost %d", ErrInvalidOptions, s.cost)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotline_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hotline_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	for _, c := range []prometheus.Collector{s.requests, s.latency} {
		if err := s.reg.Register(c); err != nil {
			return nil, fmt.Errorf("%w: metrics: %w", ErrInvalidOptions, err)
		}
	}
	s.lockout = newLockout(loginMaxFailures, loginFailureWindow)
	var dummy [16]byte
	_, _ = rand.Read(dummy[:])
	h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(dummy[:])), s.cost)
	if err != nil {
		return nil, fmt.Errorf("%w: bcrypt: %w", ErrInvalidOptions, err)
	}
	s.dummyHash = h
	if err := s.build(opt.TrustedProxies); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the HTTP handler serving every route.
func (s *Server) Handler() http.Handler { return s.engine }

// build registers the route table on a fresh gin engine and renders the
// OpenAPI document from the same table.
func (s *Server) build(trustedProxies []string) error {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if err := e.SetTrustedProxies(trustedProxies); err != nil {
		return fmt.Errorf("%w: TrustedProxies: %w", ErrInvalidOptions, err)
	}
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(s.requestIDMiddleware, s.accessLogMiddleware, s.recoveryMiddleware, securityHeaders)
	e.NoRoute(func(c *gin.Context) { s.abortWith(c, errNotFound()) })
	e.NoMethod(func(c *gin.Context) {
		s.abortWith(c, &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed, Message: "method not allowed on this path"})
	})
	s.routes = s.routeTable()
	for _, r := range s.routes {
		if err := r.validate(); err != nil {
			return err
		}
		// Audit wraps authentication so that refused writes (403) by an
		// authenticated user are recorded too.
		chain := []gin.HandlerFunc{}
		if isWrite(r.method) || r.alwaysAudit {
			chain = append(chain, s.auditMiddleware(r))
		}
		if !r.access.public {
			chain = append(chain, s.authMiddleware(r))
		}
		chain = append(chain, r.handler)
		e.Handle(r.method, r.path, chain...)
	}
	doc, err := s.renderOpenAPI()
	if err != nil {
		return err
	}
	s.openapi = doc
	s.engine = e
	return nil
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

const ctxRequestID = "hotline.request_id"

// requestID returns the request id set by requestIDMiddleware.
func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// saneRequestID accepts a client's X-Request-ID only when it cannot smuggle
// anything into logs: 1-128 characters of [A-Za-z0-9._:-].
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := range len(id) {
		ch := id[i]
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '.' || ch == '_' || ch == ':' || ch == '-'
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) requestIDMiddleware(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !saneRequestID(id) {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// securityHeaders keeps answers (which may hold a token secret) out of
// caches (RFC 9111 §5.2.2.5) and stops browsers sniffing JSON as HTML.
func securityHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}

// accessLogMiddleware logs one JSON line per request and records metrics.
func (s *Server) accessLogMiddleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // bounded label cardinality for 404s
	}
	status := c.Writer.Status()
	s.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.latency.WithLabelValues(route, c.Request.Method).Observe(d.Seconds())
	user := ""
	if p, ok := principalOf(c); ok {
		user = p.User.Username
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http request",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("user", user),
		slog.String("remote", c.ClientIP()),
	)
}

// recoveryMiddleware turns a panic into a logged 500: a bug, never a crash.
func (s *Server) recoveryMiddleware(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "handler panic", "request_id", requestID(c),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				c.AbortWithStatusJSON(http.StatusInternalServerError, errorResponse{Error: apiError{Code: codeInternal, Message: "internal error"}})
			}
		}
	}()
	c.Next()
}

func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.version})
}

// handleReadyz answers 200 when the store answers a ping within readyTimeout.
func (s *Server) handleReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "store not ready", "request_id", requestID(c), "err", err)
		c.JSON(http.StatusServiceUnavailable, errorResponse{Error: apiError{Code: codeUnavailable, Message: "the database is unavailable"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}

func (s *Server) handleOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", s.openapi)
}

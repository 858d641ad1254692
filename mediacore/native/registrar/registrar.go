package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/internal/sipdigest"
)

// Defaults; each has an Option. They live here and nowhere else.
const (
	// DefaultRealm is the digest realm when none is configured.
	DefaultRealm = "hotline"
	// DefaultMinExpires is the shortest binding accepted (423 below it).
	// RFC 3261 §10.3 recommends at least one hour for Min-Expires in
	// general; call-center phones sit behind NATs that forget UDP mappings
	// within minutes, so one minute is allowed.
	DefaultMinExpires = 60 * time.Second
	// DefaultMaxExpires clamps longer requests: an hour bounds how long a
	// vanished phone keeps being offered calls.
	DefaultMaxExpires = 3600 * time.Second
	// DefaultExpires applies when the REGISTER names no expiry (RFC 3261
	// §10.3 step 7 lets the registrar choose).
	DefaultExpires = 3600 * time.Second
	// DefaultMaxFailures, DefaultFailureWindow and DefaultBlockFor: more
	// than 16 failed authentications from one IP within 2 s block it for
	// 5 minutes. A phone with a wrong password fails once per REGISTER
	// interval; only a password-guessing tool fails 17 times in 2 s.
	DefaultMaxFailures   = 16
	DefaultFailureWindow = 2 * time.Second
	DefaultBlockFor      = 300 * time.Second
	// DefaultUserBudget: more than 10 failed authentications of one user
	// from one source within 10 minutes refuse that user's credentials
	// from that source for 10 minutes, then 20, 40, ... up to a day while
	// the guessing goes on. The user still registers from anywhere else.
	// A phone with a stale password (one failure per REGISTER interval)
	// stays under it unless its interval is a minute or less.
	DefaultUserBudgetFailures = 10
	DefaultUserBudgetWindow   = 10 * time.Minute
	DefaultUserBudgetBlock    = 10 * time.Minute
	// DefaultSourceBudget: more than 60 failures from one source within
	// an hour, over all users (guessing spread across many users), refuse
	// every digest answer from it for an hour, doubling up to a day.
	DefaultSourceBudgetFailures = 60
	DefaultSourceBudgetWindow   = time.Hour
	DefaultSourceBudgetBlock    = time.Hour
	// DefaultMaxBlock caps a budget's doubling block, and a key's history
	// is forgotten a day after its last block.
	DefaultMaxBlock    = 24 * time.Hour
	DefaultForgetAfter = 24 * time.Hour
	// DefaultMaxSources caps the sources tracked for blocking.
	DefaultMaxSources = 16384
	// DefaultMaxContacts caps the bindings of one user.
	DefaultMaxContacts = 10
	// DefaultLookupTimeout bounds one Credentials.HA1 call.
	DefaultLookupTimeout = 2 * time.Second
)

// maxUserLen bounds the user part accepted as an address-of-record.
const maxUserLen = 128

// maxAuthorizationHeaders bounds how many Authorization headers one request
// may carry before it is refused.
const maxAuthorizationHeaders = 4

// Credentials is where the registrar finds the HA1 of a user. The
// controller backs it with its store; tests use StaticCredentials.
type Credentials interface {
	// HA1 returns hex(H(user ":" realm ":" password)) for alg, with the
	// registrar's realm. ok is false, with a nil error, when the user does
	// not exist or has no HA1 for alg (the registrar then answers exactly
	// as for a wrong password, so store an HA1 for every algorithm offered:
	// a phone that picked SHA-256 does not fall back to MD5 by itself).
	// A non-nil error is a store failure,
	// answered 500 and not counted against the source. It must return when
	// ctx is done.
	HA1(ctx context.Context, user string, alg sipdigest.Algorithm) (ha1 string, ok bool, err error)
}

// StaticCredentials is an in-memory Credentials: user -> algorithm -> HA1.
type StaticCredentials map[string]map[sipdigest.Algorithm]string

// NewStaticCredentials derives MD5 and SHA-256 HA1s for each user from
// passwords (user -> password) in realm; the passwords are not kept.
func NewStaticCredentials(realm string, passwords map[string]string) StaticCredentials {
	out := make(StaticCredentials, len(passwords))
	for user, pw := range passwords {
		out[user] = map[sipdigest.Algorithm]string{
			sipdigest.MD5:    sipdigest.HA1(sipdigest.MD5, user, realm, pw),
			sipdigest.SHA256: sipdigest.HA1(sipdigest.SHA256, user, realm, pw),
		}
	}
	return out
}

// HA1 implements Credentials.
func (s StaticCredentials) HA1(_ context.Context, user string, alg sipdigest.Algorithm) (string, bool, error) {
	ha1, ok := s[user][alg]
	return ha1, ok, nil
}

// Registrar authenticates REGISTER requests and keeps bindings. Create it
// with New; it is safe for concurrent use.
type Registrar struct {
	creds         Credentials
	realm         string
	now           func() time.Time
	log           *slog.Logger
	lim           limits
	defExpires    time.Duration
	lookupTimeout time.Duration
	verifierOpts  []sipdigest.Option
	verifier      *sipdigest.Verifier
	guard         *guard
	userBudget    *budget // per user and source
	sourceBudget  *budget // per source, over all users
	store         *bindings

	// blockCfg is set by options and turned into guard by New.
	maxFailures          int
	failWindow, blockFor time.Duration
	maxSources           int
	userCfg, sourceCfg   Budget

	// subsMu guards subs.
	subsMu sync.Mutex
	subs   []func(Event)
}

// Option configures a Registrar.
type Option func(*Registrar) error

// WithRealm sets the digest realm (default DefaultRealm, or the SIP domain
// the phones are configured with). It must be free of control characters.
func WithRealm(realm string) Option {
	return func(r *Registrar) error {
		r.realm = realm
		return nil
	}
}

// WithClock sets the time source for expiry, nonces and blocking.
func WithClock(now func() time.Time) Option {
	return func(r *Registrar) error {
		if now == nil {
			return errors.New("registrar: nil clock")
		}
		r.now = now
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(r *Registrar) error {
		if l == nil {
			return errors.New("registrar: nil logger")
		}
		r.log = l
		return nil
	}
}

// WithExpiry sets the minimum, maximum and default binding durations
// (whole seconds; 0 < min <= def <= max).
func WithExpiry(minimum, maximum, def time.Duration) Option {
	return func(r *Registrar) error {
		if minimum < time.Second || minimum > def || def > maximum || minimum%time.Second != 0 {
			return fmt.Errorf("registrar: invalid expiry min %v default %v max %v", minimum, def, maximum)
		}
		r.lim.min, r.lim.max, r.defExpires = minimum, maximum, def
		return nil
	}
}

// WithBlocking sets brute-force blocking: more than maxFailures failed
// authentications from one IP within window block it for blockFor.
func WithBlocking(maxFailures int, window, blockFor time.Duration) Option {
	return func(r *Registrar) error {
		if maxFailures < 1 || window <= 0 || blockFor <= 0 {
			return fmt.Errorf("registrar: invalid blocking %d/%v for %v", maxFailures, window, blockFor)
		}
		r.maxFailures, r.failWindow, r.blockFor = maxFailures, window, blockFor
		return nil
	}
}

// WithUserBudget sets the failure budget of one user from one source
// (default DefaultUserBudget*).
func WithUserBudget(b Budget) Option {
	return func(r *Registrar) error {
		if !b.valid() {
			return fmt.Errorf("registrar: invalid user budget %+v", b)
		}
		r.userCfg = b
		return nil
	}
}

// WithSourceBudget sets the failure budget of one source over all users
// (default DefaultSourceBudget*).
func WithSourceBudget(b Budget) Option {
	return func(r *Registrar) error {
		if !b.valid() {
			return fmt.Errorf("registrar: invalid source budget %+v", b)
		}
		r.sourceCfg = b
		return nil
	}
}

// WithMaxSources caps the sources tracked for blocking; the least recently
// active is forgotten first.
func WithMaxSources(n int) Option {
	return func(r *Registrar) error {
		if n < 1 {
			return fmt.Errorf("registrar: invalid max sources %d", n)
		}
		r.maxSources = n
		return nil
	}
}

// WithMaxContacts caps the bindings one user may hold; a new contact beyond
// it evicts the binding closest to expiry.
func WithMaxContacts(n int) Option {
	return func(r *Registrar) error {
		if n < 1 {
			return fmt.Errorf("registrar: invalid max contacts %d", n)
		}
		r.lim.maxContacts = n
		return nil
	}
}

// WithLookupTimeout bounds each Credentials.HA1 call.
func WithLookupTimeout(d time.Duration) Option {
	return func(r *Registrar) error {
		if d <= 0 {
			return fmt.Errorf("registrar: invalid lookup timeout %v", d)
		}
		r.lookupTimeout = d
		return nil
	}
}

// WithDigestOptions passes options to the digest verifier (nonce TTL,
// shared secret for several nodes, algorithms). The registrar's clock is
// applied first, so a WithClock here overrides it.
func WithDigestOptions(opts ...sipdigest.Option) Option {
	return func(r *Registrar) error {
		r.verifierOpts = append(r.verifierOpts, opts...)
		return nil
	}
}

// New returns a Registrar that checks passwords against creds.
func New(creds Credentials, opts ...Option) (*Registrar, error) {
	if creds == nil {
		return nil, errors.New("registrar: nil credentials")
	}
	r := &Registrar{
		creds:         creds,
		realm:         DefaultRealm,
		now:           time.Now,
		log:           slog.New(slog.DiscardHandler),
		lim:           limits{min: DefaultMinExpires, max: DefaultMaxExpires, maxContacts: DefaultMaxContacts},
		defExpires:    DefaultExpires,
		lookupTimeout: DefaultLookupTimeout,
		maxFailures:   DefaultMaxFailures,
		failWindow:    DefaultFailureWindow,
		blockFor:      DefaultBlockFor,
		maxSources:    DefaultMaxSources,
		userCfg: Budget{Failures: DefaultUserBudgetFailures, Window: DefaultUserBudgetWindow,
			Block: DefaultUserBudgetBlock, MaxBlock: DefaultMaxBlock, ForgetAfter: DefaultForgetAfter},
		sourceCfg: Budget{Failures: DefaultSourceBudgetFailures, Window: DefaultSourceBudgetWindow,
			Block: DefaultSourceBudgetBlock, MaxBlock: DefaultMaxBlock, ForgetAfter: DefaultForgetAfter},
		store: newBindings(),
	}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	v, err := sipdigest.NewVerifier(r.realm, append([]sipdigest.Option{sipdigest.WithClock(r.now)}, r.verifierOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	r.verifier = v
	r.guard = newGuard(r.maxFailures, r.failWindow, r.blockFor, r.maxSources)
	r.userBudget = newBudget("user", r.userCfg, r.maxSources)
	r.sourceBudget = newBudget("source", r.sourceCfg, r.maxSources)
	return r, nil
}

// Blocks returns the refusals in force: burst blocks of sources, and the
// budgets' blocks of a user from a source or of a whole source, sorted by
// source.
func (r *Registrar) Blocks() []Block {
	now := r.now()
	out := r.guard.list(now)
	out = append(out, r.userBudget.list(now)...)
	out = append(out, r.sourceBudget.list(now)...)
	sortBlocks(out)
	return out
}

// Unblock lifts the blocks of source: of user only, or every block of the
// source when user is "". It returns how many blocks were in force.
func (r *Registrar) Unblock(source, user string) int {
	now := r.now()
	n := r.userBudget.clear(source, user, now)
	if user == "" {
		n += r.sourceBudget.clear(source, "", now)
		if r.guard.clear(source, now) {
			n++
		}
	}
	if n > 0 {
		r.log.Info("registrar: blocks lifted by an administrator", "source", source, "user", user, "blocks", n)
	}
	return n
}

// Realm returns the digest realm.
func (r *Registrar) Realm() string { return r.realm }

// OnChange subscribes f to binding changes. Subscribers are called in
// subscription order, synchronously, outside the registrar's locks, from
// the goroutine that made the change (a REGISTER handler, Sweep or
// Unbind), before that REGISTER is answered. f must not block: hand the
// event to a mailbox.
func (r *Registrar) OnChange(f func(Event)) {
	r.subsMu.Lock()
	defer r.subsMu.Unlock()
	r.subs = append(r.subs, f)
}

func (r *Registrar) emit(events []Event) {
	if len(events) == 0 {
		return
	}
	r.subsMu.Lock()
	subs := slices.Clone(r.subs)
	r.subsMu.Unlock()
	for _, e := range events {
		for _, f := range subs {
			f(e)
		}
	}
}

// Lookup returns the live bindings of user, oldest first, or nil. The
// native core routes a call for user/<user> to each (Source over Transport
// for phones behind NAT).
func (r *Registrar) Lookup(user string) []Contact {
	return r.store.lookup(user, r.now())
}

// Snapshot returns every user's live bindings (copies), for status pages
// and for handing registrations to a standby node.
func (r *Registrar) Snapshot() map[string][]Contact {
	return r.store.snapshot(r.now())
}

// Sweep removes the bindings expired at now, emitting Unregistered events
// with ReasonExpired, and forgets stale blocking records. The owner calls
// it on a ticker (every few seconds is plenty: Lookup already hides
// expired bindings).
func (r *Registrar) Sweep(now time.Time) {
	events := r.store.sweep(now)
	r.guard.sweep(now)
	r.userBudget.sweep(now)
	r.sourceBudget.sweep(now)
	r.emit(events)
}

// Unbind removes every binding of user (an agent deleted or disabled by an
// administrator), emitting Unregistered events with ReasonAdmin.
func (r *Registrar) Unbind(user string) {
	r.emit(r.store.remove(user))
}

// HandleRegister answers one REGISTER; mount it with srv.OnRegister. It
// returns when the final response has been handed to the transaction.
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	res := r.serve(req)
	if res == nil {
		return
	}
	if err := tx.Respond(res); err != nil {
		r.log.Debug("registrar: respond failed", "error", err, "call_id", callID(req), "source", req.Source())
	}
}

// serve processes req, emits its events and returns the response to send,
// or nil when the request must be dropped unanswered.
func (r *Registrar) serve(req *sip.Request) *sip.Response {
	res, events := r.process(req)
	r.emit(events)
	return res
}

// process decides the response to req and the events it caused.
func (r *Registrar) process(req *sip.Request) (*sip.Response, []Event) {
	if !safeToEcho(req) {
		r.log.Debug("registrar: dropped request with control characters in echoed headers",
			"source", req.Source())
		return nil, nil
	}
	now := r.now()
	ip := sourceIP(req.Source())
	if r.guard.blocked(ip, now) {
		return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), nil
	}
	to, from, cid, cseq := req.To(), req.From(), req.CallID(), req.CSeq()
	if to == nil || from == nil || cid == nil || cseq == nil || cseq.MethodName != sip.REGISTER {
		return badRequest(req, "Missing To, From, Call-ID or CSeq"), nil
	}
	user := to.Address.User
	if !validUser(user) {
		return badRequest(req, "Invalid address-of-record"), nil
	}

	cred, err := r.findCredentials(req)
	switch {
	case err != nil:
		if r.fail(ip, now, "", callID(req), err) {
			return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), nil
		}
		return badRequest(req, "Malformed Authorization"), nil
	case cred == nil:
		return r.challenge(req, false), nil
	}
	// A source over its budget gets no verdict on any password: even a
	// right one is refused, or guessing would only slow down.
	if r.userBudget.blocked(budgetKey{cred.Username, ip}, now) || r.sourceBudget.blocked(budgetKey{"", ip}, now) {
		return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), r.lookupTimeout)
	ha1, known, err := r.creds.HA1(ctx, cred.Username, cred.Algorithm)
	cancel()
	if err != nil {
		r.log.Error("registrar: credentials lookup failed", "error", err, "user", cred.Username, "call_id", callID(req))
		return sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil), nil
	}
	switch err := r.verifier.Verify(cred, string(req.Method), ha1, known); {
	case err == nil:
	case errors.Is(err, sipdigest.ErrStale):
		return r.challenge(req, true), nil
	case errors.Is(err, sipdigest.ErrBadNonce):
		// Not a password guess (the response was not judged): after a
		// restart every phone behind an office NAT sends one, and
		// counting them would block the whole office.
		return r.challenge(req, false), nil
	default:
		if r.fail(ip, now, cred.Username, callID(req), err) {
			return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), nil
		}
		return r.challenge(req, false), nil
	}
	if cred.Username != user || from.Address.User != user {
		r.log.Warn("registrar: authenticated user does not match To/From", "user", cred.Username,
			"to", user, "from", from.Address.User, "source", req.Source(), "call_id", callID(req))
		return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), nil
	}

	u, err := r.parseUpdate(req, user, cseq.SeqNo)
	if err != nil {
		return badRequest(req, "Invalid Contact or Expires"), nil
	}
	current, events, err := r.store.apply(now, u, r.lim)
	var interval *intervalError
	switch {
	case err == nil:
	case errors.As(err, &interval):
		res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(int(interval.min/time.Second))))
		return res, nil
	case errors.Is(err, errOutOfOrder):
		return sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil), nil
	case errors.Is(err, errTooManyContacts):
		return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Too Many Contacts", nil), nil
	default:
		return badRequest(req, "Invalid Contact or Expires"), nil
	}

	// Step 8: 200 lists every current binding with its remaining time.
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	for _, c := range current {
		secs := int(math.Ceil(c.Expires.Sub(now).Seconds()))
		res.AppendHeader(sip.NewHeader("Contact", "<"+c.URI+">;expires="+strconv.Itoa(secs)))
	}
	// RFC 3261 §20.17: rfc1123-date, always in GMT.
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	for _, e := range events {
		r.log.Info("registrar: binding "+e.Kind.String(), "user", e.User, "contact", e.Contact.URI,
			"source", e.Contact.Source, "reason", e.Reason.String(), "call_id", e.Contact.CallID)
	}
	return res, events
}

// fail counts a failed authentication and reports whether the source (or
// this user from it) is now blocked.
func (r *Registrar) fail(ip string, now time.Time, user, cid string, cause error) bool {
	burst := r.guard.fail(ip, now)
	if burst {
		r.log.Warn("registrar: source blocked after repeated authentication failures",
			"source", ip, "user", user, "call_id", cid, "block_for", r.blockFor)
	}
	blocked := burst
	if user != "" {
		if until := r.userBudget.fail(budgetKey{user, ip}, now); !until.IsZero() {
			r.log.Warn("registrar: user refused from this source after repeated authentication failures",
				"source", ip, "user", user, "call_id", cid, "until", until)
			blocked = true
		}
	}
	if until := r.sourceBudget.fail(budgetKey{"", ip}, now); !until.IsZero() {
		r.log.Warn("registrar: source refused after repeated authentication failures over its users",
			"source", ip, "call_id", cid, "until", until)
		blocked = true
	}
	if !blocked {
		r.log.Debug("registrar: authentication failed", "source", ip, "user", user, "call_id", cid, "error", cause)
	}
	return blocked
}

// challenge builds a 401 with one WWW-Authenticate per algorithm, preferred
// first (RFC 8760 §2.4). It is the same for every user, known or not.
func (r *Registrar) challenge(req *sip.Request, stale bool) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	for _, c := range r.verifier.Challenges(stale) {
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", c.String()))
	}
	return res
}

// findCredentials returns the Digest credentials for this realm, nil when
// the request carries none (the first REGISTER of every exchange), or an
// error for a malformed header. Credentials for other realms are skipped
// (RFC 3261 §22.4: a request may carry several).
func (r *Registrar) findCredentials(req *sip.Request) (*sipdigest.Credentials, error) {
	hs := req.GetHeaders("Authorization")
	if len(hs) > maxAuthorizationHeaders {
		return nil, fmt.Errorf("%w: %d Authorization headers", sipdigest.ErrMalformed, len(hs))
	}
	var first error
	for _, h := range hs {
		// Credentials in a scheme we do not know are answered like none:
		// a challenge in ours (RFC 4475 §3.4.5 "regaut01" wants 401).
		scheme, _, _ := strings.Cut(strings.TrimSpace(h.Value()), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		c, err := sipdigest.ParseCredentials(h.Value())
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if c.Realm == r.realm {
			return c, nil
		}
	}
	// Credentials for foreign realms only are answered like none: a fresh
	// challenge for ours.
	return nil, first
}

// parseUpdate turns the authenticated request into a store update.
func (r *Registrar) parseUpdate(req *sip.Request, user string, cseq uint32) (update, error) {
	u := update{
		user:      user,
		callID:    callID(req),
		cseq:      cseq,
		source:    req.Source(),
		transport: req.Transport(),
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		u.userAgent = sanitize(h.Value(), 256)
	}
	hdrExpires := time.Duration(-1)
	if h := req.GetHeader("Expires"); h != nil {
		d, err := parseDeltaSeconds(h.Value())
		if err != nil {
			return u, err
		}
		hdrExpires = d
	}
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			return u, fmt.Errorf("%w: unparsed Contact %q", errBadRequest, h.Value())
		}
		if ch.Address.Wildcard {
			// RFC 3261 §10.3 step 6: "*" only with Expires: 0 and alone.
			if hdrExpires != 0 {
				return u, fmt.Errorf("%w: Contact * needs Expires: 0", errBadRequest)
			}
			u.wildcard = true
			continue
		}
		scheme := strings.ToLower(ch.Address.Scheme)
		if scheme != "sip" && scheme != "sips" || ch.Address.Host == "" {
			return u, fmt.Errorf("%w: contact scheme %q", errBadRequest, ch.Address.Scheme)
		}
		uri := ch.Address.String()
		if len(uri) > 512 || sanitize(uri, 512) != uri {
			return u, fmt.Errorf("%w: contact URI", errBadRequest)
		}
		exp := hdrExpires
		for _, p := range ch.Params {
			if strings.EqualFold(p.K, "expires") {
				d, err := parseDeltaSeconds(p.V)
				if err != nil {
					return u, err
				}
				exp = d
			}
		}
		if exp < 0 {
			exp = r.defExpires
		}
		key := ch.Address.Clone()
		key.Scheme = scheme
		key.Host = strings.ToLower(key.Host)
		u.contacts = append(u.contacts, contactUpdate{key: key.String(), uri: uri, expires: exp})
	}
	if u.wildcard && len(u.contacts) > 0 {
		return u, fmt.Errorf("%w: Contact * with other contacts", errBadRequest)
	}
	return u, nil
}

// parseDeltaSeconds parses an Expires value (RFC 3261 §20.19: delta-seconds,
// 1*DIGIT). Values too large for any clock are capped; the store then
// clamps them to the maximum.
func parseDeltaSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 20 {
		return 0, fmt.Errorf("%w: expires %q", errBadRequest, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: expires %q", errBadRequest, s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > math.MaxUint32 {
		n = math.MaxUint32
	}
	return time.Duration(n) * time.Second, nil
}

// echoedHeaders are the headers sip.NewResponseFromRequest copies into
// every response (RFC 3261 §8.2.6.2).
var echoedHeaders = [...]string{"via", "from", "to", "call-id", "cseq", "timestamp"}

// safeToEcho reports whether the headers a response copies from req are
// free of control characters. sipgo v1.7.2 splits header lines on CRLF
// only, so a bare LF survives inside a value and would be copied into our
// response verbatim, where a lenient peer would read it as a new header
// line. Such a request is dropped rather than answered.
func safeToEcho(req *sip.Request) bool {
	for _, h := range req.Headers() {
		for _, name := range echoedHeaders {
			if strings.EqualFold(h.Name(), name) {
				if hasCTL(h.Value()) {
					return false
				}
				break
			}
		}
	}
	return true
}

// validUser accepts a non-empty user part without control characters.
func validUser(u string) bool {
	return u != "" && len(u) <= maxUserLen && sanitize(u, maxUserLen) == u
}

// hasCTL reports control characters other than HTAB (RFC 3261 §25.1 allows
// none in header values once folding is undone).
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// sanitize drops control characters and truncates to n bytes.
func sanitize(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func sourceIP(src string) string {
	host, _, err := net.SplitHostPort(src)
	if err != nil {
		return src
	}
	return host
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func badRequest(req *sip.Request, reason string) *sip.Response {
	return sip.NewResponseFromRequest(req, sip.StatusBadRequest, reason, nil)
}

package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"hotline/controller/store"
)

// tokenPrefix marks Hotline secrets so that secret scanners and humans
// recognise a leaked one.
const tokenPrefix = "hl_"

// bootstrapUsername is the system admin that owns the bootstrap token.
const bootstrapUsername = "bootstrap"

// HashPassword returns the bcrypt hash (cost 10) of pw, as stored in
// store.User.PasswordHash. bcrypt reads at most 72 bytes; longer passwords
// are refused rather than silently truncated.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), defaultBcryptCost)
	if err != nil {
		return "", fmt.Errorf("api: hash password: %w", err)
	}
	return string(h), nil
}

// newSecret returns a fresh bearer secret: "hl_" + base64url(32 random bytes).
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// hashSecret is what the store keeps of a secret: hex SHA-256. A fast hash
// is enough because secrets carry 256 bits of entropy (no guessing).
func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// EnsureBootstrapToken makes sure an admin API token whose secret is exactly
// secret exists, creating once a system admin user "bootstrap" (who has no
// password and so cannot log in) and the token. Calling it again with the
// same secret changes nothing; two processes racing are both fine.
func EnsureBootstrapToken(ctx context.Context, st Controller, secret string, now time.Time) error {
	if secret == "" || len(secret) > 512 || strings.ContainsFunc(secret, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Errorf("%w: the secret must be 1-512 printable ASCII characters without spaces", ErrInvalidBootstrap)
	}
	u, err := st.Users().GetByUsername(ctx, bootstrapUsername)
	if errors.Is(err, store.ErrNotFound) {
		u = store.User{Username: bootstrapUsername, DisplayName: "Bootstrap (system)", Role: store.RoleAdmin}
		err = st.Users().Create(ctx, &u)
		if errors.Is(err, store.ErrConflict) { // another process created it first
			u, err = st.Users().GetByUsername(ctx, bootstrapUsername)
		}
	}
	if err != nil {
		return fmt.Errorf("api: bootstrap user: %w", err)
	}
	if u.Role != store.RoleAdmin || u.Disabled {
		return fmt.Errorf("%w: user %q exists but is not an enabled admin", ErrInvalidBootstrap, bootstrapUsername)
	}
	hash := hashSecret(secret)
	t, err := st.Tokens().GetByHash(ctx, hash, now)
	switch {
	case err == nil:
		if t.UserID != u.ID {
			return fmt.Errorf("%w: the secret belongs to another user's token", ErrInvalidBootstrap)
		}
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("api: bootstrap token: %w", err)
	}
	t = store.Token{UserID: u.ID, Name: "bootstrap", Kind: store.TokenAPI, Hash: hash}
	if err := st.Tokens().Create(ctx, &t); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("api: bootstrap token: %w", err)
	}
	return nil
}

// principal is who made a request.
type principal struct {
	User  store.User
	Token store.Token
}

const ctxPrincipal = "hotline.principal"

func principalOf(c *gin.Context) (principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return principal{}, false
	}
	p, ok := v.(principal)
	return p, ok
}

// authMiddleware authenticates the bearer token and enforces r's roles.
func (s *Server) authMiddleware(r route) gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, secret, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		if q := c.Query("token"); r.tokenInQuery && c.GetHeader("Authorization") == "" && q != "" {
			scheme, secret, ok = "Bearer", q, true
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || len(secret) > 512 {
			s.abortWith(c, errUnauthorized())
			return
		}
		ctx := c.Request.Context()
		now := s.now()
		tok, err := s.st.Tokens().GetByHash(ctx, hashSecret(secret), now)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = errUnauthorized()
			}
			s.abortWith(c, err)
			return
		}
		u, err := s.st.Users().Get(ctx, tok.UserID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = errUnauthorized() // the user was deleted
			}
			s.abortWith(c, err)
			return
		}
		if u.Disabled {
			s.abortWith(c, errUnauthorized())
			return
		}
		c.Set(ctxPrincipal, principal{User: u, Token: tok})
		if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= touchEvery {
			if err := s.st.Tokens().Touch(ctx, tok.ID, now); err != nil {
				s.log.WarnContext(ctx, "token touch failed", "request_id", requestID(c), "err", err)
			}
		}
		if !r.access.allows(u.Role) {
			s.abortWith(c, errForbidden())
			return
		}
		c.Next()
	}
}

// lockout counts failed logins per key (username + client address) in a
// sliding window. mu guards fails.
type lockout struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	fails  map[string][]time.Time
}

func newLockout(max int, window time.Duration) *lockout {
	return &lockout{max: max, window: window, fails: map[string][]time.Time{}}
}

// maxLockoutKeys bounds memory under a spray of usernames; beyond it the
// oldest state is dropped wholesale, which only ever unlocks early.
const maxLockoutKeys = 100_000

func (l *lockout) recentLocked(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// locked reports whether key has reached the failure limit.
func (l *lockout) locked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recentLocked(key, now)) >= l.max
}

func (l *lockout) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxLockoutKeys {
		l.fails = map[string][]time.Time{}
	}
	l.fails[key] = append(l.recentLocked(key, now), now)
}

func (l *lockout) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// loginBody is the body of POST /api/v1/auth/login.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password" openapi:"writeOnly"`
}

// loginResponse answers a successful login.
type loginResponse struct {
	Token     string     `json:"token"`
	ExpiresAt time.Time  `json:"expires_at"`
	User      store.User `json:"user"`
}

func (s *Server) handleLogin(c *gin.Context) {
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b loginBody
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if len(b.Username) > maxName {
		// Longer names cannot exist; keep the lockout key and audit short.
		b.Username = strings.ToValidUTF8(b.Username[:maxName], "")
	}
	c.Set(ctxAuditUsername, b.Username)
	ctx := c.Request.Context()
	now := s.now()
	key := b.Username + "\x00" + c.ClientIP()
	if s.lockout.locked(key, now) {
		s.abortWith(c, &apiError{Status: http.StatusTooManyRequests, Code: codeTooManyAttempts,
			Message: "too many failed logins; wait a few minutes"})
		return
	}
	// A name no user can have is an unknown user; it must not reach the
	// database (which may refuse bytes such as NUL with an error).
	u, err := store.User{}, error(store.ErrNotFound)
	if checkUsername("username", b.Username) == nil {
		u, err = s.st.Users().GetByUsername(ctx, b.Username)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.abortWith(c, err)
		return
	}
	hash := s.dummyHash
	if err == nil && u.PasswordHash != "" {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(b.Password)) == nil
	if err != nil || u.PasswordHash == "" || u.Disabled || !match {
		s.lockout.fail(key, now)
		s.abortWith(c, errUnauthorized())
		return
	}
	s.lockout.reset(key)
	c.Set(ctxAuditUserID, u.ID)
	exp := now.Add(s.ttl).UTC().Truncate(time.Microsecond) // what the stores keep
	secret := newSecret()
	t := store.Token{UserID: u.ID, Name: "session", Kind: store.TokenSession, Hash: hashSecret(secret), ExpiresAt: &exp}
	if err := s.st.Tokens().Create(ctx, &t); err != nil {
		s.abortWith(c, err)
		return
	}
	c.Set(ctxAuditResourceID, t.ID)
	// Logins are rare and each adds a session: a good moment to sweep
	// expired ones, so the token table does not grow without bound.
	if _, err := s.st.Tokens().DeleteExpired(ctx, now); err != nil {
		s.log.WarnContext(ctx, "sweeping expired tokens failed", "request_id", requestID(c), "err", err)
	}
	c.JSON(http.StatusOK, loginResponse{Token: secret, ExpiresAt: exp, User: u})
}

// handleLogout revokes the bearer token that authenticated the request
// (a session, or an API token presented here).
func (s *Server) handleLogout(c *gin.Context) {
	p, _ := principalOf(c)
	if err := s.st.Tokens().Delete(c.Request.Context(), p.Token.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.abortWith(c, err)
		return
	}
	c.Set(ctxAuditResourceID, p.Token.ID)
	c.Status(http.StatusNoContent)
}

func (s *Server) handleMe(c *gin.Context) {
	p, _ := principalOf(c)
	c.JSON(http.StatusOK, p.User)
}

// tokenBody is the body of POST /api/v1/tokens. Only an admin may name
// another user.
type tokenBody struct {
	Name      string     `json:"name"`
	UserID    string     `json:"user_id,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// tokenCreated answers POST /api/v1/tokens; Secret is shown only here.
type tokenCreated struct {
	store.Token
	Secret string `json:"secret"`
}

// Token rules: every authenticated user manages its own tokens (list,
// create, delete); an admin lists and deletes every token and may create
// one for another user (that is how an agent's integration gets a token).
func (s *Server) handleTokenCreate(c *gin.Context) {
	p, _ := principalOf(c)
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b tokenBody
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if err := checkName("name", b.Name); err != nil {
		s.abortWith(c, err)
		return
	}
	ctx := c.Request.Context()
	owner := p.User.ID
	if b.UserID != "" && b.UserID != owner {
		if p.User.Role != store.RoleAdmin {
			s.abortWith(c, errForbidden())
			return
		}
		if err := checkID("user_id", b.UserID); err != nil {
			s.abortWith(c, err)
			return
		}
		if _, err := s.st.Users().Get(ctx, b.UserID); err != nil {
			s.abortWith(c, refErr("user_id", err))
			return
		}
		owner = b.UserID
	}
	if b.ExpiresAt != nil {
		if !b.ExpiresAt.After(s.now()) {
			s.abortWith(c, invalidValue("expires_at", "must be in the future"))
			return
		}
		exp := b.ExpiresAt.UTC()
		b.ExpiresAt = &exp
	}
	secret := newSecret()
	t := store.Token{UserID: owner, Name: b.Name, Kind: store.TokenAPI, Hash: hashSecret(secret), ExpiresAt: b.ExpiresAt}
	if err := s.st.Tokens().Create(ctx, &t); err != nil {
		s.abortWith(c, err)
		return
	}
	c.Set(ctxAuditResourceID, t.ID)
	c.JSON(http.StatusCreated, tokenCreated{Token: t, Secret: secret})
}

func (s *Server) handleTokenList(c *gin.Context) {
	p, _ := principalOf(c)
	opt, err := listOptions(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	ctx := c.Request.Context()
	if p.User.Role == store.RoleAdmin {
		pg, err := s.st.Tokens().List(ctx, opt)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		c.JSON(http.StatusOK, page[store.Token]{Items: nonNil(pg.Items), Next: pg.Next})
		return
	}
	// A user holds few tokens; page them here over ListByUser.
	all, err := s.st.Tokens().ListByUser(ctx, p.User.ID)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	out := page[store.Token]{Items: []store.Token{}}
	for _, t := range all {
		if t.ID <= opt.After {
			continue
		}
		if len(out.Items) == opt.Limit {
			out.Next = out.Items[len(out.Items)-1].ID
			break
		}
		out.Items = append(out.Items, t)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) handleTokenDelete(c *gin.Context) {
	p, _ := principalOf(c)
	id, ok := pathID(c)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	ctx := c.Request.Context()
	if p.User.Role != store.RoleAdmin {
		mine, err := s.st.Tokens().ListByUser(ctx, p.User.ID)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		found := false
		for _, t := range mine {
			found = found || t.ID == id
		}
		if !found {
			s.abortWith(c, errNotFound()) // do not reveal others' token ids
			return
		}
	}
	if err := s.st.Tokens().Delete(ctx, id); err != nil {
		s.abortWith(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

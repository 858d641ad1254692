package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/gin-gonic/gin"

	"hotline/controller/store"
)

// access says who may call a route. The zero value allows nobody and makes
// New fail: every route states its rule (deny by default).
type access struct {
	public bool
	roles  []store.Role
}

// publicAccess needs no credentials.
var publicAccess = access{public: true}

func rolesOf(rs ...store.Role) access { return access{roles: rs} }

func (a access) defined() bool { return a.public || len(a.roles) > 0 }

func (a access) allows(r store.Role) bool { return a.public || slices.Contains(a.roles, r) }

// names lists the roles for the OpenAPI document ("x-roles").
func (a access) names() []string {
	if a.public {
		return []string{"public"}
	}
	out := make([]string, len(a.roles))
	for i, r := range a.roles {
		out[i] = string(r)
	}
	return out
}

// The RBAC matrix (R12.1). Admins configure; supervisors read the
// configuration that runs their floor; qa and reporter read who works where
// (agents, queues, skills); an agent reads its own agent record (GET
// /api/v1/agents/{id} with its user's agent_id), itself (/me) and manages
// its own tokens. Users, trunks and the audit log are admin only.
var (
	adminOnly      = rolesOf(store.RoleAdmin)
	everyone       = rolesOf(store.Roles...)
	readPeople     = rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleQA, store.RoleReporter)
	readOneAgent   = rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleQA, store.RoleReporter, store.RoleAgent)
	readFloorSetup = rolesOf(store.RoleAdmin, store.RoleSupervisor)
)

// respKind is the shape of a route's success answer.
type respKind int

const (
	respOne  respKind = iota // one resp value
	respPage                 // {"items":[resp...],"next":""}
	respNone                 // no body
	respText                 // text/plain (metrics)
)

// param documents a query or path parameter.
type param struct {
	name, in, desc string
	schema         map[string]any
}

var (
	pageParams = []param{
		{name: "limit", in: "query", desc: "page size, 1-500 (default 50)", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": store.MaxLimit}},
		{name: "after", in: "query", desc: "cursor: the next value of the previous page", schema: map[string]any{"type": "string"}},
	}
	versionParam = param{name: "version", in: "query", desc: "the version read (instead of If-Match)", schema: map[string]any{"type": "integer", "minimum": 1}}
)

// route is one entry of the route table: everything the router, the access
// check, the audit log and the OpenAPI document need to know.
type route struct {
	method, path string
	summary, tag string
	access       access
	// resource and action name the audit entry of a write.
	resource, action string
	// alwaysAudit audits the route even when unauthenticated (login).
	alwaysAudit bool
	req         reflect.Type // request body, nil for none
	resp        reflect.Type // success body, nil for none
	respKind    respKind
	status      int
	query       []param
	ifMatch     bool // documents the If-Match header
	// tokenInQuery also accepts the bearer token as ?token= (the CTI
	// WebSocket: browsers cannot set headers on one).
	tokenInQuery bool
	handler      gin.HandlerFunc
}

func (r route) validate() error {
	switch {
	case !r.access.defined():
		return fmt.Errorf("%w: %s %s", ErrRouteWithoutAccess, r.method, r.path)
	case r.handler == nil || r.status == 0 || r.summary == "":
		return fmt.Errorf("%w: route %s %s is incomplete", ErrInvalidOptions, r.method, r.path)
	case isWrite(r.method) && (r.resource == "" || r.action == ""):
		return fmt.Errorf("%w: write route %s %s has no audit resource/action", ErrInvalidOptions, r.method, r.path)
	}
	return nil
}

// statusResponse answers /healthz and /readyz.
type statusResponse struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

// crudRoutes builds the five routes of resource r; readOne restricts GET of
// one record when it differs from read.
func crudRoutes[T any, B any](s *Server, r *crud[T, B], tag string, read, readOne, write access) []route {
	rs := r.routes(s, tag, read, write)
	for i := range rs {
		if rs[i].method == http.MethodGet && rs[i].respKind == respOne {
			rs[i].access = readOne
		}
	}
	return rs
}

// routeTable is the single list of routes; build registers it and
// renderOpenAPI documents it.
func (s *Server) routeTable() []route {
	users := &crud[store.User, userBody]{name: "users", key: "username",
		repo: func(st Controller) store.Repo[store.User] { return st.Users() },
		body: func() userBody { return userBody{User: defaultUser()} }, build: (*Server).buildUser,
		afterDelete: s.revokeTokensOf}
	agents := &crud[store.Agent, agentBody]{name: "agents", key: "extension",
		repo: func(st Controller) store.Repo[store.Agent] { return st.Agents() },
		body: func() agentBody { return agentBody{Agent: defaultAgent()} }, build: (*Server).buildAgent, guard: (*Server).guardAgent,
		canRead: func(p principal, id string) bool {
			return p.User.Role != store.RoleAgent || (p.User.AgentID != "" && p.User.AgentID == id)
		}}
	skills := &crud[store.Skill, skillBody]{name: "skills", key: "name",
		repo: func(st Controller) store.Repo[store.Skill] { return st.Skills() },
		body: func() skillBody { return skillBody{defaultSkill()} }, build: (*Server).buildSkill, guard: (*Server).guardSkill}
	queues := &crud[store.Queue, queueBody]{name: "queues", key: "name",
		repo: func(st Controller) store.Repo[store.Queue] { return st.Queues() },
		body: func() queueBody { return queueBody{defaultQueue()} }, build: (*Server).buildQueue, guard: (*Server).guardQueue}
	numbers := &crud[store.Number, numberBody]{name: "numbers", key: "number",
		repo: func(st Controller) store.Repo[store.Number] { return st.Numbers() },
		body: func() numberBody { return numberBody{defaultNumber()} }, build: (*Server).buildNumber}
	trunks := &crud[store.Trunk, trunkBody]{name: "trunks", key: "name",
		repo: func(st Controller) store.Repo[store.Trunk] { return st.Trunks() },
		body: func() trunkBody { return trunkBody{Trunk: defaultTrunk()} }, build: (*Server).buildTrunk}
	schedules := &crud[store.Schedule, scheduleBody]{name: "schedules", key: "name",
		repo: func(st Controller) store.Repo[store.Schedule] { return st.Schedules() },
		body: func() scheduleBody { return scheduleBody{defaultSchedule()} }, build: (*Server).buildSchedule, guard: (*Server).guardSchedule}
	lists := &crud[store.ListEntry, listEntryBody]{name: "lists", key: "pattern",
		repo: func(st Controller) store.Repo[store.ListEntry] { return st.Lists() },
		body: func() listEntryBody { return listEntryBody{defaultListEntry()} }, build: (*Server).buildListEntry}

	rs := []route{
		{method: http.MethodGet, path: "/healthz", summary: "Liveness: the process is up", tag: "operations",
			access: publicAccess, resp: reflect.TypeFor[statusResponse](), status: http.StatusOK, handler: s.handleHealthz},
		{method: http.MethodGet, path: "/readyz", summary: "Readiness: the store answers within 1 s", tag: "operations",
			access: publicAccess, resp: reflect.TypeFor[statusResponse](), status: http.StatusOK, handler: s.handleReadyz},
		{method: http.MethodGet, path: "/metrics", summary: "Prometheus metrics", tag: "operations",
			access: publicAccess, respKind: respText, status: http.StatusOK, handler: s.metricsHandler()},
		{method: http.MethodGet, path: "/api/v1/openapi.json", summary: "This OpenAPI 3.1 document", tag: "operations",
			access: publicAccess, respKind: respOne, status: http.StatusOK, handler: s.handleOpenAPI},
		{method: http.MethodPost, path: "/api/v1/auth/login", summary: "Log in; returns a session token", tag: "auth",
			access: publicAccess, resource: "auth", action: "login", alwaysAudit: true,
			req: reflect.TypeFor[loginBody](), resp: reflect.TypeFor[loginResponse](), status: http.StatusOK, handler: s.handleLogin},
		{method: http.MethodPost, path: "/api/v1/auth/logout", summary: "Revoke the bearer token of this request", tag: "auth",
			access: everyone, resource: "auth", action: "logout", respKind: respNone, status: http.StatusNoContent, handler: s.handleLogout},
		{method: http.MethodGet, path: "/api/v1/me", summary: "The authenticated user", tag: "auth",
			access: everyone, resp: reflect.TypeFor[store.User](), status: http.StatusOK, handler: s.handleMe},
		{method: http.MethodGet, path: "/api/v1/tokens", summary: "List API and session tokens (own; admin: all)", tag: "auth",
			access: everyone, query: pageParams, resp: reflect.TypeFor[store.Token](), respKind: respPage, status: http.StatusOK, handler: s.handleTokenList},
		{method: http.MethodPost, path: "/api/v1/tokens", summary: "Create an API token; the secret is shown once", tag: "auth",
			access: everyone, resource: "tokens", action: "create", req: reflect.TypeFor[tokenBody](),
			resp: reflect.TypeFor[tokenCreated](), status: http.StatusCreated, handler: s.handleTokenCreate},
		{method: http.MethodDelete, path: "/api/v1/tokens/:id", summary: "Revoke a token (own; admin: any)", tag: "auth",
			access: everyone, resource: "tokens", action: "delete", respKind: respNone, status: http.StatusNoContent, handler: s.handleTokenDelete},
		{method: http.MethodGet, path: "/api/v1/audit", summary: "The audit log, newest first", tag: "audit",
			access: adminOnly, query: append([]param{
				{name: "user_id", in: "query", desc: "only this user's entries", schema: map[string]any{"type": "string"}},
				{name: "resource", in: "query", desc: "only this resource, e.g. queues", schema: map[string]any{"type": "string"}},
				{name: "since", in: "query", desc: "RFC 3339 lower bound", schema: map[string]any{"type": "string", "format": "date-time"}},
				{name: "until", in: "query", desc: "RFC 3339 upper bound", schema: map[string]any{"type": "string", "format": "date-time"}},
			}, pageParams...), resp: reflect.TypeFor[store.AuditEntry](), respKind: respPage, status: http.StatusOK, handler: s.handleAuditList},
	}
	rs = append(rs, crudRoutes(s, users, "users", adminOnly, adminOnly, adminOnly)...)
	rs = append(rs, crudRoutes(s, agents, "agents", readPeople, readOneAgent, adminOnly)...)
	rs = append(rs, crudRoutes(s, skills, "skills", readPeople, readPeople, adminOnly)...)
	rs = append(rs, crudRoutes(s, queues, "queues", readPeople, readPeople, adminOnly)...)
	rs = append(rs, crudRoutes(s, numbers, "numbers", readFloorSetup, readFloorSetup, adminOnly)...)
	rs = append(rs, crudRoutes(s, trunks, "trunks", adminOnly, adminOnly, adminOnly)...)
	rs = append(rs, crudRoutes(s, schedules, "schedules", readFloorSetup, readFloorSetup, adminOnly)...)
	rs = append(rs, crudRoutes(s, lists, "lists", readFloorSetup, readFloorSetup, adminOnly)...)
	rs = append(rs, s.sipBlockRoutes()...)
	rs = append(rs, s.recordRoutes()...)
	rs = append(rs, s.liveRoutes()...)
	rs = append(rs, s.superviseRoutes()...)
	rs = append(rs, s.callControlRoutes()...)
	rs = append(rs, s.eventsRoute())
	rs = append(rs, s.reportRoutes()...)
	rs = append(rs, s.realtimeRoutes()...)
	rs = append(rs, s.conferenceRoutes()...)
	rs = append(rs, s.voicemailRoutes()...)
	rs = append(rs, s.pbxRoutes()...)
	return rs
}

// revokeTokensOf deletes a deleted user's tokens. Authentication also
// refuses tokens of missing users, so a failure here is logged, not fatal.
func (s *Server) revokeTokensOf(ctx context.Context, userID string) {
	toks, err := s.st.Tokens().ListByUser(ctx, userID)
	if err == nil {
		for _, t := range toks {
			if err = s.st.Tokens().Delete(ctx, t.ID); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.log.WarnContext(ctx, "revoking a deleted user's tokens failed", "user_id", userID, "err", err)
	}
}

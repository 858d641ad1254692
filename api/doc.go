// Package api serves Hotline's administration REST API under /api/v1 (R10.2,
// R12.1) and the operational endpoints /healthz, /readyz and /metrics.
//
// It owns:
//   - the route table (routes.go): every route's method, path, allowed roles,
//     request and response schema and handler live in one entry, and both
//     the gin router and the OpenAPI 3.1 document (GET /api/v1/openapi.json)
//     are built from it. A route without an explicit access rule cannot be
//     registered: New fails (deny by default);
//   - authentication: bcrypt user passwords, login sessions and API tokens
//     ("hl_" + base64url of 32 random bytes, stored as SHA-256 hashes), a
//     per-username+address login lockout, and the bootstrap admin token;
//   - role-based access per route (the matrix is documented in routes.go;
//     tokens: every user lists, creates and revokes its own, an admin all);
//   - strict JSON decoding and validation of every resource, with the one
//     place (errors.go) that maps errors to HTTP statuses and the error body
//     {"error":{"code","message","field"}};
//   - optimistic concurrency (ETag / If-Match / version), cursor pagination;
//   - the audit trail of every change and login attempt;
//   - request ids, JSON access logs and Prometheus metrics.
//
// Defaults of every resource live in defaults.go.
//
// It talks to persistence only through the store.Store interface. It must
// not import a database driver or a store implementation (controller/store
// sub-packages are used by tests only), nor any media core backend.
package api

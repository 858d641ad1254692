package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"hotline/controller/store"
)

// enumValues documents the named string types that take a fixed set of
// values.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[store.Role]():          names(store.Roles),
	reflect.TypeFor[store.Strategy]():      names(store.Strategies),
	reflect.TypeFor[store.TargetKind]():    names(targetKinds),
	reflect.TypeFor[store.RecordingMode](): names(recordingModes),
	reflect.TypeFor[store.Transport]():     names(transports),
	reflect.TypeFor[store.ListKind]():      names(listKinds),
	reflect.TypeFor[store.MatchKind]():     names(matchKinds),
	reflect.TypeFor[store.TokenKind]():     {string(store.TokenAPI), string(store.TokenSession)},
}

func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// schemaGen turns Go types into JSON Schema (OpenAPI 3.1 dialect), one
// component per named struct.
type schemaGen struct {
	comps map[string]any
}

// schemaName is a struct's component name: store types keep theirs
// (Agent), request bodies become XxxInput, others are capitalised.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if base, ok := strings.CutSuffix(n, "Body"); ok {
		n = base + "Input"
	}
	r := []rune(n)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		return g.schema(t.Elem())
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == reflect.TypeFor[time.Weekday]():
		return map[string]any{"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Sunday"}
	}
	switch t.Kind() {
	case reflect.Struct:
		name := schemaName(t)
		if _, ok := g.comps[name]; !ok {
			g.comps[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			for _, f := range orderedJSONFields(t) {
				p := g.schema(f.Type)
				if f.ReadOnly || f.Tag.Get("openapi") == "writeOnly" {
					p = map[string]any{"allOf": []any{p}}
					if f.ReadOnly {
						p["readOnly"] = true
					} else {
						p["writeOnly"] = true
					}
				}
				props[f.Name] = p
			}
			comp := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			applyInputRules(name, comp)
			g.comps[name] = comp
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.String:
		s := map[string]any{"type": "string"}
		if vs, ok := enumValues[t]; ok {
			s["enum"] = vs
		}
		return s
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	default:
		return map[string]any{}
	}
}

// openAPIPath turns gin's ":id" into OpenAPI's "{id}".
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// renderOpenAPI documents s.routes as an OpenAPI 3.1 document.
func (s *Server) renderOpenAPI() ([]byte, error) {
	g := &schemaGen{comps: map[string]any{}}
	errRef := g.schema(reflect.TypeFor[errorResponse]())
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": jsonContent(errRef)}
	}
	paths := map[string]any{}
	for _, r := range s.routes {
		p := openAPIPath(r.path)
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		op := map[string]any{
			"summary":     r.summary,
			"operationId": strings.ToLower(r.method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(p),
			"tags":        []string{r.tag},
			"x-roles":     r.access.names(),
		}
		if r.access.public {
			op["security"] = []any{}
		} else {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		var params []any
		for _, seg := range strings.Split(r.path, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range r.query {
			params = append(params, map[string]any{"name": q.name, "in": q.in, "description": q.desc, "schema": q.schema})
		}
		if r.ifMatch {
			params = append(params, map[string]any{"name": "If-Match", "in": "header",
				"description": `the ETag read, e.g. "3" (or send the version)`, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.req != nil {
			op["requestBody"] = map[string]any{"required": true, "content": jsonContent(g.schema(r.req))}
		}
		ok := map[string]any{"description": http.StatusText(r.status)}
		switch r.respKind {
		case respOne:
			if r.resp != nil {
				ok["content"] = jsonContent(g.schema(r.resp))
			} else {
				ok["content"] = jsonContent(map[string]any{"type": "object"})
			}
		case respPage:
			ok["content"] = jsonContent(map[string]any{"type": "object", "properties": map[string]any{
				"items": map[string]any{"type": "array", "items": g.schema(r.resp)},
				"next":  map[string]any{"type": "string", "description": "cursor of the next page; empty on the last"},
			}})
		case respText:
			ok["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{strconv.Itoa(r.status): ok}
		if r.req != nil || len(r.query) > 0 || r.ifMatch {
			responses["400"] = errResp("invalid JSON, unknown field or invalid value (field names it)")
		}
		if r.req != nil {
			responses["415"] = errResp("the body is declared as something other than JSON")
		}
		if !r.access.public {
			responses["401"] = errResp("missing, unknown or expired token")
			responses["403"] = errResp("role not allowed")
			responses["503"] = errResp("store unavailable")
		}
		if strings.Contains(r.path, ":") {
			responses["404"] = errResp("no such record")
		}
		if r.req != nil && r.resource != "auth" {
			responses["409"] = errResp("unique key taken (field names it)")
		}
		if r.method == http.MethodDelete && r.ifMatch {
			responses["409"] = errResp("another record refers to this one")
		}
		if r.ifMatch {
			responses["412"] = errResp("version mismatch: re-read and retry")
			responses["428"] = errResp("If-Match or version required")
		}
		if r.path == "/api/v1/auth/login" {
			responses["401"] = errResp("wrong username or password")
			responses["429"] = errResp("too many failed logins")
		}
		if r.path == "/readyz" {
			responses["503"] = errResp("store unreachable")
		}
		op["responses"] = responses
		item[strings.ToLower(r.method)] = op
	}
	version := s.version
	if version == "" {
		version = "dev"
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Hotline API",
			"version":     version,
			"description": "Administration of the Hotline call center. Authenticate with Authorization: Bearer <token> (a login session or an API token). x-roles lists the roles allowed on each operation.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.comps,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("api: render openapi: %w", err)
	}
	return b, nil
}

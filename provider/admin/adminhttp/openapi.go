package adminhttp

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"tsubasa/provider/admin/adminapi"
)

// Document is the OpenAPI 3.1 document of the admin API, built from the
// route table (adminapi.Routes) and the reflected schemas of its types,
// so that it describes exactly the routes the handler serves.
func Document(issuer string) ([]byte, error) {
	g := &schemas{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, rt := range adminapi.Routes {
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = operation(g, rt)
	}
	paths[adminapi.Prefix+"/openapi.json"] = map[string]any{"get": map[string]any{
		"operationId": "openapi", "summary": "This document", "tags": []string{"meta"}, "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "The OpenAPI document",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}},
	}}
	problemRef := g.of(reflect.TypeFor[adminapi.Problem]())
	scopes := map[string]string{}
	for _, s := range adminapi.Scopes {
		scopes[s] = scopeAbout[s]
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Tsubasa admin API", "version": "1",
			"description": "Member administration and support for the programme's systems. Every call needs an access " +
				"token this server issued by client_credentials to a client allowed the route's scope; every call is " +
				"audited (admin.call), naming the client and the agent of X-Tsubasa-Agent. Errors are RFC 9457 problem " +
				"details whose type is stable per kind of error (GET it for what it means)."},
		"servers": []any{map[string]any{"url": strings.TrimSuffix(issuer, "/")}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{"oauth2": map[string]any{"type": "oauth2", "flows": map[string]any{
				"clientCredentials": map[string]any{"tokenUrl": strings.TrimSuffix(issuer, "/") + "/oauth/token", "scopes": scopes}}}},
			"responses": map[string]any{"Problem": map[string]any{"description": "A problem (RFC 9457)",
				"content": map[string]any{adminapi.MediaProblem: map[string]any{"schema": problemRef}}}},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

var scopeAbout = map[string]string{
	adminapi.ScopeMembersRead:    "Read members, their sessions, devices and linked apps",
	adminapi.ScopeMembersWrite:   "Create, change, disable, enable and import members; read import jobs",
	adminapi.ScopeMembersSupport: "Unlock, set passwords, reset second factors, end sessions, forget devices, unlink apps",
	adminapi.ScopeClients:        "Manage relying parties",
	adminapi.ScopeKeys:           "List and rotate signing keys",
	adminapi.ScopeEventsRead:     "Read members' audit events",
}

// operation is the OpenAPI operation of a route.
func operation(g *schemas, rt adminapi.Route) map[string]any {
	params := rt.Params()
	var ps []any
	for _, p := range params {
		ps = append(ps, map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	fields := jsonFields(rt.In)
	if rt.BodyLess() || len(rt.Upload) > 0 {
		for _, name := range sortedKeys(fields) {
			if slices.Contains(params, name) {
				continue
			}
			kind, _ := queryKind(fields[name])
			ps = append(ps, map[string]any{"name": name, "in": "query", "required": false, "schema": map[string]any{"type": kind}})
		}
	}
	ps = append(ps, header(AgentHeader, false, "The agent (a person) the client acts for, recorded with the call"))
	if rt.IfMatch {
		ps = append(ps, header("If-Match", true, "The ETag of the resource as last read"))
	}
	if rt.Idempotent {
		ps = append(ps, header("Idempotency-Key", false, "A retry with the same key and request gets the first answer"))
	}
	op := map[string]any{
		"operationId": strings.NewReplacer("/", "_", "-", "_").Replace(rt.Op),
		"summary":     rt.Summary,
		"tags":        []string{strings.Split(strings.TrimPrefix(rt.Path, adminapi.Prefix+"/"), "/")[0]},
		"security":    []any{map[string]any{"oauth2": []string{rt.Scope}}},
		"parameters":  ps,
		"responses":   responses(g, rt),
	}
	switch {
	case len(rt.Upload) > 0:
		content := map[string]any{}
		for _, mt := range rt.Upload {
			content[mt] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		op["requestBody"] = map[string]any{"required": true, "content": content}
	case !rt.BodyLess():
		skip := append(slices.Clone(params), ifMatchField)
		op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": g.object(rt.In, skip)}}}
	}
	return op
}

func header(name string, required bool, about string) map[string]any {
	return map[string]any{"name": name, "in": "header", "required": required, "description": about,
		"schema": map[string]any{"type": "string"}}
}

// responses are a route's answers: its success, and the problems it may
// answer with.
func responses(g *schemas, rt adminapi.Route) map[string]any {
	status := rt.Status
	if rt.Job {
		status = http.StatusAccepted
	}
	ok := map[string]any{"description": http.StatusText(status),
		"content": map[string]any{"application/json": map[string]any{"schema": g.of(rt.Out)}}}
	hdrs := map[string]any{}
	if _, versioned := reflect.New(rt.Out).Elem().Interface().(interface{ ETag() string }); versioned {
		hdrs["ETag"] = map[string]any{"schema": map[string]any{"type": "string"}}
	}
	if status == http.StatusCreated || status == http.StatusAccepted {
		hdrs["Location"] = map[string]any{"schema": map[string]any{"type": "string"}}
	}
	if len(hdrs) > 0 {
		ok["headers"] = hdrs
	}
	out := map[string]any{strconv.Itoa(status): ok}
	codes := []int{400, 401, 403, 404, 429, 500}
	if !rt.BodyLess() {
		codes = append(codes, 409, 413, 415, 503)
	}
	if rt.IfMatch {
		codes = append(codes, 412, 428)
	}
	if rt.Idempotent {
		codes = append(codes, 422)
	}
	for _, c := range codes {
		out[strconv.Itoa(c)] = map[string]any{"$ref": "#/components/responses/Problem"}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

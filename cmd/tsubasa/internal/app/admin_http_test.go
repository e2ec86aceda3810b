package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsubasa/config"
	"tsubasa/provider/admin/adminapi"
)

// adminEnv is the assembled server (newServer, as serve builds it) on a
// fresh database, behind a test listener, with a client allowed every
// admin scope.
type adminEnv struct {
	url   string
	token string
	srv   *server
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	cfg := config.Default()
	cfg.Dev = true
	config.DevDefaults(&cfg)
	cfg.Storage.Bolt.Path = filepath.Join(t.TempDir(), "tsubasa.db")
	cfg.Password.Argon2.MemoryKiB, cfg.Password.Argon2.Iterations = 8192, 1
	cfg.Clients = []config.ClientConfig{{ID: "ops", Secret: "ops-secret-0123456789",
		GrantTypes: []string{config.GrantClientCredentials}, Scopes: config.AdminScopes()}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	s, err := newServer(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	e := &adminEnv{url: srv.URL, srv: s}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(config.AdminScopes(), " ")}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", "ops-secret-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %s %v", resp.Status, err)
	}
	e.token = tr.AccessToken
	return e
}

// supportCode is the code of the newest support mail in the development
// outbox, read as the member would read it out.
func (e *adminEnv) supportCode(t *testing.T) string {
	t.Helper()
	msgs := e.srv.msg.devMail.List()
	for _, m := range msgs {
		if m.Purpose == "support" {
			if code := supportDigits.FindStringSubmatch(m.Body); code != nil {
				return code[1]
			}
		}
	}
	t.Fatalf("no support code among %d messages in the outbox", len(msgs))
	return ""
}

var supportDigits = regexp.MustCompile(`(?m)^(\d{6})\s*$`)

// do sends a request (with the token when auth) and returns the status,
// the header and the decoded JSON body (numbers kept exact).
func (e *adminEnv) do(t *testing.T, method, path, contentType, body string, auth bool, hdr ...string) (int, http.Header, any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&v)
	return resp.StatusCode, resp.Header, v
}

// document fetches and decodes the served OpenAPI document.
func (e *adminEnv) document(t *testing.T) map[string]any {
	t.Helper()
	status, _, v := e.do(t, http.MethodGet, adminapi.Prefix+"/openapi.json", "", "", false)
	doc, ok := v.(map[string]any)
	if status != http.StatusOK || !ok || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %d %v", status, v)
	}
	return doc
}

// samplePath fills a documented path's parameters.
func samplePath(p string) string {
	return strings.NewReplacer("{number}", "1234567", "{id}", "x1", "{device}", "d1", "{client}", "c1").Replace(p)
}

// TestAdminDocumentMatchesTheRoutes: every route of the table is in the
// served OpenAPI document, and every operation the document names exists
// on the real server: it answers 401 without a token (the route's own
// check), never 404 or 405, while a path the document lacks is 404.
func TestAdminDocumentMatchesTheRoutes(t *testing.T) {
	e := newAdminEnv(t)
	doc := e.document(t)
	paths := doc["paths"].(map[string]any)
	documented := 0
	for p, ops := range paths {
		for method := range ops.(map[string]any) {
			documented++
			m := strings.ToUpper(method)
			status, _, _ := e.do(t, m, samplePath(p), "application/json", "{}", false)
			want := http.StatusUnauthorized
			if p == adminapi.Prefix+"/openapi.json" {
				want = http.StatusOK
			}
			if status != want {
				t.Errorf("%s %s (documented): %d, want %d", m, p, status, want)
			}
		}
	}
	for _, rt := range adminapi.Routes {
		op, _ := paths[rt.Path].(map[string]any)[strings.ToLower(rt.Method)].(map[string]any)
		if op == nil {
			t.Errorf("route %s %s is not documented", rt.Method, rt.Path)
			continue
		}
		sec := op["security"].([]any)[0].(map[string]any)["oauth2"].([]any)
		if len(sec) != 1 || sec[0] != rt.Scope {
			t.Errorf("%s %s documents scopes %v, needs %s", rt.Method, rt.Path, sec, rt.Scope)
		}
	}
	if documented != len(adminapi.Routes)+1 {
		t.Errorf("the document has %d operations, the table %d routes (+ openapi.json)", documented, len(adminapi.Routes))
	}
	if status, _, _ := e.do(t, http.MethodGet, adminapi.Prefix+"/nothing-here", "", "", false); status != http.StatusNotFound {
		t.Errorf("an undocumented path: %d, want 404", status)
	}
}

// TestAdminScopesAreConfigs: the scopes the API requires are exactly the
// ones config lets a client have (and refuses on member-facing clients).
func TestAdminScopesAreConfigs(t *testing.T) {
	a, c := slices.Clone(adminapi.Scopes), config.AdminScopes()
	slices.Sort(a)
	slices.Sort(c)
	if !slices.Equal(a, c) {
		t.Errorf("adminapi.Scopes %v, config.AdminScopes %v", a, c)
	}
	for _, rt := range adminapi.Routes {
		if !slices.Contains(a, rt.Scope) {
			t.Errorf("%s %s requires %q, no admin scope", rt.Method, rt.Path, rt.Scope)
		}
	}
}

// answerSchema is the documented schema of the answer of path's method with
// status: the route's own, or the problem's.
func answerSchema(t *testing.T, doc map[string]any, method, pattern string, status int) map[string]any {
	t.Helper()
	op, _ := doc["paths"].(map[string]any)[pattern].(map[string]any)[strings.ToLower(method)].(map[string]any)
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if !ok {
		t.Errorf("%s %s: status %d is not documented", method, pattern, status)
		return nil
	}
	if ref, ok := resp["$ref"].(string); ok {
		resp = doc["components"].(map[string]any)["responses"].(map[string]any)[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
	}
	for _, c := range resp["content"].(map[string]any) {
		return c.(map[string]any)["schema"].(map[string]any)
	}
	return nil
}

// TestAdminAnswersMatchTheDocument plays every route on the real server
// with a token of every scope, and checks each answer, success or
// problem, against the schema the document gives for its status. Every
// route of the table must be played: a new route needs its line here.
func TestAdminAnswersMatchTheDocument(t *testing.T) {
	e := newAdminEnv(t)
	doc := e.document(t)
	played := map[string]bool{}
	var etag, next, job string
	call := func(method, pattern, path, ct, body string, want int, hdr ...string) any {
		t.Helper()
		played[method+" "+pattern] = true
		status, h, v := e.do(t, method, path, ct, body, true, hdr...)
		if status != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, v)
		}
		if s := answerSchema(t, doc, method, pattern, status); s != nil {
			for _, p := range validate(doc, s, v, method+" "+path) {
				t.Error(p)
			}
		}
		if tag := h.Get("ETag"); tag != "" {
			etag = tag
		}
		return v
	}
	const js, m, mp = "application/json", "/admin/v1/members/{number}", "/admin/v1/members/1234567"
	call("POST", "/admin/v1/members", "/admin/v1/members", js,
		`{"number":"1234567","password":"Blue-Sky-Flight-88","family_name":"山田","email":"h@example.com","phone":"090-1234-5678","country":"JP"}`, 201)
	call("GET", m, mp, "", "", 200)
	found := call("GET", "/admin/v1/members", "/admin/v1/members?email=h@EXAMPLE.com", "", "", 200).(map[string]any)
	if ms, _ := found["members"].([]any); len(ms) != 1 {
		t.Errorf("members by email: %v", found)
	}
	call("GET", "/admin/v1/members", "/admin/v1/members?phone=%2B819012345678", "", "", 200)
	call("GET", "/admin/v1/members", "/admin/v1/members", "", "", 400)
	call("GET", "/admin/v1/members", "/admin/v1/members?email=not-an-address", "", "", 400)
	call("GET", m, "/admin/v1/members/12", "", "", 400)
	call("GET", m, "/admin/v1/members/7654321", "", "", 404)
	call("PATCH", m, mp, js, `{"given_name":"花子"}`, 428)
	call("PATCH", m, mp, js, `{"given_name":"花子"}`, 200, "If-Match", etag)
	call("PATCH", m, mp, js, `{"given_name":"次郎"}`, 412, "If-Match", `"stale"`)
	for _, a := range []string{"disable", "enable", "unlock"} {
		call("POST", m+"/"+a, mp+"/"+a, "", "", 200)
	}
	// The credential changes need a support session verified by the member
	// reading back the code (admin.support.require_verified_session).
	const ss = m + "/support-sessions/{id}"
	call("POST", m+"/password", mp+"/password", js, `{"password":"Temporary-Kite-81","temporary":true}`, 403)
	sess := call("POST", m+"/support-sessions", mp+"/support-sessions", "", "", 201).(map[string]any)
	sp := mp + "/support-sessions/" + sess["id"].(string)
	call("GET", ss, sp, "", "", 200)
	call("POST", ss+"/verify", sp+"/verify", js, `{"code":"12345x"}`, 400)
	call("POST", ss+"/verify", sp+"/verify", js, fmt.Sprintf(`{"code":%q}`, e.supportCode(t)), 200)
	call("POST", ss+"/verify", sp+"/verify", js, `{"code":"000000"}`, 409)
	with := fmt.Sprintf(`,"support_session":%q}`, sess["id"])
	call("POST", m+"/password", mp+"/password", js, `{"password":"Temporary-Kite-81","temporary":true`+with, 200)
	call("POST", m+"/passkeys:remove", mp+"/passkeys:remove", js, `{"support_session":"`+sess["id"].(string)+`"}`, 200)
	call("POST", m+"/otp-destinations:reset", mp+"/otp-destinations:reset", js, `{"phone":true`+with, 200)
	for _, l := range []string{"sessions", "devices", "apps"} {
		call("GET", m+"/"+l, mp+"/"+l, "", "", 200)
	}
	call("POST", m+"/sessions:end", mp+"/sessions:end", js, `{}`, 200)
	call("DELETE", m+"/devices/{device}", mp+"/devices/d1", "", "", 404)
	call("DELETE", m+"/apps/{client}", mp+"/apps/c1", "", "", 404)
	page := call("GET", m+"/events", mp+"/events?limit=2", "", "", 200).(map[string]any)
	next, _ = page["next"].(string)
	if next == "" {
		t.Fatal("a first page of 2 events has no next cursor")
	}
	call("GET", m+"/events", mp+"/events?limit=2&cursor="+url.QueryEscape(next), "", "", 200)
	call("GET", m+"/events", mp+"/events?cursor=AAAA", "", "", 400)
	j := call("POST", "/admin/v1/members:import", "/admin/v1/members:import", "text/csv",
		"number,family_name_latin,pin\n2000001,Ito,135790\n2000002,Ito,12\n", 202).(map[string]any)
	job, _ = j["id"].(string)
	call("GET", "/admin/v1/jobs", "/admin/v1/jobs", "", "", 200)
	call("GET", "/admin/v1/jobs/{id}", "/admin/v1/jobs/"+job, "", "", 200)
	call("GET", "/admin/v1/clients", "/admin/v1/clients", "", "", 200)
	call("POST", "/admin/v1/clients", "/admin/v1/clients", js, `{"id":"shop","redirect_uris":["https://shop.example.com/cb"]}`, 201)
	call("GET", "/admin/v1/clients/{id}", "/admin/v1/clients/shop", "", "", 200)
	call("POST", "/admin/v1/clients/{id}/secret:rotate", "/admin/v1/clients/shop/secret:rotate", "", "", 200)
	call("DELETE", "/admin/v1/clients/{id}", "/admin/v1/clients/shop", "", "", 200)
	hook := call("POST", "/admin/v1/webhooks", "/admin/v1/webhooks", js,
		`{"url":"https://crm.example.com/hooks","events":["member.created","login.succeeded"]}`, 201).(map[string]any)
	call("POST", "/admin/v1/webhooks", "/admin/v1/webhooks", js, `{"url":"https://127.0.0.1/hooks","events":["member.created"]}`, 400)
	call("POST", "/admin/v1/webhooks", "/admin/v1/webhooks", js, `{"url":"https://crm.example.com/hooks","events":["otp.sent"]}`, 400)
	call("GET", "/admin/v1/webhooks", "/admin/v1/webhooks", "", "", 200)
	hookID, _ := hook["webhook"].(map[string]any)["id"].(string)
	if secret, _ := hook["secret"].(string); !strings.HasPrefix(secret, "whsec_") || hookID == "" {
		t.Fatalf("a new webhook's answer: %v", hook)
	}
	call("DELETE", "/admin/v1/webhooks/{id}", "/admin/v1/webhooks/"+hookID, "", "", 200)
	call("DELETE", "/admin/v1/webhooks/{id}", "/admin/v1/webhooks/"+hookID, "", "", 404)
	const streams, caep = "/admin/v1/ssf/streams", "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	stream := call("POST", streams, streams, js, `{"client_id":"ops","delivery":{"method":"urn:ietf:rfc:8935",
		"endpoint_url":"https://risk.example.com/ssf","authorization_header":"Bearer partner-token-1"},"events_requested":["`+caep+`"]}`, 201).(map[string]any)
	call("POST", streams, streams, js, `{"client_id":"nobody","delivery":{"method":"urn:ietf:rfc:8935",
		"endpoint_url":"https://risk.example.com/ssf"},"events_requested":["`+caep+`"]}`, 400)
	call("POST", streams, streams, js, `{"client_id":"ops","delivery":{"method":"urn:ietf:rfc:8936",
		"endpoint_url":"https://risk.example.com/ssf"},"events_requested":["`+caep+`"]}`, 400)
	call("GET", streams, streams, "", "", 200)
	streamID, _ := stream["stream_id"].(string)
	if streamID == "" || strings.Contains(fmt.Sprint(stream), "partner-token-1") || stream["authorization_header_set"] != true {
		t.Fatalf("a new stream's answer: %v", stream)
	}
	call("GET", streams+"/{id}", streams+"/"+streamID, "", "", 200)
	call("DELETE", "/admin/v1/webhooks/{id}", "/admin/v1/webhooks/"+streamID, "", "", 404)
	call("DELETE", streams+"/{id}", streams+"/"+streamID, "", "", 200)
	call("GET", streams+"/{id}", streams+"/"+streamID, "", "", 404)
	call("DELETE", m, mp, "", "", 428)
	call("DELETE", m, mp, "", "", 412, "If-Match", `"stale"`)
	call("GET", m, mp, "", "", 200)
	call("DELETE", m, mp, "", "", 200, "If-Match", etag)
	call("DELETE", m, mp, "", "", 404, "If-Match", "*")
	call("GET", "/admin/v1/keys", "/admin/v1/keys", "", "", 200)
	call("POST", "/admin/v1/keys:rotate", "/admin/v1/keys:rotate", "", "", 200)
	for _, rt := range adminapi.Routes {
		if !played[rt.Method+" "+rt.Path] {
			t.Errorf("route %s %s was not played", rt.Method, rt.Path)
		}
	}
}

// TestSchemaCheckerCatchesMismatches: the test's schema checker reports a
// missing required field, an unknown one, a wrong type, a bad date-time
// and a mismatch behind a $ref, so that a document that drifts from the
// answers fails TestAdminAnswersMatchTheDocument.
func TestSchemaCheckerCatchesMismatches(t *testing.T) {
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"Thing": map[string]any{"type": "object", "additionalProperties": false, "required": []any{"id", "at"},
			"properties": map[string]any{"id": map[string]any{"type": "string"},
				"at": map[string]any{"type": "string", "format": "date-time"},
				"n":  map[string]any{"type": []any{"integer", "null"}}}}}}}
	ref := map[string]any{"$ref": "#/components/schemas/Thing"}
	good := map[string]any{"id": "x", "at": "2026-12-07T06:01:13.467819843Z", "n": nil}
	if errs := validate(doc, ref, good, "good"); len(errs) != 0 {
		t.Errorf("a valid value: %v", errs)
	}
	for name, v := range map[string]any{
		"missing":  map[string]any{"at": "2026-12-07T06:01:13Z"},
		"unknown":  map[string]any{"id": "x", "at": "2026-12-07T06:01:13Z", "extra": true},
		"type":     map[string]any{"id": json.Number("1"), "at": "2026-12-07T06:01:13Z"},
		"date":     map[string]any{"id": "x", "at": "yesterday"},
		"not null": map[string]any{"id": "x", "at": "2026-12-07T06:01:13Z", "n": "1"},
		"array":    []any{},
	} {
		if errs := validate(doc, ref, v, name); len(errs) == 0 {
			t.Errorf("%s: no mismatch reported", name)
		}
	}
}

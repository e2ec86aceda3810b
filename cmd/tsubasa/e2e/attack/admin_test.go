package attack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
)

// The HTTP admin API (/admin/v1/…) opens the whole member base to its
// callers. Each test plays a caller the API must refuse, or a trick on a
// caller it accepts, against the real binary.

// samplePath fills a route's parameters with the test member and
// plausible ids.
func samplePath(rt adminapi.Route) string {
	return strings.NewReplacer("{number}", e2e.MemberNumber, "{id}", "x1", "{device}", "d1", "{client}", "c1").Replace(rt.Path)
}

// routeCall plays rt with token (none when empty) and extra headers.
func routeCall(t *testing.T, s *e2e.Server, rt adminapi.Route, token string, hdr ...string) e2e.AdminAnswer {
	t.Helper()
	body := ""
	if !rt.BodyLess() {
		body = "{}"
	}
	if len(rt.Upload) > 0 {
		hdr = append(hdr, "Content-Type", rt.Upload[0])
		body = "number,family_name_latin,pin\n2000001,Intruder,135790\n"
	}
	return e2e.AdminDo(t, s, rt.Method, samplePath(rt), token, body, hdr...)
}

// TestAdminRoutesRefuseCallersWithoutTheirScope plays, on every route of
// the table (so none is forgotten), the callers the API must refuse: no
// token, a token in the URL, a member's own access token from a login
// (whatever it carries, it is not a client's for itself), and a client's
// token with every admin scope but the one the route needs. The first
// three are 401 with a Bearer challenge, the last 403 naming the scope;
// none changes anything.
func TestAdminRoutesRefuseCallersWithoutTheirScope(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	memberToken := e2e.LoginRP(t, rp, e2e.NewBrowser(t, s)).AccessToken
	lacking := map[string]string{}
	for _, sc := range adminapi.Scopes {
		others := slices.DeleteFunc(slices.Clone(adminapi.Scopes), func(x string) bool { return x == sc })
		lacking[sc] = e2e.AdminToken(t, s, e2e.AdminClient, e2e.AdminSecret, others...)
	}
	full := e2e.OpsToken(t, s)
	before, _ := json.Marshal(memberState(t, s, full))
	for _, rt := range adminapi.Routes {
		name := rt.Method + " " + rt.Path
		for what, a := range map[string]e2e.AdminAnswer{
			"no token":     routeCall(t, s, rt, ""),
			"member token": routeCall(t, s, rt, memberToken),
			"token in the URL": e2e.AdminDo(t, s, rt.Method, samplePath(rt)+"?access_token="+url.QueryEscape(full), "",
				map[bool]string{true: "", false: "{}"}[rt.BodyLess()]),
		} {
			if p := a.Problem(t); a.Status != http.StatusUnauthorized || p.Type != adminapi.ProblemBase+adminapi.ProblemUnauthorized ||
				!strings.HasPrefix(a.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s with %s: %d %q, want 401 with a Bearer challenge", name, what, a.Status, p.Type)
			}
		}
		a := routeCall(t, s, rt, lacking[rt.Scope])
		if p := a.Problem(t); a.Status != http.StatusForbidden || p.Scope != rt.Scope ||
			!strings.Contains(a.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("%s with every scope but %s: %d %+v, want 403 naming the scope", name, rt.Scope, a.Status, p)
		}
	}
	after, _ := json.Marshal(memberState(t, s, full))
	if string(after) != string(before) {
		t.Errorf("refused calls changed the member:\nbefore %s\nafter  %s", before, after)
	}
	for _, p := range []string{"/members/2000001", "/clients/x1"} {
		if a := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+p, full, ""); a.Status != http.StatusNotFound {
			t.Errorf("GET %s after the refused calls: %d, want 404 (nothing created)", p, a.Status)
		}
	}
}

// memberState is what a refused call must not change of the test member.
func memberState(t *testing.T, s *e2e.Server, token string) adminapi.MemberView {
	t.Helper()
	var m adminapi.MemberView
	e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/members/"+e2e.MemberNumber, token, "").JSON(t, &m)
	return m
}

// TestAdminTokenOfARemovedClientIsRefused: a system's client is removed
// (its key leaked, say); the access token it already holds, valid for
// minutes more, is refused from the next request on.
func TestAdminTokenOfARemovedClientIsRefused(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	a := e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/clients", ops,
		`{"id":"crm","grant_types":["client_credentials"],"scopes":["admin:members:read"]}`)
	var out adminapi.ClientOutput
	if a.JSON(t, &out); a.Status != http.StatusCreated || out.Secret == "" {
		t.Fatalf("adding the client: %d %s", a.Status, a.Body)
	}
	crm := e2e.AdminToken(t, s, "crm", out.Secret, adminapi.ScopeMembersRead)
	if a := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/members/"+e2e.MemberNumber, crm, ""); a.Status != http.StatusOK {
		t.Fatalf("the client's token before removal: %d", a.Status)
	}
	if a := e2e.AdminDo(t, s, http.MethodDelete, adminapi.Prefix+"/clients/crm", ops, ""); a.Status != http.StatusOK {
		t.Fatalf("removing the client: %d %s", a.Status, a.Body)
	}
	a = e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/members/"+e2e.MemberNumber, crm, "")
	if a.Status != http.StatusUnauthorized {
		t.Errorf("the removed client's token: %d %s, want 401", a.Status, a.Body)
	}
}

// TestAdminAgentHeaderInjection: a caller names as its agent a value
// with control or formatting characters (a C1 control, a right-to-left
// override that would turn a name around on an auditor's screen), an
// oversized one, or two of them; each is refused before the operation
// runs, and none of the values reaches the audit log.
func TestAdminAgentHeaderInjection(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	path := adminapi.Prefix + "/members/" + e2e.MemberNumber + "/disable"
	for name, v := range map[string]string{
		"C1 control":       "agent\u0085forged=1",
		"bidi override":    "agent-\u202e7-tnega",
		"oversized":        strings.Repeat("a", 129),
		"zero-width joins": "agent\u200d7",
	} {
		a := e2e.AdminDo(t, s, http.MethodPost, path, ops, "", "X-Tsubasa-Agent", v)
		if p := a.Problem(t); a.Status != http.StatusBadRequest || p.Type != adminapi.ProblemBase+adminapi.ProblemInvalidAgent {
			t.Errorf("%s: %d %q, want 400 invalid-agent", name, a.Status, p.Type)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+path, nil)
	req.Header.Set("Authorization", "Bearer "+ops)
	req.Header.Add("X-Tsubasa-Agent", "agent-1")
	req.Header.Add("X-Tsubasa-Agent", "agent-2")
	if status, _ := e2e.RawStatus(req); status != http.StatusBadRequest {
		t.Errorf("two agents: %d, want 400", status)
	}
	if m := memberState(t, s, ops); m.Status != "active" {
		t.Errorf("a refused call disabled the member")
	}
	events := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/members/"+e2e.MemberNumber+"/events?limit=500", ops, "")
	for _, bad := range []string{"forged", "\\u202e", "\u202e", "tnega"} {
		if strings.Contains(string(events.Body), bad) {
			t.Errorf("the audit log holds %q", bad)
		}
	}
}

// TestAdminIfMatchReplay: an agent changes a member with the ETag it
// read; a second agent (or a replay of the first request) sends another
// change with the same, now stale, ETag, or a weak one, or none: each is
// refused (412, 412, 428) and the first change stands.
func TestAdminIfMatchReplay(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	path := adminapi.Prefix + "/members/" + e2e.MemberNumber
	read := e2e.AdminDo(t, s, http.MethodGet, path, ops, "")
	etag := read.Header.Get("ETag")
	if a := e2e.AdminDo(t, s, http.MethodPatch, path, ops, `{"given_name":"一郎"}`, "If-Match", etag); a.Status != http.StatusOK {
		t.Fatalf("the first change: %d %s", a.Status, a.Body)
	}
	for name, tc := range map[string]struct {
		hdr  []string
		want int
	}{
		"the stale ETag again": {[]string{"If-Match", etag}, http.StatusPreconditionFailed},
		"a weak ETag":          {[]string{"If-Match", "W/" + etag}, http.StatusPreconditionFailed},
		"no If-Match":          {nil, http.StatusPreconditionRequired},
		"two ETags":            {[]string{"If-Match", etag + `, "other"`}, http.StatusBadRequest},
	} {
		a := e2e.AdminDo(t, s, http.MethodPatch, path, ops, `{"given_name":"二郎"}`, tc.hdr...)
		if a.Status != tc.want {
			t.Errorf("%s: %d %s, want %d", name, a.Status, a.Body, tc.want)
		}
	}
	if m := memberState(t, s, ops); m.GivenName != "一郎" {
		t.Errorf("the member's given name is %q: a refused update overwrote the first", m.GivenName)
	}
}

// TestAdminIdempotencyKeyReuse: a key used for one create and then sent
// with another body is refused (422) and creates nothing; the same body
// again gets the first answer; another client sending the same key gets
// nothing of the first client's answer (which holds a client secret).
func TestAdminIdempotencyKeyReuse(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	create := func(token, body string) e2e.AdminAnswer {
		return e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/clients", token, body, "Idempotency-Key", "shared-key-1")
	}
	first := create(ops, `{"id":"crm","grant_types":["client_credentials"],"scopes":["admin:clients"]}`)
	var out adminapi.ClientOutput
	if first.JSON(t, &out); first.Status != http.StatusCreated || out.Secret == "" {
		t.Fatalf("first create: %d %s", first.Status, first.Body)
	}
	other := create(ops, `{"id":"crm-2","grant_types":["client_credentials"],"scopes":["admin:clients"]}`)
	if p := other.Problem(t); other.Status != http.StatusUnprocessableEntity || p.Type != adminapi.ProblemBase+adminapi.ProblemIdempotencyKeyReused {
		t.Errorf("the key with another body: %d %q, want 422", other.Status, p.Type)
	}
	if a := e2e.AdminDo(t, s, http.MethodGet, adminapi.Prefix+"/clients/crm-2", ops, ""); a.Status != http.StatusNotFound {
		t.Errorf("the refused create made client crm-2: %d", a.Status)
	}
	if again := create(ops, `{"id":"crm","grant_types":["client_credentials"],"scopes":["admin:clients"]}`); again.Status != http.StatusCreated ||
		string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the same create again: %d %s", again.Status, again.Body)
	}
	crm := e2e.AdminToken(t, s, "crm", out.Secret, adminapi.ScopeClients)
	theirs := create(crm, `{"id":"crm","grant_types":["client_credentials"],"scopes":["admin:clients"]}`)
	if theirs.Status != http.StatusConflict || strings.Contains(string(theirs.Body), out.Secret) {
		t.Errorf("another client with the same key and body: %d %s, want its own 409 and not the secret", theirs.Status, theirs.Body)
	}
}

// TestAdminCursorTampering: a page's cursor altered by a byte, or carried
// from one member's events to another's, is refused as an invalid cursor
// rather than read from.
func TestAdminCursorTampering(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	s.CLI(t, false, "member", "create", "--number", "7654322", "--password", "Hikouki-2027", "--family-name", "海野")
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	e2e.LoginRP(t, rp, e2e.NewBrowser(t, s))
	events := adminapi.Prefix + "/members/" + e2e.MemberNumber + "/events"
	var page adminapi.EventsOutput
	e2e.AdminDo(t, s, http.MethodGet, events+"?limit=1", ops, "").JSON(t, &page)
	if page.Next == "" {
		t.Fatal("no cursor to tamper with")
	}
	flipped := []byte(page.Next)
	flipped[3] ^= 1
	if flipped[3] == '-' || flipped[3] == '_' {
		flipped[3] = 'A'
	}
	for name, path := range map[string]string{
		"a flipped byte":      events + "?cursor=" + url.QueryEscape(string(flipped)),
		"another member's":    adminapi.Prefix + "/members/7654322/events?cursor=" + url.QueryEscape(page.Next),
		"not base64 at all":   events + "?cursor=%2F%2F..",
		"a cursor twice":      events + "?cursor=" + url.QueryEscape(page.Next) + "&cursor=" + url.QueryEscape(page.Next),
		"a truncated cursor":  events + "?cursor=" + url.QueryEscape(page.Next[:10]),
		"an unknown argument": events + "?offset=5",
	} {
		a := e2e.AdminDo(t, s, http.MethodGet, path, ops, "")
		if a.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, a.Status, a.Body)
		}
	}
}

// TestAdminOversizedBodies: a JSON body over admin.api.max_body_bytes is
// refused (413) before it is parsed; an import over max_import_bytes
// stops at the bound, its job failed and saying why.
func TestAdminOversizedBodies(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: "admin:\n  api:\n    max_body_bytes: 2048\n    max_import_bytes: 1048576\n"})
	ops := e2e.OpsToken(t, s)
	big := fmt.Sprintf(`{"number":"2000001","family_name_latin":"Ito","given_name_latin":%q}`, strings.Repeat("A", 4096))
	a := e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members", ops, big)
	if p := a.Problem(t); a.Status != http.StatusRequestEntityTooLarge || p.Type != adminapi.ProblemBase+adminapi.ProblemBodyTooLarge {
		t.Errorf("a 4 KiB JSON body: %d %q, want 413", a.Status, p.Type)
	}
	// Pre-hashed passwords, as a migration from another system brings
	// them: the rows cost no hashing, so the bound is what stops them.
	const row = "%07d,Ito,\"$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g\"\n"
	var csv strings.Builder
	csv.WriteString("number,family_name_latin,password_hash\n")
	for i := 0; csv.Len() < 2<<20; i++ {
		fmt.Fprintf(&csv, row, 2000000+i)
	}
	a = e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members:import", ops, csv.String(), "Content-Type", "text/csv")
	var job adminapi.JobView
	if a.JSON(t, &job); job.State != adminapi.JobFailed || !strings.Contains(job.Error, "max_import_bytes") {
		t.Errorf("a 2 MiB import over a 1 MiB bound: %d %+v", a.Status, job)
	}
	if job.Progress.Rows >= 2<<20/len(fmt.Sprintf(row, 2000000)) {
		t.Errorf("the import read %d rows, past its bound", job.Progress.Rows)
	}
}

// TestAdminRateLimitPerClient: a client calling faster than
// admin.api.rate_limit allows is answered 429 with Retry-After once its
// burst is spent, and another client is not held back by it.
func TestAdminRateLimitPerClient(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Extra: "admin:\n  api:\n    rate_limit: 1\n    burst: 3\n"})
	ops := e2e.OpsToken(t, s)
	path := adminapi.Prefix + "/members/" + e2e.MemberNumber
	limited := -1
	for i := range 10 {
		if a := e2e.AdminDo(t, s, http.MethodGet, path, ops, ""); a.Status == http.StatusTooManyRequests {
			if p := a.Problem(t); p.Type != adminapi.ProblemBase+adminapi.ProblemRateLimited || a.Header.Get("Retry-After") == "" {
				t.Errorf("429 without its problem or Retry-After: %+v %v", p, a.Header)
			}
			limited = i
			break
		}
	}
	if limited < 0 || limited > 5 {
		t.Fatalf("the client was limited at call %d, want about 4 (burst 3)", limited)
	}
	// Another client, its own budget: the ops client adds one.
	var out adminapi.ClientOutput
	s.CLI(t, false, "client", "add", "--id", "crm", "--grant-type", "client_credentials", "--scope", adminapi.ScopeMembersRead, "--json")
	rot := s.CLI(t, false, "client", "rotate-secret", "crm", "--json")
	if err := json.Unmarshal([]byte(rot), &out); err != nil {
		t.Fatal(err)
	}
	crm := e2e.AdminToken(t, s, "crm", out.Secret, adminapi.ScopeMembersRead)
	if a := e2e.AdminDo(t, s, http.MethodGet, path, crm, ""); a.Status != http.StatusOK {
		t.Errorf("another client while the first is limited: %d", a.Status)
	}
}

// TestAdminAPIRefusesOtherOrigins: a page of another site cannot read the
// admin API with a token it stole into the browser: no CORS header is
// ever sent, so the browser's preflight fails.
func TestAdminAPIRefusesOtherOrigins(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, s.Issuer+adminapi.Prefix+"/members/"+e2e.MemberNumber, nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("the preflight answers %s: %v", k, resp.Header[k])
		}
	}
}

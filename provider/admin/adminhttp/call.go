package adminhttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tsubasa/provider/admin"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/clientaddr"
)

// AgentHeader names the person (a call centre's agent) a client acts for;
// it is recorded with the call.
const AgentHeader = "X-Tsubasa-Agent"

// maxAgent bounds the agent id, in bytes.
const maxAgent = 128

// call is one request to a route.
type call struct {
	h      *handler
	rt     adminapi.Route
	b      *binding
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	id     string // request id
	start  time.Time
	caller Caller
	agent  string
	sub    *admin.Subject
	// For the audit event.
	replayed bool
	job      string
}

func (h *handler) route(rt adminapi.Route, b *binding) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{h: h, rt: rt, b: b, w: w, r: r, ctx: r.Context(), id: requestID(w), start: h.o.Now()}
		c.serve()
	})
}

// serve checks, in order: the token (401), the client's rate (429), the
// route's scope (403) and the agent header (400); then runs the route.
func (c *call) serve() {
	caller, err := c.h.o.Authenticate(c.r)
	if err != nil {
		c.unauthorized(err)
		return
	}
	c.caller = caller
	if a, ok := c.h.admit(c.ctx, c.r, c.id, caller.ClientID); !ok {
		// Not audited: a client over its rate must not fill the log.
		c.h.log.WarnContext(c.ctx, "admin call rate limited", "client_id", caller.ClientID, "route", c.rt.Path, "status", a.status)
		writeAnswer(c.w, a)
		return
	}
	if !slices.Contains(caller.Scopes, c.rt.Scope) {
		a := problemAnswer(adminapi.ProblemInsufficientScope, c.r, c.id,
			&adminapi.Error{Message: "this route needs a token with the scope " + c.rt.Scope},
			func(p *adminapi.Problem) { p.Scope = c.rt.Scope })
		a.header.Set("WWW-Authenticate", `Bearer realm="tsubasa-admin", error="insufficient_scope", scope="`+c.rt.Scope+`"`)
		c.finish(a)
		return
	}
	agent, e := agentOf(c.r)
	if e != nil {
		c.finish(operationProblem(c.r, c.id, e))
		return
	}
	c.agent = agent
	c.ctx, c.sub = admin.WithCaller(c.ctx, admin.Caller{ClientID: caller.ClientID, Agent: agent,
		IP: clientaddr.From(c.r), UserAgent: boundedUA(c.r.UserAgent())})
	if c.rt.Job {
		c.serveJob()
		return
	}
	c.finish(c.operate())
}

// unauthorized answers 401 with a Bearer challenge. Not audited (there is
// no client to name), but logged.
func (c *call) unauthorized(err error) {
	desc := "the access token is invalid, expired or revoked"
	code := "invalid_token"
	switch {
	case errors.Is(err, ErrNoToken):
		desc, code = "an access token is required (Authorization: Bearer)", ""
	case !errors.Is(err, ErrInvalidToken):
		c.h.log.ErrorContext(c.ctx, "admin call: checking the token failed", "error", err)
		writeAnswer(c.w, problem(adminapi.ProblemInternal, c.r, c.id, "the token could not be checked; see the server log, request_id %s", c.id))
		return
	}
	c.h.log.InfoContext(c.ctx, "admin call refused: no valid token", "route", c.rt.Path, "reason", code)
	a := problem(adminapi.ProblemUnauthorized, c.r, c.id, "%s", desc)
	a.header.Set("WWW-Authenticate", bearerChallenge(code, desc))
	writeAnswer(c.w, a)
}

// operate reads the body and runs the operation, once per Idempotency-Key
// on the routes that take one.
func (c *call) operate() answer {
	var body []byte
	if !c.rt.BodyLess() {
		var a answer
		var ok bool
		if body, a, ok = c.readBody(); !ok {
			return a
		}
	}
	key := c.r.Header.Values("Idempotency-Key")
	switch {
	case len(key) == 0:
		return c.run(body)
	case !c.rt.Idempotent:
		return operationProblem(c.r, c.id, invalid("Idempotency-Key", "this route takes no Idempotency-Key: only creates do"))
	case len(key) > 1:
		return operationProblem(c.r, c.id, invalid("Idempotency-Key", "Idempotency-Key is given %d times", len(key)))
	}
	return c.idempotent(key[0], body, func() answer { return c.run(body) })
}

// readBody reads a JSON body of at most MaxBodyBytes.
func (c *call) readBody() ([]byte, answer, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, c.h.o.MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, problem(adminapi.ProblemBodyTooLarge, c.r, c.id, "the body exceeds %d bytes", c.h.o.MaxBodyBytes), false
	case err != nil:
		return nil, operationProblem(c.r, c.id, invalid("", "the body could not be read")), false
	}
	return body, answer{}, true
}

// run binds the request and runs the route's operation.
func (c *call) run(body []byte) answer {
	in, e := c.b.request(c.r, body)
	if e != nil {
		return operationProblem(c.r, c.id, e)
	}
	out, err := c.h.o.Service.Handle(c.ctx, c.rt.Op, adminapi.Request{Body: bytes.NewReader(in), ContentType: "application/json"})
	if err != nil {
		return c.opError(err)
	}
	a := jsonAnswer(c.rt.Status, out)
	if v, ok := out.(interface{ ETag() string }); ok && v.ETag() != "" {
		a.header.Set("ETag", `"`+v.ETag()+`"`)
	}
	if loc := location(out); loc != "" && c.rt.Status == http.StatusCreated {
		a.header.Set("Location", loc)
	}
	return a
}

// opError answers an operation's error: its own words, or for an internal
// failure the request id only.
func (c *call) opError(err error) answer {
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		a := operationProblem(c.r, c.id, ae)
		if ae.Problem == adminapi.ProblemBusy || ae.Status == http.StatusServiceUnavailable {
			a = a.withRetryAfter(1)
		}
		return a
	}
	c.h.log.ErrorContext(c.ctx, "admin operation failed", "op", c.rt.Op, "error", err)
	return problem(adminapi.ProblemInternal, c.r, c.id, "the operation failed; see the server log, request_id %s", c.id)
}

// location is where a created resource is read.
func location(out any) string {
	switch v := out.(type) {
	case adminapi.MemberView:
		return adminapi.Prefix + "/members/" + v.Number
	case adminapi.ClientOutput:
		return adminapi.Prefix + "/clients/" + v.Client.ID
	case adminapi.SupportSessionView:
		return adminapi.Prefix + "/members/" + v.Number + "/support-sessions/" + v.ID
	}
	return ""
}

// finish stores the call's audit event, then writes the answer; if the
// event cannot be stored, nothing of the answer leaves.
func (c *call) finish(a answer) {
	if err := c.audit(a.status, a.problem); err != nil {
		c.h.log.ErrorContext(c.ctx, "admin call: audit event not stored; answer withheld", "op", c.rt.Op,
			"status", a.status, "error", err)
		a = problem(adminapi.ProblemInternal, c.r, c.id,
			"the call's audit record could not be stored, so its answer is withheld (a change it made stands); see the server log, request_id %s", c.id)
	}
	writeAnswer(c.w, a)
	c.h.log.InfoContext(c.ctx, "admin call", "client_id", c.caller.ClientID, "op", c.rt.Op, "status", a.status,
		"duration_ms", c.h.o.Now().Sub(c.start).Milliseconds())
}

// agentOf reads the X-Tsubasa-Agent header: when given, once, 1 to
// maxAgent bytes of printable UTF-8 (no control or formatting characters,
// which could forge lines or hide text in a log or a screen).
func agentOf(r *http.Request) (string, *adminapi.Error) {
	vs := r.Header.Values(AgentHeader)
	if len(vs) == 0 {
		return "", nil
	}
	v := vs[0]
	bad := len(vs) > 1 || v == "" || len(v) > maxAgent || !utf8.ValidString(v) ||
		strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) })
	if bad {
		return "", &adminapi.Error{Problem: adminapi.ProblemInvalidAgent, Field: AgentHeader,
			Message: AgentHeader + " must be given once, 1 to 128 bytes of printable characters"}
	}
	return v, nil
}

// boundedUA keeps a user agent short enough for an audit record.
func boundedUA(ua string) string {
	if len(ua) <= 256 {
		return ua
	}
	return strings.ToValidUTF8(ua[:256], "")
}

package adminhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tsubasa/provider/admin/adminapi"
)

// answer is a response, built whole before it is written: the call's
// audit event is stored first, and an idempotent answer is kept as it is.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	problem string // the problem's name, for the audit event; "" on success
}

// jsonAnswer is v as JSON with status.
func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return answer{status: http.StatusInternalServerError, problem: adminapi.ProblemInternal,
			header: http.Header{"Content-Type": {adminapi.MediaProblem}},
			body:   []byte(`{"type":"` + adminapi.ProblemBase + adminapi.ProblemInternal + `","title":"Internal error","status":500}`)}
	}
	return answer{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

// problem is the answer of a problem of kind name, its detail worded
// from format.
func problem(name string, r *http.Request, requestID, format string, args ...any) answer {
	return problemAnswer(name, r, requestID, &adminapi.Error{Message: fmt.Sprintf(format, args...)})
}

// problemAnswer is the RFC 9457 answer of an operation's error; more
// sets extension members.
func problemAnswer(name string, r *http.Request, requestID string, e *adminapi.Error, more ...func(*adminapi.Problem)) answer {
	k, ok := adminapi.ProblemOf(name)
	if !ok {
		k, _ = adminapi.ProblemOf(adminapi.ProblemInternal)
	}
	status := k.Status
	p := adminapi.Problem{Type: adminapi.ProblemBase + k.Name, Title: k.Title, Status: status, Detail: e.Message,
		Instance: r.URL.Path + "#" + requestID, Field: e.Field, RequestID: requestID}
	for _, f := range more {
		f(&p)
	}
	a := jsonAnswer(status, p)
	a.header.Set("Content-Type", adminapi.MediaProblem)
	a.problem = k.Name
	return a
}

// operationProblem is the answer of an operation's *adminapi.Error.
func operationProblem(r *http.Request, requestID string, e *adminapi.Error) answer {
	return problemAnswer(adminapi.ProblemFor(e), r, requestID, e)
}

// withRetryAfter sets Retry-After, in whole seconds, at least one.
func (a answer) withRetryAfter(seconds int) answer {
	a.header.Set("Retry-After", strconv.Itoa(max(seconds, 1)))
	return a
}

// writeAnswer writes a.
func writeAnswer(w http.ResponseWriter, a answer) {
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// serveProblemType describes a problem type: its URI is where a GET
// finds what it means (RFC 9457 §3.1.1).
func (h *handler) serveProblemType(w http.ResponseWriter, r *http.Request) {
	k, ok := adminapi.ProblemOf(r.PathValue("name"))
	if !ok {
		writeAnswer(w, problem(adminapi.ProblemNotFound, r, requestID(w), "no problem type %q", r.PathValue("name")))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s (%d %s)\n\n%s\n", k.Title, k.Status, http.StatusText(k.Status), k.About)
}

// serveOpenAPI serves the OpenAPI 3.1 document of the routes.
func (h *handler) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(h.openapi)
}

// bearerChallenge is the WWW-Authenticate of a 401 (RFC 6750 §3).
func bearerChallenge(errCode, desc string) string {
	v := `Bearer realm="tsubasa-admin"`
	if errCode != "" {
		v += `, error="` + errCode + `", error_description="` + strings.ReplaceAll(desc, `"`, "'") + `"`
	}
	return v
}

package adminapi

import "net/http"

// Problem is an error answer of the HTTP admin API: RFC 9457 problem
// details, served as application/problem+json. Type is stable per kind of
// error: ProblemBase followed by the kind's name (Problems), a URI
// reference relative to the server, where a GET describes the kind.
// Detail is worded for the operator and never carries internals.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"` // the request: its path and id
	// Extensions (RFC 9457 §3.2).
	Field     string `json:"field,omitempty"`      // the request field at fault
	Scope     string `json:"scope,omitempty"`      // the scope a refused token lacks
	RequestID string `json:"request_id,omitempty"` // the server log's request_id
}

// MediaProblem is the problem details media type.
const MediaProblem = "application/problem+json"

// ProblemBase is where every problem type lives.
const ProblemBase = Prefix + "/problems/"

// The kinds of problem, by name.
const (
	ProblemInvalidRequest       = "invalid-request"
	ProblemInvalidCursor        = "invalid-cursor"
	ProblemInvalidAgent         = "invalid-agent"
	ProblemUnauthorized         = "unauthorized"
	ProblemInsufficientScope    = "insufficient-scope"
	ProblemNotFound             = "not-found"
	ProblemMethodNotAllowed     = "method-not-allowed"
	ProblemConflict             = "conflict"
	ProblemIdempotencyKeyReused = "idempotency-key-reused"
	ProblemRequestInProgress    = "request-in-progress"
	ProblemPreconditionRequired = "precondition-required"
	ProblemPreconditionFailed   = "precondition-failed"
	ProblemBodyTooLarge         = "body-too-large"
	ProblemUnsupportedMedia     = "unsupported-media-type"
	ProblemRateLimited          = "rate-limited"
	ProblemUnsupported          = "unsupported"
	ProblemBusy                 = "busy"
	ProblemInternal             = "internal"

	// Member support sessions (supportsession.go).
	ProblemSupportSessionRequired = "support-session-required"
	ProblemSupportCodeInvalid     = "support-code-invalid"
	ProblemSupportSessionEnded    = "support-session-ended"
	ProblemSupportLimited         = "support-limited"
	ProblemSupportUndelivered     = "support-code-undelivered"
)

// ProblemKind is a kind of problem: its status and title.
type ProblemKind struct {
	Name   string
	Status int
	Title  string
	About  string // when it happens and what to do, for the problem's page
}

// Problems lists every kind of problem the admin API answers with.
var Problems = []ProblemKind{
	{ProblemInvalidRequest, http.StatusBadRequest, "Invalid request",
		"A parameter, header or field of the request is missing or malformed; field names it. Fix the request; retrying it as it is fails again."},
	{ProblemInvalidCursor, http.StatusBadRequest, "Invalid cursor",
		"The cursor is not one this server gave for this listing (altered, or for another member). Start again from the first page."},
	{ProblemInvalidAgent, http.StatusBadRequest, "Invalid agent",
		"X-Tsubasa-Agent must be 1 to 128 printable characters with no control characters."},
	{ProblemUnauthorized, http.StatusUnauthorized, "Unauthorized",
		"No access token, or one that is invalid, expired, revoked, of a removed client, or issued for a member. Get a token by client_credentials."},
	{ProblemInsufficientScope, http.StatusForbidden, "Insufficient scope",
		"The token lacks the scope the route requires (scope names it). Ask for it; the client must be allowed it."},
	{ProblemNotFound, http.StatusNotFound, "Not found", "No such route, member, client, session, device, app or job."},
	{ProblemMethodNotAllowed, http.StatusMethodNotAllowed, "Method not allowed", "The route exists with other methods (Allow lists them)."},
	{ProblemConflict, http.StatusConflict, "Conflict", "The request is at odds with what exists, e.g. a member number or client id already taken."},
	{ProblemIdempotencyKeyReused, http.StatusUnprocessableEntity, "Idempotency key reused",
		"The Idempotency-Key was used with another request (another path or body). Use a new key for a new request."},
	{ProblemRequestInProgress, http.StatusConflict, "Request in progress",
		"A request with this Idempotency-Key is still running. Retry after Retry-After to get its answer."},
	{ProblemPreconditionRequired, http.StatusPreconditionRequired, "Precondition required",
		"An update must carry If-Match with the ETag of the resource as last read, so two agents cannot overwrite each other's change."},
	{ProblemPreconditionFailed, http.StatusPreconditionFailed, "Precondition failed",
		"The resource changed since the ETag in If-Match was read. Read it again, and make the change again if it still applies."},
	{ProblemBodyTooLarge, http.StatusRequestEntityTooLarge, "Request body too large", "The body exceeds the route's limit (admin.api.max_body_bytes, or max_import_bytes for imports)."},
	{ProblemUnsupportedMedia, http.StatusUnsupportedMediaType, "Unsupported media type", "The body's Content-Type is not one the route takes."},
	{ProblemRateLimited, http.StatusTooManyRequests, "Rate limited", "The client made more requests than admin.api.rate_limit allows. Retry after Retry-After seconds."},
	{ProblemUnsupported, http.StatusNotImplemented, "Not supported", "This server cannot do that operation."},
	{ProblemBusy, http.StatusServiceUnavailable, "Busy", "The server's password hashing is saturated. Retry after Retry-After seconds."},
	{ProblemInternal, http.StatusInternalServerError, "Internal error",
		"The server failed; its log has the detail under request_id. Retrying may work."},
	{ProblemSupportSessionRequired, http.StatusForbidden, "Support session required",
		"This change to a member's credentials needs support_session: a support session of the member, started and verified by the same client and agent, within admin.support.verified_for of its verification. Start one, have the member read back the code, verify it."},
	{ProblemSupportCodeInvalid, http.StatusBadRequest, "Wrong support code",
		"The code entered is not the one sent for this support session; detail says how many entries are left. Ask the member to read it again."},
	{ProblemSupportSessionEnded, http.StatusConflict, "Support session ended",
		"The support session takes no more codes: it is verified already, out of attempts, expired, or a newer session of the member replaced its code. Start a new one if needed."},
	{ProblemSupportLimited, http.StatusTooManyRequests, "Support limit reached",
		"Too many support codes were sent to, or entered for, this member recently (otp.resend_interval, otp.resend_per_hour, admin.support.verify_per_hour). Wait and try again."},
	{ProblemSupportUndelivered, http.StatusServiceUnavailable, "Support code not delivered",
		"The mail or SMS with the code could not be handed to its gateway. Try again in a moment; the member's other channel may work."},
}

// ProblemOf returns the kind named name.
func ProblemOf(name string) (ProblemKind, bool) {
	for _, k := range Problems {
		if k.Name == name {
			return k, true
		}
	}
	return ProblemKind{}, false
}

// ProblemFor names the problem of an operation's error: its own Problem,
// or the kind its status stands for.
func ProblemFor(e *Error) string {
	if e.Problem != "" {
		return e.Problem
	}
	switch e.Status {
	case http.StatusBadRequest:
		return ProblemInvalidRequest
	case http.StatusNotFound:
		return ProblemNotFound
	case http.StatusConflict:
		return ProblemConflict
	case http.StatusPreconditionFailed:
		return ProblemPreconditionFailed
	case http.StatusNotImplemented:
		return ProblemUnsupported
	case http.StatusServiceUnavailable:
		return ProblemBusy
	}
	return ProblemInternal
}

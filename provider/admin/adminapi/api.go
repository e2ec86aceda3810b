package adminapi

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Op names an operation together with the types of its request (In) and
// its response (Out), so that a caller and the operation cannot disagree
// about them: the CLI calls an Op, and the operations' table registers a
// handler for it whose signature the compiler checks.
type Op[In, Out any] struct {
	Name string
	// ContentType is the request body's type: empty for JSON (In is the
	// body), text/csv for an upload (the body is a file and In travels in
	// the query, see Upload).
	ContentType string
}

// Upload is the request of an operation whose body is a file: In is sent
// as query parameters.
type Upload interface {
	Query() url.Values
}

// Request is an operation's input as a transport carries it: the body (JSON,
// or the file of an upload), its content type and the query parameters.
type Request struct {
	Body        io.Reader
	ContentType string
	Query       url.Values
}

// Error is an error the admin API reports to the operator: its text is
// written for them and carries no internal detail. Status is the HTTP
// status the transports answer with (and the CLI's exit code follows:
// 400 is a usage error).
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
	// Problem names the error's kind more finely than Status, when it
	// has a name of its own (the HTTP API's problem type; see Problems).
	Problem string `json:"problem,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Invalid reports a bad request, naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that what the request names does not exist.
func NotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports a request at odds with what exists.
func Conflict(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unsupported reports an operation this server cannot do.
func Unsupported(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotImplemented, Message: fmt.Sprintf(format, args...)}
}

// Busy says the server's password hashing is saturated.
var Busy = &Error{Status: http.StatusServiceUnavailable, Message: "the server is busy hashing passwords; try again"}

// Internal is what the operator sees of a failure whose detail belongs in
// the server log only, where requestID finds it.
func Internal(requestID string) *Error {
	return &Error{Status: http.StatusInternalServerError, Message: "internal error; see the server log, request_id " + requestID}
}

// PreconditionFailed reports an update whose If-Match is not the member's
// current version: someone changed it since the caller read it.
func PreconditionFailed(format string, args ...any) *Error {
	return &Error{Status: http.StatusPreconditionFailed, Problem: ProblemPreconditionFailed, Message: fmt.Sprintf(format, args...)}
}

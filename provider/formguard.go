package provider

import (
	"errors"
	"net/http"
)

// formEndpoints are op's endpoints that read a form and answer a form they
// cannot parse badly: introspection with 401 invalid_client although the
// client was never checked. /authorize is not here: op answers it with a
// 400 that cmd turns into the error page; nor is /end_session, which
// serveEndSession answers before op (endsession.go) with the login UI's page.
var formEndpoints = map[string]bool{
	"/oauth/token": true, "/oauth/introspect": true, "/revoke": true, "/userinfo": true, parPath: true,
	"/device_authorization": true, // device.go
}

// guardForms answers a request to a form endpoint whose form does not parse
// (a bad escape in the query or body, a body over the server's limit) with
// 400, or 413 for the size, in OAuth's error format, keeping client
// mistakes out of 5xx and internals out of responses. ParseForm is
// idempotent, so op sees the parsed form.
func guardForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if formEndpoints[r.URL.Path] {
			if err := r.ParseForm(); err != nil {
				status := http.StatusBadRequest
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					status = http.StatusRequestEntityTooLarge
				}
				noStore(w)
				writeError(w, status, "invalid_request", "the request's form or query is malformed or too large")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

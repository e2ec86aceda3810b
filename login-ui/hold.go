package loginui

import (
	"net/http"

	"tsubasa/storage"
)

// holdWrites opens a storage unit for each request (see storage.Units):
// the writes the pages do not read back (audit events, the login with its
// device, a new session) are committed together, with the request's next
// write that cannot wait, or just before the answer starts. If they
// cannot be committed, the answer is the server-error page instead of
// what the handler wrote: a session cookie, a redirect with a code, or a
// page saying the login succeeded never goes out for records that were
// not stored.
func (u *UI) holdWrites(next http.Handler) http.Handler {
	if u.store == nil { // a UI for static pages alone (tests, previews)
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, commit := u.store.Begin(storage.WithHandoff(r.Context()))
		r = r.WithContext(ctx)
		hw := u.holdAnswer(w, r, commit)
		next.ServeHTTP(hw, r)
		hw.finish()
	})
}

// holdAnswer returns a writer that runs commit before the first byte of
// the answer, and answers the server-error page instead if it fails.
func (u *UI) holdAnswer(w http.ResponseWriter, r *http.Request, commit func() error) *heldWriter {
	hw := &heldWriter{ResponseWriter: w, commit: commit, base: w.Header().Clone()}
	hw.fail = func(err error) {
		// The handler's headers (a cookie, a Location) go; the ones
		// set around it (CSP and friends) stay.
		h := w.Header()
		clear(h)
		for k, v := range hw.base {
			h[k] = v
		}
		u.serverError(w, r, err)
	}
	return hw
}

// heldWriter commits the request's held writes before the first byte of
// the answer.
type heldWriter struct {
	http.ResponseWriter
	commit  func() error
	base    http.Header
	fail    func(error)
	started bool // the held writes were committed (or failed)
	failed  bool // they failed: the error page went out; drop the handler's answer
}

// start commits before the answer; it reports whether the handler's
// answer may go out.
func (hw *heldWriter) start() bool {
	if !hw.started {
		hw.started = true
		if err := hw.commit(); err != nil {
			hw.failed = true
			hw.fail(err)
		}
	}
	return !hw.failed
}

func (hw *heldWriter) WriteHeader(code int) {
	if hw.start() {
		hw.ResponseWriter.WriteHeader(code)
	}
}

func (hw *heldWriter) Write(b []byte) (int, error) {
	if !hw.start() {
		return len(b), nil // the handler's page, replaced by the error page
	}
	return hw.ResponseWriter.Write(b)
}

// finish commits what is held when the handler wrote nothing (an empty
// 200). Once the answer has started the unit is closed: later writes
// commit at once, as without one.
func (hw *heldWriter) finish() { hw.start() }

// Flush sends what is buffered, after the held writes are committed.
func (hw *heldWriter) Flush() {
	if hw.start() {
		if f, ok := hw.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (hw *heldWriter) Unwrap() http.ResponseWriter { return hw.ResponseWriter }

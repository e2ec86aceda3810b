package notifytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// SMSRequest is one POST the webhook received.
type SMSRequest struct {
	To, Body, Purpose, Locale string
	Authorization             string      // the Authorization header as sent
	Header                    http.Header // all request headers
	Status                    int         // what the webhook answered; 0 if it hung
}

// SMSWebhook is an httptest server that accepts the JSON posts of an SMS
// webhook driver and records them.
type SMSWebhook struct {
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []SMSRequest
	status   int
	failNext int
	hang     bool
	release  chan struct{}
}

// NewSMSWebhook starts a webhook that answers 200 until told otherwise. It is
// closed when the test ends.
func NewSMSWebhook(t testing.TB) *SMSWebhook {
	t.Helper()
	w := &SMSWebhook{release: make(chan struct{})}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(func() {
		// Hung handlers must return before Close, which waits for them.
		close(w.release)
		w.srv.Close()
	})
	return w
}

// URL is the address to configure as the webhook.
func (w *SMSWebhook) URL() string { return w.srv.URL }

// Client returns an HTTP client for the server.
func (w *SMSWebhook) Client() *http.Client { return w.srv.Client() }

// SetStatus makes every following post get this status (0 means 200).
func (w *SMSWebhook) SetStatus(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status = code
}

// FailNext answers the next n posts with 500, then goes back to normal.
func (w *SMSWebhook) FailNext(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failNext = n
}

// SetHang makes the webhook hold every post without answering until the
// client gives up (or the test ends).
func (w *SMSWebhook) SetHang(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hang = on
}

// Requests returns every post received so far, answered or not.
func (w *SMSWebhook) Requests() []SMSRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]SMSRequest(nil), w.reqs...)
}

// Delivered returns the posts that were answered with a 2xx status.
func (w *SMSWebhook) Delivered() []SMSRequest {
	var out []SMSRequest
	for _, r := range w.Requests() {
		if r.Status >= 200 && r.Status < 300 {
			out = append(out, r)
		}
	}
	return out
}

func (w *SMSWebhook) serve(rw http.ResponseWriter, r *http.Request) {
	var body struct {
		To      string `json:"to"`
		Body    string `json:"body"`
		Purpose string `json:"purpose"`
		Locale  string `json:"locale"`
	}
	status := http.StatusOK
	if r.Method != http.MethodPost {
		status = http.StatusMethodNotAllowed
	} else if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		status = http.StatusBadRequest
	}

	w.mu.Lock()
	hang := w.hang
	switch {
	case hang:
		status = 0
	case status != http.StatusOK:
	case w.failNext > 0:
		w.failNext--
		status = http.StatusInternalServerError
	case w.status != 0:
		status = w.status
	}
	w.reqs = append(w.reqs, SMSRequest{
		To: body.To, Body: body.Body, Purpose: body.Purpose, Locale: body.Locale,
		Authorization: r.Header.Get("Authorization"), Header: r.Header.Clone(), Status: status,
	})
	w.mu.Unlock()

	if hang {
		select {
		case <-r.Context().Done():
		case <-w.release:
		}
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte(`{}`))
}

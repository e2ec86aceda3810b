package loginui

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// awayStore's authorization requests cannot be read, as when the
// database does not answer (a refused connection).
type awayStore struct{ *bolt.Store }

func (awayStore) AuthRequestByID(context.Context, string) (storage.AuthRequest, error) {
	return storage.AuthRequest{}, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

// While the database does not answer, a login step is answered with the
// error page's "try again later" as 503 with Retry-After: not "this login
// request has expired" (404) nor "this request belongs to another browser"
// (403), which would send the member back to the app to start again for
// an outage of seconds, and not a bare 500.
func TestStorageAwayIsTryAgainPage(t *testing.T) {
	u, err := New(Options{
		Store:      awayStore{bolttest.Open(t, bolt.Options{})},
		CookieKey:  make([]byte, 32),
		SessionTTL: time.Hour,
		Callback:   func(_ context.Context, id string) string { return "/authorize/callback?id=" + id },
		Fail:       func(http.ResponseWriter, *http.Request, string, string, string) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the callback ran without its request") })
	for name, h := range map[string]http.Handler{
		"/login":              u.Handler(),
		"/authorize/callback": u.GuardCallback(next),
	} {
		rec := httptest.NewRecorder()
		target := "/login?authRequestID=r1"
		if name != "/login" {
			target = "/authorize/callback?id=r1"
		}
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(body, u.cat.T("ja", "error.server")) {
			t.Errorf("%s while storage is away: %d, Retry-After %q; want 503 with the error page's try-again message\n%s",
				name, rec.Code, rec.Header().Get("Retry-After"), body)
		}
	}
}

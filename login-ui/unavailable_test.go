package loginui

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsubasa/provider/member"
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

// numbersAwayStore cannot look members up by number, as when the
// database stops answering between a login page and its post.
type numbersAwayStore struct{ *bolt.Store }

func (numbersAwayStore) MemberByNumber(context.Context, string) (storage.Member, error) {
	return storage.Member{}, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// A password posted while the database does not answer is answered on the
// login page with "try again in a few seconds", 503 and Retry-After: not
// "wrong number or password" (401), which tells a member with the right
// password that it is wrong (found by the replicas' outage test).
func TestStorageAwayAtPasswordIsTryAgain(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	members := member.NewService(numbersAwayStore{st}, member.NewHasher(member.HashOptions{MemoryKiB: 8192, Iterations: 1}), member.Options{})
	u, err := New(Options{
		Store: st, Members: members, CookieKey: make([]byte, 32), SessionTTL: time.Hour, IdleTTL: time.Hour,
		Callback: func(context.Context, string) string { return "/done" },
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(u.Handler())
	t.Cleanup(srv.Close)
	c := (&riskFixture{srv: srv}).browser(t, uaChrome)
	resp, err := c.Get(srv.URL + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("no login page: %s", resp.Request.URL)
	}
	resp, err = c.PostForm(srv.URL+"/login", url.Values{"authRequestID": {id}, "member_number": {testNumber}, "password": {testPass}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), html.EscapeString(u.cat.T("ja", "login.error.busy"))) ||
		strings.Contains(string(body), html.EscapeString(u.cat.T("ja", "login.error.invalid"))) {
		t.Errorf("a password posted while storage is away: %d, Retry-After %q; want 503 with the busy message\n%s",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

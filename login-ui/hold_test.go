package loginui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/member"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// failingUnits is a store whose units fail to commit what they hold, as
// a full disk would.
type failingUnits struct{ *bolt.Store }

func (f failingUnits) Begin(ctx context.Context) (context.Context, func() error) {
	ctx, commit := f.Store.Begin(ctx)
	return ctx, func() error {
		held := storage.UnitOf(ctx).After(func() {}) // true when something is held
		if err := commit(); err != nil || !held {
			return err
		}
		return errors.New("disk full")
	}
}

// headerCheck is a ResponseWriter that runs check when the header goes out.
type headerCheck struct {
	*httptest.ResponseRecorder
	check func()
}

func (h headerCheck) WriteHeader(code int) {
	h.check()
	h.ResponseRecorder.WriteHeader(code)
}

// TestHeldWritesStoredBeforeTheAnswer: what a handler held is in the file
// by the time its answer's header goes out.
func TestHeldWritesStoredBeforeTheAnswer(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	u := &UI{store: st, log: slog.New(slog.DiscardHandler)}
	h := u.holdWrites(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := st.AppendEvent(r.Context(), storage.Event{ID: "e1", Time: time.Now().UTC(), Type: "login.password_verified", MemberID: "m1"}); err != nil {
			t.Fatal(err)
		}
		if evs, _ := st.ListEvents(t.Context(), "m1", 0); len(evs) != 0 {
			t.Error("the event is stored before the answer: it was not held")
		}
		http.Redirect(w, r, "/next", http.StatusSeeOther)
	}))
	checked := false
	w := headerCheck{ResponseRecorder: httptest.NewRecorder(), check: func() {
		checked = true
		if evs, err := st.ListEvents(t.Context(), "m1", 0); err != nil || len(evs) != 1 {
			t.Errorf("when the answer starts: events %v, %v; want the held one", evs, err)
		}
	}}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", nil))
	if !checked || w.Code != http.StatusSeeOther {
		t.Errorf("answer %d (checked %v), want the handler's 303", w.Code, checked)
	}
}

// TestHeldWritesFailed: when the held writes of a login cannot be stored,
// the browser gets the server-error page, without the session cookie or
// the redirect the handler had set, and with the page's security headers.
func TestHeldWritesFailed(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	members, _ := newMembers(t, st, member.NewMember{Number: testNumber, Password: testPass, FamilyName: "空野"})
	ui, err := New(Options{
		Store: failingUnits{st}, Members: members, CookieKey: make([]byte, 32), SessionTTL: time.Hour, IdleTTL: time.Hour,
		Callback: func(context.Context, string) string { return "/done" },
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	c := (&riskFixture{srv: srv}).browser(t, uaChrome)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(srv.URL + "/account") // to the login page of the account pages' own request
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	req := loc.Query().Get("authRequestID")
	if req == "" {
		t.Fatalf("GET /account: %d to %q, want the login page", resp.StatusCode, loc)
	}
	resp, err = c.PostForm(srv.URL+"/login", url.Values{"authRequestID": {req}, "member_number": {testNumber}, "password": {testPass}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("Location %q went out", loc)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == ui.cookie {
			t.Errorf("session cookie went out: %v", ck)
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src") {
		t.Errorf("CSP lost: %q", resp.Header.Get("Content-Security-Policy"))
	}
}

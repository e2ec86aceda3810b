package loginui

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSessionStoreRoundTripRegenerateAndRevoke(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ss := newSessionStore(st, make([]byte, 32), true, time.Hour, 10*time.Minute, clock)

	// A new session is saved server-side; the cookie holds only its id.
	r := httptest.NewRequest("GET", "/", nil)
	sess, _ := ss.New(r, "sid")
	sess.Values[keyMember] = "m1"
	sess.Values["flow_req"] = "req1"
	w := httptest.NewRecorder()
	if err := ss.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()[0]
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie flags: %+v", c)
	}
	rec, err := st.SessionByID(t.Context(), sess.ID)
	if err != nil || rec.MemberID != "m1" || rec.Data["flow_req"] != "req1" {
		t.Fatalf("stored session %+v, %v", rec, err)
	}

	// The cookie loads the same session.
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.AddCookie(c)
	again, _ := ss.New(r2, "sid")
	if again.IsNew || value(again, keyMember) != "m1" {
		t.Fatalf("session not loaded from cookie: %+v", again.Values)
	}

	// Regenerating deletes the old record; the old cookie is worthless.
	old := again.ID
	if err := ss.regenerate(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if err := ss.Save(r2, httptest.NewRecorder(), again); err != nil {
		t.Fatal(err)
	}
	if again.ID == old {
		t.Fatal("session id not regenerated")
	}
	stale, _ := ss.New(r2, "sid")
	if !stale.IsNew {
		t.Error("a regenerated-away session id still loads")
	}

	// Idle sessions are not resumed.
	w3 := httptest.NewRecorder()
	fresh, _ := ss.New(httptest.NewRequest("GET", "/", nil), "sid")
	_ = ss.Save(r, w3, fresh)
	now = now.Add(11 * time.Minute)
	r4 := httptest.NewRequest("GET", "/", nil)
	r4.AddCookie(w3.Result().Cookies()[0])
	if idle, _ := ss.New(r4, "sid"); !idle.IsNew {
		t.Error("an idle session was resumed")
	}

	// A tampered cookie starts a new session.
	r5 := httptest.NewRequest("GET", "/", nil)
	r5.AddCookie(&http.Cookie{Name: "sid", Value: c.Value + "x"})
	if s5, _ := ss.New(r5, "sid"); !s5.IsNew {
		t.Error("tampered cookie accepted")
	}
}

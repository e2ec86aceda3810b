package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

func TestSessionStoreRoundTripRegenerateAndRevoke(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
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
	// The same member logging in again: the new record carries the old
	// id and the clients given codes under it (back-channel logout).
	old := again.ID
	if err := st.UpdateSession(t.Context(), old, func(x storage.Session) (storage.Session, error) {
		x.Clients = []string{"shop"}
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ss.regenerate(t.Context(), again, "m1"); err != nil {
		t.Fatal(err)
	}
	if err := ss.Save(r2, httptest.NewRecorder(), again); err != nil {
		t.Fatal(err)
	}
	if again.ID == old {
		t.Fatal("session id not regenerated")
	}
	if rec, err := st.SessionByID(t.Context(), again.ID); err != nil || len(rec.Carried) != 1 ||
		rec.Carried[0].ID != old || len(rec.Carried[0].Clients) != 1 || rec.Carried[0].Clients[0] != "shop" || rec.Data[keyCarried] != "" {
		t.Fatalf("the new session carries %+v (%v), want the old id with its client", rec.Carried, err)
	}
	stale, _ := ss.New(r2, "sid")
	if !stale.IsNew {
		t.Error("a regenerated-away session id still loads")
	}

	// Idle sessions are not resumed.
	w3 := httptest.NewRecorder()
	fresh, _ := ss.New(httptest.NewRequest("GET", "/", nil), "sid")
	fresh.Values["flow_req"] = "req2"
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

// TestAnonymousSession: a session with nothing in it (a login page binding
// its request) is not stored; its id lives in the authenticated cookie
// until the session holds something, and is then stored under that id.
func TestAnonymousSession(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ss := newSessionStore(st, make([]byte, 32), true, time.Hour, 10*time.Minute, func() time.Time { return now })
	stored := func(id string) bool {
		_, err := st.SessionByID(t.Context(), id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	r := httptest.NewRequest("GET", "/login", nil)
	sess, _ := ss.New(r, "sid")
	w := httptest.NewRecorder()
	if err := ss.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	if sess.ID == "" || !sess.IsNew || stored(sess.ID) {
		t.Fatalf("empty session: id %q, new %v, stored %v; want an id, nothing stored", sess.ID, sess.IsNew, stored(sess.ID))
	}
	c := w.Result().Cookies()[0]
	if strings.Contains(c.Value, sess.ID) || !c.HttpOnly || !c.Secure {
		t.Errorf("anonymous cookie %+v shows the id or lacks flags", c)
	}

	// The cookie brings the same id back, empty.
	r2 := httptest.NewRequest("POST", "/login", nil)
	r2.AddCookie(c)
	again, _ := ss.New(r2, "sid")
	if again.ID != sess.ID || !again.IsNew || len(again.Values) != 0 {
		t.Fatalf("anonymous session back as id %q new %v values %v; want id %q", again.ID, again.IsNew, again.Values, sess.ID)
	}
	// Saved with something in it, it is stored under that id.
	again.Values["flow_req"] = "req1"
	w2 := httptest.NewRecorder()
	if err := ss.Save(r2, w2, again); err != nil {
		t.Fatal(err)
	}
	if rec, err := st.SessionByID(t.Context(), sess.ID); err != nil || rec.Data["flow_req"] != "req1" || again.IsNew {
		t.Fatalf("stored %+v, %v (new %v)", rec, err, again.IsNew)
	}
	r3 := httptest.NewRequest("GET", "/login", nil)
	r3.AddCookie(w2.Result().Cookies()[0])
	if third, _ := ss.New(r3, "sid"); third.ID != sess.ID || third.IsNew || value(third, "flow_req") != "req1" {
		t.Errorf("stored session not loaded: id %q new %v", third.ID, third.IsNew)
	}

	// The anonymous cookie, once its id is stored, loads the stored session.
	if old, _ := ss.New(r2, "sid"); old.IsNew || value(old, "flow_req") != "req1" {
		t.Errorf("the anonymous cookie after its session was stored: new %v, values %v", old.IsNew, old.Values)
	}

	// Regenerating an anonymous session needs no record, and logging out
	// of one deletes nothing.
	other, _ := ss.New(httptest.NewRequest("GET", "/", nil), "sid")
	wo := httptest.NewRecorder()
	_ = ss.Save(r, wo, other)
	ro := httptest.NewRequest("GET", "/", nil)
	ro.AddCookie(wo.Result().Cookies()[0])
	anon, _ := ss.New(ro, "sid")
	if err := ss.regenerate(t.Context(), anon, ""); err != nil || anon.ID != "" {
		t.Errorf("regenerate: %v, id %q", err, anon.ID)
	}
	other.Options.MaxAge = -1
	if err := ss.Save(r, httptest.NewRecorder(), other); err != nil || stored(other.ID) || !stored(sess.ID) {
		t.Errorf("log out of an anonymous session: %v (it stored: %v; the other session kept: %v)", err, stored(other.ID), stored(sess.ID))
	}
}

// savedSession saves a new session holding values in ss and returns a
// request that carries its cookie, and the session's id.
func savedSession(t *testing.T, ss *sessionStore, values map[string]string) (*http.Request, string) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	sess, _ := ss.New(r, "sid")
	for k, v := range values {
		sess.Values[k] = v
	}
	w := httptest.NewRecorder()
	if err := ss.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	next := httptest.NewRequest("GET", "/", nil)
	next.AddCookie(w.Result().Cookies()[0])
	return next, sess.ID
}

// A session loaded for the SSO answer, maybe from the store's cache
// (newCached), is never saved: an older copy must not overwrite the
// record. The same session loaded by New saves as ever.
func TestCachedSessionIsNeverSaved(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ss := newSessionStore(st, make([]byte, 32), true, time.Hour, 10*time.Minute, func() time.Time { return now })
	r2, id := savedSession(t, ss, map[string]string{keyMember: "m1", "step": "1"})

	cached, err := ss.newCached(r2, "sid")
	if err != nil || cached.IsNew || value(cached, keyMember) != "m1" {
		t.Fatalf("newCached: %+v, %v; want the stored session", cached.Values, err)
	}
	cached.Values["step"] = "2"
	if err := ss.Save(r2, httptest.NewRecorder(), cached); !errors.Is(err, errCachedSession) {
		t.Errorf("saving a cached copy: %v, want errCachedSession", err)
	}
	if rec, err := st.SessionByID(t.Context(), id); err != nil || rec.Data["step"] != "1" || rec.Data[keyCachedCopy] != "" {
		t.Errorf("the record after the refused save: %+v, %v; want it unchanged", rec.Data, err)
	}

	fresh, _ := ss.New(r2, "sid")
	fresh.Values["step"] = "2"
	if err := ss.Save(r2, httptest.NewRecorder(), fresh); err != nil {
		t.Errorf("saving the session New loaded: %v", err)
	}
	if rec, _ := st.SessionByID(t.Context(), id); rec.Data["step"] != "2" {
		t.Errorf("the record after a save: %+v", rec.Data)
	}
}

// staleSessions is a real store whose SessionByIDCached answers a copy of
// the session from before its last use, as a replica's session cache may
// after a save on another replica (storage.CachedSessions).
type staleSessions struct {
	storage.Store
	lastSeen time.Time
}

func (s staleSessions) SessionByIDCached(ctx context.Context, id string) (storage.Session, error) {
	rec, err := s.SessionByID(ctx, id)
	rec.LastSeenAt = s.lastSeen
	return rec, err
}

// A cached copy whose last use is older than the idle limit is checked
// against the stored record before the session counts as idle: the SSO
// answer is not refused for a save the copy missed. A session idle in
// its record is idle either way.
func TestCachedSessionIdleAsksTheRecord(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	const idle = 10 * time.Minute
	stale := staleSessions{Store: st, lastSeen: now.Add(-2 * idle)}
	ss := newSessionStore(stale, make([]byte, 32), true, time.Hour, idle, func() time.Time { return now })
	r2, _ := savedSession(t, ss, map[string]string{keyMember: "m1"})
	if got, err := ss.newCached(r2, "sid"); err != nil || got.IsNew || value(got, keyMember) != "m1" {
		t.Errorf("a session used just now, whose cached copy looks idle: %+v, %v; want the session", got.Values, err)
	}

	now = now.Add(2 * idle)
	if got, _ := ss.newCached(r2, "sid"); !got.IsNew || value(got, keyMember) != "" {
		t.Errorf("a session idle in its record: %+v; want a new session", got.Values)
	}
}

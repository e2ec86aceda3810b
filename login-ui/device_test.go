package loginui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// deviceEnv is a UI with only the device pages over a real store and a
// settable clock; user codes are keyed by their upper-case letters.
type deviceEnv struct {
	t     *testing.T
	u     *UI
	store *bolt.Store
	now   time.Time
}

func newDeviceEnv(t *testing.T) *deviceEnv {
	st := bolttest.Open(t, bolt.Options{})
	e := &deviceEnv{t: t, store: st, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	userCode := func(in string) (string, string, bool) {
		c := strings.ToUpper(strings.ReplaceAll(in, "-", ""))
		if len(c) != 8 {
			return "", "", false
		}
		return "key:" + c, c[:4] + "-" + c[4:], true
	}
	var err error
	e.u, err = New(Options{
		Store: st, CookieKey: make([]byte, 32), SessionTTL: time.Hour,
		Features: []Feature{Device(DeviceOptions{Store: st, UserCode: userCode, MaxEntriesPerAddress: 3,
			MaxEntriesGlobal: 100, EntryWindow: 10 * time.Minute, MaxEntriesPerCode: 2})},
		Now: func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *deviceEnv) grant(userCode string) {
	e.t.Helper()
	err := e.store.CreateDeviceGrant(e.t.Context(), storage.DeviceGrant{ID: "dg-" + userCode, UserCode: "key:" + userCode,
		ClientID: "tv", Scopes: []string{"openid"}, Status: storage.DevicePending, CreatedAt: e.now, ExpiresAt: e.now.Add(time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *deviceEnv) post(path, code string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(url.Values{"user_code": {code}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.u.Handler().ServeHTTP(w, r)
	return w
}

// TestDeviceEntryLimitSlides: the address's entries, right or wrong, stop
// at the limit with Retry-After, and come back as the window slides.
func TestDeviceEntryLimitSlides(t *testing.T) {
	e := newDeviceEnv(t)
	e.grant("BCDFGHJK")
	for i, code := range []string{"XXXXXXXX", "bcdf-ghjk", "short"} {
		if w := e.post("/device", code); w.Code == http.StatusTooManyRequests {
			t.Fatalf("entry %d throttled", i)
		}
	}
	w := e.post("/device", "BCDF-GHJK")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "600" {
		t.Fatalf("the fourth entry: %d Retry-After %q, want 429 after 600 s", w.Code, w.Header().Get("Retry-After"))
	}
	e.now = e.now.Add(10*time.Minute + time.Second)
	if w := e.post("/device", "BCDF-GHJK"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "BCDF-GHJK") {
		t.Fatalf("after the window: %d, want the confirmation", w.Code)
	}
}

// TestDeviceEntryLimitPerIPv6Network: entries from every address of one
// IPv6 /64 share the address's limit (DeviceOptions.IPv6Prefix defaults to
// 64), so rotating addresses tries no more codes; the next /64 and an IPv4
// client keep their own.
func TestDeviceEntryLimitPerIPv6Network(t *testing.T) {
	e := newDeviceEnv(t)
	from := func(remote string) int {
		r := httptest.NewRequest(http.MethodPost, "/device", strings.NewReader(url.Values{"user_code": {"XXXXXXXX"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		e.u.Handler().ServeHTTP(w, r)
		return w.Code
	}
	for i := range 3 {
		if code := from("[2001:db8:1:2::" + string(rune('a'+i)) + "]:4711"); code == http.StatusTooManyRequests {
			t.Fatalf("entry %d throttled", i)
		}
	}
	if code := from("[2001:db8:1:2:ffff:ffff:ffff:ffff]:4711"); code != http.StatusTooManyRequests {
		t.Errorf("a fourth address of the /64: %d, want 429", code)
	}
	if code := from("[2001:db8:1:3::1]:4711"); code == http.StatusTooManyRequests {
		t.Errorf("the next /64 throttled")
	}
	if code := from("192.0.2.1:4711"); code == http.StatusTooManyRequests {
		t.Errorf("an IPv4 client throttled")
	}
}

// TestDeviceCodeEntriesPerCode: a code confirmed MaxEntriesPerCode times
// (each a login request) is refused after, though still pending.
func TestDeviceCodeEntriesPerCode(t *testing.T) {
	e := newDeviceEnv(t)
	e.grant("BCDFGHJK")
	for i := range 2 {
		if w := e.post("/device/confirm", "BCDF-GHJK"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?authRequestID=") {
			t.Fatalf("confirmation %d: %d %q", i, w.Code, w.Header().Get("Location"))
		}
	}
	if w := e.post("/device/confirm", "BCDF-GHJK"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "何度も入力") {
		t.Fatalf("the third confirmation: %d, want 400 with the too-many message\n%s", w.Code, w.Body)
	}
}

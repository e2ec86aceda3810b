package loginui

import (
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
)

// TestLogoutRequestAnsweredOnce: of many answers to one logout question
// (double clicks, two tabs, a replay) exactly one gets the request and its
// redirect; a wrong or expired id gets nothing, and an expired one is
// still used up.
func TestLogoutRequestAnsweredOnce(t *testing.T) {
	st := bolttest.Open(t, bolt.Options{})
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	u := &UI{store: st, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	put := func(id string, until time.Time) {
		t.Helper()
		err := st.CreateSession(t.Context(), storage.Session{ID: id, MemberID: "m1", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
			Data: map[string]string{keyLogoutID: "q-" + id, keyLogoutClient: "web", keyLogoutRedirect: "https://rp.example/bye?state=s",
				keyLogoutUntil: strconv.FormatInt(until.Unix(), 10), "flow_req": "kept"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("s1", now.Add(logoutRequestTTL))
	if _, ok := u.claimLogout(t.Context(), "s1", "q-other"); ok {
		t.Fatal("a wrong id claimed the logout request")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 16 {
		wg.Go(func() {
			if p, ok := u.claimLogout(t.Context(), "s1", "q-s1"); ok {
				mu.Lock()
				wins++
				mu.Unlock()
				if p.redirect != "https://rp.example/bye?state=s" || p.client != "web" {
					t.Errorf("claimed %+v", p)
				}
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d answers got the logout request, want exactly 1", wins)
	}
	rec, err := st.SessionByID(t.Context(), "s1")
	if err != nil || rec.Data[keyLogoutID] != "" || rec.Data["flow_req"] != "kept" {
		t.Errorf("after the claim the session holds %v (%v): want the request gone and the rest kept", rec.Data, err)
	}

	put("s2", now.Add(-time.Second))
	if _, ok := u.claimLogout(t.Context(), "s2", "q-s2"); ok {
		t.Error("an expired logout request was honoured")
	}
	if rec, _ := st.SessionByID(t.Context(), "s2"); rec.Data[keyLogoutID] != "" {
		t.Error("an expired logout request was left to be answered")
	}
}

// TestLogoutRefusalsHaveMessages: every refusal the provider can report has
// a message in every catalog (the page takes the key from a table, which
// the template test cannot see).
func TestLogoutRefusalsHaveMessages(t *testing.T) {
	cat, err := loadCatalogs(localeFS)
	if err != nil {
		t.Fatal(err)
	}
	for r := LogoutMalformed; r <= LogoutUnavailable; r++ {
		key, _ := refusalText(r)
		for lang := range cat {
			if _, ok := cat[lang][key]; !ok {
				t.Errorf("refusal %d: %s has no %q", r, lang, key)
			}
		}
	}
}

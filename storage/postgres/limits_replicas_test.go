package postgres_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// The limits, single use and notifications of storage/limits.go and
// changes.go, held across replicas (twoReplicas and raceOn are in
// replicas_test.go).

// threeReplicas opens three Stores on one database, as three processes.
func threeReplicas(t *testing.T) []*postgres.Store {
	t.Helper()
	url := newDB(t)
	o := postgres.Options{MaxConns: 8}
	return []*postgres.Store{openAt(t, url, o), openAt(t, url, o), openAt(t, url, o)}
}

// Attempts in flight are one count for every replica: 60 attempts spread
// over three get the counts 1 to 60, each once.
func TestLoginAttemptsCountedAcrossReplicas(t *testing.T) {
	stores := threeReplicas(t)
	m := storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive}
	if err := stores[0].CreateMember(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 60)
	errs := raceOn(stores, 60, func(s *postgres.Store, i int) error {
		f, err := s.EnterLogin(t.Context(), m.ID, "", t0, t0.Add(time.Minute))
		counts[i] = f.InFlight
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts %v, want 1 to 60", counts)
		}
	}
}

// A failure stored on one replica before its attempt leaves is in the
// record another replica's next attempt reads, even when that replica
// holds the member in its cache from before.
func TestEnterLoginReadsWhatAnotherReplicaStored(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{})
	m := storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive}
	if err := a.CreateMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := b.MemberByID(ctx, m.ID); err != nil { // cached on b
		t.Fatal(err)
	}
	if _, err := a.EnterLogin(ctx, m.ID, "", t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateMember(ctx, m.ID, func(m storage.Member) (storage.Member, error) {
		m.FailedLogins, m.LastFailedLogin = 1, t0
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.LeaveLogin(ctx, m.ID, ""); err != nil {
		t.Fatal(err)
	}
	f, err := b.EnterLogin(ctx, m.ID, "", t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if f.InFlight != 1 || f.Member.FailedLogins != 1 {
		t.Fatalf("b's attempt: %d in flight, %d failures stored; want 1 and 1", f.InFlight, f.Member.FailedLogins)
	}
}

// A limit checked inside UpdateThrottles holds for every replica: 90
// updates over three against a limit of 25 count 25.
func TestThrottleLimitHoldsAcrossReplicas(t *testing.T) {
	stores := threeReplicas(t)
	errFull := errors.New("full")
	errs := raceOn(stores, 90, func(s *postgres.Store, i int) error {
		// Two keys, in either order: the address's window and the member's.
		keys := []string{"ip/192.0.2.1", "member/m1"}
		if i%2 == 1 {
			keys = []string{"member/m1", "ip/192.0.2.1"}
		}
		return s.UpdateThrottles(t.Context(), t0, keys, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			if ts[0].Count >= 25 || ts[1].Count >= 25 {
				return nil, errFull
			}
			for i := range ts {
				ts[i].Count++
				ts[i].ExpiresAt = t0.Add(time.Hour)
			}
			return ts, nil
		})
	})
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errFull):
			t.Fatal(err)
		}
	}
	if won != 25 {
		t.Fatalf("%d updates counted, want 25", won)
	}
	for _, s := range stores {
		for _, k := range []string{"ip/192.0.2.1", "member/m1"} {
			if th, err := s.Throttle(t.Context(), k, t0); err != nil || th.Count != 25 {
				t.Fatalf("%s reads %d, %v; want 25", k, th.Count, err)
			}
		}
	}
}

// A single-use key is claimed once among every replica.
func TestSingleUseAcrossReplicas(t *testing.T) {
	stores := threeReplicas(t)
	oneWinner(t, raceOn(stores, 45, func(s *postgres.Store, _ int) error {
		return s.ClaimOnce(t.Context(), "passkey/challenge", t0, t0.Add(5*time.Minute))
	}))
}

// A client changed on one replica is heard of on the others: their caches
// drop it.
func TestClientChangesHeardOnOtherReplicas(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{})
	heard := make(chan string, 10)
	stop := b.OnChange(storage.ChangeClients, func(id string) {
		if id != "" {
			heard <- id
		}
	})
	defer stop()
	if err := a.CreateClient(ctx, storage.Client{ID: "web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeleteClient(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case id := <-heard:
			if id != "web" {
				t.Fatalf("heard %q, want web", id)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the other replica heard nothing within 30s")
		}
	}
}

// Janitors run on every replica at once: they share the work (SKIP
// LOCKED), fail nothing, and delete each expired record once between them.
func TestJanitorsOnReplicasShareTheWork(t *testing.T) {
	ctx := t.Context()
	stores := threeReplicas(t)
	const tokens, throttles = 2500, 300
	var ts []storage.Token
	for i := range tokens {
		ts = append(ts, storage.Token{ID: fmt.Sprint("t", i), Kind: storage.RefreshToken, FamilyID: fmt.Sprint("f", i),
			CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)})
	}
	if err := stores[0].CreateTokens(ctx, ts...); err != nil {
		t.Fatal(err)
	}
	for i := range throttles {
		if err := stores[1].UpdateThrottles(ctx, t0, []string{fmt.Sprint("k", i)}, func(ts []storage.Throttle) ([]storage.Throttle, error) {
			ts[0].Count, ts[0].ExpiresAt = 1, t0.Add(time.Minute)
			return ts, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := stores[2].ClaimOnce(ctx, fmt.Sprint("c", i), t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	counts := make([]int, 6)
	errs := raceOn(stores, 6, func(s *postgres.Store, i int) error {
		var err error
		counts[i], err = s.DeleteExpired(ctx, t0.Add(time.Hour))
		return err
	})
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		total += counts[i]
	}
	if want := tokens + 2*throttles; total != want {
		t.Errorf("the janitors deleted %d records between them (%v), want %d", total, counts, want)
	}
	if n, err := stores[0].DeleteExpired(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("left behind: %d, %v", n, err)
	}
}

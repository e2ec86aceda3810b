package postgres_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// Two Stores on one database stand for two replicas: each has its own
// pool, its own listener and its own caches, as two processes would.
func twoReplicas(t *testing.T, o postgres.Options) (a, b *postgres.Store) {
	t.Helper()
	url := newDB(t)
	return openAt(t, url, o), openAt(t, url, o)
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

// raceOn runs fn n times concurrently, alternating between the stores, and
// returns the errors.
func raceOn(stores []*postgres.Store, n int, fn func(s *postgres.Store, i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(stores[i%len(stores)], i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner fails unless exactly one error is nil and the others wrap
// ErrConsumed.
func oneWinner(t *testing.T, errs []error) {
	t.Helper()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrConsumed):
			t.Fatalf("claim %d: %v, want ErrConsumed", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want exactly 1", won)
	}
}

// Single use holds across processes: 40 claims split over two pools of
// one code, one refresh token and one OTP have exactly one winner each.
func TestClaimsFromTwoPoolsHaveOneWinner(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{MaxConns: 8})
	both := []*postgres.Store{a, b}

	t.Run("authorization code", func(t *testing.T) {
		r := storage.AuthRequest{ID: "ar-1", ClientID: "web", MemberID: "m1", Done: true, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := a.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := a.SaveAuthCode(ctx, storage.AuthCode{Hash: "h1", AuthRequestID: r.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		oneWinner(t, raceOn(both, 40, func(s *postgres.Store, i int) error {
			tok := storage.Token{ID: fmt.Sprintf("rt-%d", i), Kind: storage.RefreshToken, FamilyID: fmt.Sprint("f", i),
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			_, _, err := s.ClaimAuthCode(ctx, "h1", t0, tok)
			return err
		}))
		// Only the winner's tokens were created, on either replica.
		n := 0
		for i := range 40 {
			if _, err := b.TokenByID(ctx, fmt.Sprintf("rt-%d", i)); err == nil {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d claims created their token, want 1", n)
		}
	})

	t.Run("refresh token", func(t *testing.T) {
		if err := a.CreateTokens(ctx, storage.Token{ID: "r0", Kind: storage.RefreshToken, FamilyID: "fam", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		oneWinner(t, raceOn(both, 40, func(s *postgres.Store, i int) error {
			_, err := s.RotateRefreshToken(ctx, "r0", t0, storage.Token{ID: fmt.Sprintf("r0-next-%d", i), Kind: storage.RefreshToken,
				FamilyID: "fam", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			return err
		}))
		if ts, err := b.ListTokens(ctx, storage.TokenFilter{FamilyID: "fam"}); err != nil || len(ts) != 2 {
			t.Fatalf("family after the race: %d tokens, %v; want r0 and one successor", len(ts), err)
		}
	})

	t.Run("one-time password", func(t *testing.T) {
		if err := a.PutOTP(ctx, storage.OTP{ID: "o1", MemberID: "m1", Purpose: "login", CodeHash: []byte("h"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		claim := func(o storage.OTP) (storage.OTP, error) {
			if o.Consumed {
				return o, storage.ErrConsumed
			}
			o.Consumed = true
			return o, nil
		}
		oneWinner(t, raceOn(both, 40, func(s *postgres.Store, _ int) error { return s.UpdateOTP(ctx, "o1", claim) }))
	})
}

// Outbox workers on two replicas never get the same message.
func TestOutboxClaimsFromTwoPoolsAreDisjoint(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{MaxConns: 8})
	const n = 60
	for i := range n {
		m := storage.OutboxMessage{ID: fmt.Sprintf("m%02d", i), Channel: storage.ChannelEmail, State: storage.OutboxPending,
			NextAttemptAt: t0.Add(-time.Duration(i) * time.Second), CreatedAt: t0.Add(-time.Hour)}
		if err := a.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	claimed := make([][]storage.OutboxMessage, 16)
	errs := raceOn([]*postgres.Store{a, b}, 16, func(s *postgres.Store, i int) error {
		var err error
		claimed[i], err = s.ClaimDueMessages(ctx, t0, 5, t0.Add(time.Minute))
		return err
	})
	seen := map[string]bool{}
	for i, ms := range claimed {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, m := range ms {
			if seen[m.ID] {
				t.Fatalf("message %s claimed twice", m.ID)
			}
			seen[m.ID] = true
		}
	}
	if len(seen) != n { // room for 80: every message claimed once
		t.Fatalf("%d of %d messages claimed", len(seen), n)
	}
}

// The first caller of Secret wins in every process: two replicas starting
// together agree on the server secret.
func TestSecretFirstCallerWinsAcrossReplicas(t *testing.T) {
	a, b := twoReplicas(t, postgres.Options{})
	got := make([][]byte, 20)
	errs := raceOn([]*postgres.Store{a, b}, 20, func(s *postgres.Store, i int) error {
		var err error
		got[i], err = s.Secret(t.Context(), "master", func() ([]byte, error) { return []byte(fmt.Sprint("secret-", i)), nil })
		return err
	})
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("caller %d got %q, caller 0 %q", i, got[i], got[0])
		}
	}
}

// The SMS budget is one for the whole service: 90 reservations over two
// replicas against a limit of 25 count exactly 25.
func TestSMSBudgetHoldsAcrossReplicas(t *testing.T) {
	a, b := twoReplicas(t, postgres.Options{MaxConns: 8})
	won := make([]bool, 90)
	errs := raceOn([]*postgres.Store{a, b}, 90, func(s *postgres.Store, i int) error {
		var err error
		_, won[i], err = s.ReserveSMS(t.Context(), t0.Add(time.Duration(i)*time.Millisecond), 25)
		return err
	})
	count := 0
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		if won[i] {
			count++
		}
	}
	if count != 25 {
		t.Fatalf("%d reservations counted, want 25", count)
	}
	if n, err := b.SMSCount(t.Context(), t0.Add(time.Second)); err != nil || n != 25 {
		t.Fatalf("SMSCount = %d, %v; want 25", n, err)
	}
}

// Each step of a login may land on another replica: the authorization
// request and the session are rows every replica reads and updates.
func TestLoginStepsOnAnyReplica(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{})
	r := storage.AuthRequest{ID: "ar-1", ClientID: "web", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := a.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateSession(ctx, storage.Session{ID: "sid", Data: map[string]string{"auth_request": r.ID}, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateAuthRequest(ctx, r.ID, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		r.BrowserSession = "sid"
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateAuthRequest(ctx, r.ID, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		if r.BrowserSession != "sid" {
			return r, errors.New("the binding made on the other replica is missing")
		}
		r.MemberID, r.Done = "m1", true
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.SaveAuthCode(ctx, storage.AuthCode{Hash: "h", AuthRequestID: r.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, got, err := b.ClaimAuthCode(ctx, "h", t0)
	if err != nil || got.MemberID != "m1" || got.BrowserSession != "sid" {
		t.Fatalf("claim on the other replica: %+v, %v", got, err)
	}
	if sess, err := a.SessionByID(ctx, "sid"); err != nil || sess.Data["auth_request"] != r.ID {
		t.Fatalf("session made on the other replica: %+v, %v", sess, err)
	}
}

package member

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/storagetest"
)

// cheapHash keeps argon2id fast in tests; one test covers the defaults.
var cheapHash = HashOptions{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func newClock() *storagetest.Clock {
	return storagetest.NewClock(time.Date(2021, 10, 1, 9, 0, 0, 0, time.UTC))
}

type fixture struct {
	svc   *Service
	store *bolt.Store
	clock *storagetest.Clock
}

// newFixture returns a Service on a fresh bolt store with cheap hashing and
// a test clock; tweak adjusts the options first.
func newFixture(t testing.TB, tweak func(*Options)) *fixture {
	t.Helper()
	st := bolttest.Open(t, bolt.Options{})
	c := newClock()
	opts := Options{Now: c.Now, Logger: slog.New(slog.DiscardHandler)}
	if tweak != nil {
		tweak(&opts)
	}
	return &fixture{svc: NewService(st, NewHasher(cheapHash), opts), store: st, clock: c}
}

const goodPassword = "Blue-Crane-42"

// create makes a member with number, goodPassword and PIN 246810.
func (f *fixture) create(t testing.TB, number string) storage.Member {
	t.Helper()
	m, err := f.svc.CreateMember(context.Background(), NewMember{
		Number: number, Password: goodPassword, PIN: "246810",
		FamilyName: "山田", GivenName: "花子", FamilyNameLatin: "Yamada", GivenNameLatin: "Hanako",
		Email: "hanako@example.jp", Country: "JP",
	})
	if err != nil {
		t.Fatalf("create %s: %v", number, err)
	}
	return m
}

func (f *fixture) member(t testing.TB, id string) storage.Member {
	t.Helper()
	m, err := f.store.MemberByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) login(ctx context.Context, number, secret string) (LoginResult, error) {
	return f.svc.Authenticate(ctx, LoginInput{Number: number, Secret: secret, IP: "192.0.2.1", UserAgent: "test"})
}

func (f *fixture) events(t testing.TB, memberID string) []storage.Event {
	t.Helper()
	evs, err := f.store.ListEvents(context.Background(), memberID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// stillInFlight is how many attempts are counted in flight on the budget
// of the member's device deviceID (or the member's, for ""): what a login
// that ended must not leave behind.
func stillInFlight(t testing.TB, st storage.LoginAttempts, memberID, deviceID string, now time.Time) int {
	t.Helper()
	f, err := st.EnterLogin(context.Background(), memberID, deviceID, now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LeaveLogin(context.Background(), memberID, deviceID); err != nil {
		t.Fatal(err)
	}
	return f.InFlight - 1
}

package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"tsubasa/storage"
)

// test is one case: its name states the invariant it checks.
type test struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// Run runs every case of the suite against stores made by open. open must
// return a new, empty store each time it is called; it is called once per
// case, from parallel subtests. The suite closes the store at the end of
// the case (once, even when the case closed it itself).
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Members", memberTests},
		{"Clients", clientTests},
		{"AuthRequests", append(append(append(authRequestTests, issueCodeTests...), deferredTests...), claimFreshTests...)},
		{"Tokens", tokenTests},
		{"Keys", keyTests},
		{"Secrets", secretTests},
		{"Sessions", sessionTests},
		{"OTPs", otpTests},
		{"Devices", deviceTests},
		{"Passkeys", passkeyTests},
		{"Consents", consentTests},
		{"Events", eventTests},
		{"EventRetention", retentionTests},
		{"Outbox", append(outboxTests, claimTests...)},
		{"Logins", loginTests},
		{"MemberEvents", memberEventTests},
		{"CredentialChanges", credentialTests},
		{"Units", unitTests},
		{"Janitor", append(janitorTests, limitExpiryTests...)},
		{"SMSBudget", smsBudgetTests},
		{"Throttles", throttleTests},
		{"LoginAttempts", flightTests},
		{"SingleUse", onceTests},
		{"ChangeNotifier", changeTests},
		{"Records", recordTests},
		{"Export", exportTests},
		{"PushedRequests", pushedRequestTests},
		{"JTIs", jtiTests},
		{"MemberExperience", experienceTests},
		{"Idempotency", idempotencyTests},
		{"Jobs", jobTests},
		{"EventPages", eventPageTests},
		{"SupportSessions", supportTests},
		{"DeviceGrants", deviceGrantTests},
		{"Webhooks", webhookTests},
		{"Erasure", erasureTests},
		{"MemberContacts", contactTests},
		{"WebhookDeliveries", webhookDeliveryTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					openers.Store(t, open)
					t.Cleanup(func() { openers.Delete(t) })
					s := &closeOnce{Store: open(t)}
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					tc.run(t, s)
				})
			}
		})
	}
}

// closeOnce lets a case close its store and the suite close it again.
type closeOnce struct {
	storage.Store
	once sync.Once
	err  error
}

func (c *closeOnce) Close() error {
	c.once.Do(func() { c.err = c.Store.Close() })
	return c.err
}

// t0 is the fixed clock of the suite; cases derive every time from it.
var t0 = time.Date(2025, 4, 1, 9, 30, 0, 123456789, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// tokyo is Asia/Tokyo, or a fixed zone with its offset where the system has
// no zone database.
func tokyo() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Tokyo", 9*60*60)
}

func ptr[T any](v T) *T { return &v }

// errBoom is returned by UpdateX functions that must abort the update.
var errBoom = errors.New("storagetest: update refused")

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// must returns v, failing the test on err: must(s.MemberByID(ctx, id))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// isErr fails unless err wraps want.
func isErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want one wrapping %v", err, want)
	}
}

// notNil fails unless err is set (for errors without a sentinel).
func notNil(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error", what)
	}
}

// equal fails unless got and want are deeply equal. Records round-trip
// exactly: times in UTC, nil and empty slices and maps as given.
func equal[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mismatch\n got: %s\nwant: %s", show(got), show(want))
	}
}

func show(v any) string { return fmt.Sprintf("%+v", v) }

// utcOnly fails unless every time field of the struct v is in UTC.
func utcOnly(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if tm, isTime := rv.Field(i).Interface().(time.Time); isTime && tm.Location() != time.UTC {
			t.Errorf("%T.%s in %v, want UTC", v, rv.Type().Field(i).Name, tm.Location())
		}
	}
}

// race runs fn(i) for i in [0, n) concurrently and returns the errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner fails unless exactly one error is nil and every other wraps
// storage.ErrConsumed; it returns the winner's index.
func oneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("claims %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrConsumed):
			t.Fatalf("claim %d: error = %v, want one wrapping ErrConsumed", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no claim won")
	}
	return winner
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

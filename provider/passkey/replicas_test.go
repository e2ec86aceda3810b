package passkey

import (
	"context"
	"errors"
	"testing"

	"github.com/descope/virtualwebauthn"

	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// The cluster of the PostgreSQL tests is started on first use only.
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestCeremonyFinishedOnceAcrossReplicas: one login state and its
// assertion, finished at once on three replicas (a browser's request
// replayed to each), log in once; the others are refused as used.
func TestCeremonyFinishedOnceAcrossReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	var stores []*postgres.Store
	for range 3 {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: url, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		stores = append(stores, st)
	}
	f := newFixtureOn(t, stores[0], nil)
	svcs := []*Service{f.svc}
	for _, st := range stores[1:] {
		svc, err := New(st, f.svc.opts)
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	d := newDevice(virtualwebauthn.AuthenticatorOptions{})
	f.register(t, f.alice, d, "")
	options, state, err := svcs[1].BeginLogin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp := f.assert(t, d, options)
	errs := make([]error, 12)
	done := make(chan struct{})
	start := make(chan struct{})
	for i := range errs {
		go func() {
			<-start
			_, _, _, errs[i] = svcs[i%3].FinishLogin(t.Context(), state, resp)
			done <- struct{}{}
		}()
	}
	close(start)
	for range errs {
		<-done
	}
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrStateUsed):
			t.Errorf("finish %d: %v, want ErrStateUsed", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of 12 finishes logged in, want 1", won)
	}
}

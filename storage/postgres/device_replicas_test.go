package postgres_test

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// A device grant is redeemed once, and slow_down counted once per poll,
// however the polls are spread over replicas: each decision is an update
// of the grant's locked row.
func TestDeviceGrantFromTwoPoolsHasOneWinner(t *testing.T) {
	ctx := t.Context()
	a, b := twoReplicas(t, postgres.Options{MaxConns: 8})
	both := []*postgres.Store{a, b}
	g := storage.DeviceGrant{ID: "dg-1", UserCode: "uc-1", ClientID: "tv", Status: storage.DeviceApproved, MemberID: "m1",
		Interval: 5 * time.Second, LastPoll: t0, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	if err := a.CreateDeviceGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	oneWinner(t, raceOn(both, 40, func(s *postgres.Store, _ int) error {
		_, err := s.UpdateDeviceGrant(ctx, g.ID, t0.Add(time.Minute), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
			if g.Status != storage.DeviceApproved {
				return g, storage.ErrConsumed
			}
			g.Status = storage.DeviceConsumed
			return g, nil
		})
		return err
	}))

	// 40 polls at one instant, half on each replica: each sees the others'
	// and adds its 5 s, so the interval grows by all of them.
	g2 := g
	g2.ID, g2.UserCode, g2.Status = "dg-2", "uc-2", storage.DevicePending
	if err := b.CreateDeviceGrant(ctx, g2); err != nil {
		t.Fatal(err)
	}
	errs := raceOn(both, 40, func(s *postgres.Store, _ int) error {
		_, err := s.UpdateDeviceGrant(ctx, g2.ID, t0.Add(time.Second), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
			g.Interval += 5 * time.Second
			return g, nil
		})
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got, err := a.DeviceGrantByUserCode(ctx, "uc-2", t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := 5*time.Second + 40*5*time.Second; got.Interval != want {
		t.Fatalf("interval after 40 slow polls on two replicas = %v, want %v", got.Interval, want)
	}
}

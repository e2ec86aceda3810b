package admin

import (
	"testing"
	"time"

	"tsubasa/storage"
)

// The operator sees what each key does now: a key published ahead of its
// ActiveAt is pending, one past its RetiredAt retired, one past its
// ExpiresAt expired, and the predecessor of a pending key still active.
func TestKeyStatuses(t *testing.T) {
	svc, _ := newService(t, asIs)
	now := svc.now()
	keys := []storage.SigningKey{
		{ID: "first", CreatedAt: now.Add(-time.Hour)},
		{ID: "retiring", CreatedAt: now.Add(-time.Hour), RetiredAt: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)},
		{ID: "next", CreatedAt: now, ActiveAt: now.Add(time.Minute)},
		{ID: "retired", CreatedAt: now.Add(-2 * time.Hour), RetiredAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)},
		{ID: "expired", CreatedAt: now.Add(-3 * time.Hour), RetiredAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Minute)},
	}
	want := map[string]string{"first": "active", "retiring": "active", "next": "pending", "retired": "retired", "expired": "expired"}
	for _, v := range svc.viewKeys(keys) {
		if v.Status != want[v.ID] {
			t.Errorf("key %s: status %q, want %q", v.ID, v.Status, want[v.ID])
		}
	}
}

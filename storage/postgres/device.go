package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// Device authorization grants (RFC 8628): every decision on a grant (a
// poll, the member's answer, the single use) is an update with its row
// locked, so that of concurrent ones on any number of replicas each sees
// the others'.

var deviceGrants = newTable(table[storage.DeviceGrant]{
	kind:  "device grant",
	key:   []string{"id"},
	keyOf: func(g *storage.DeviceGrant) []any { return []any{g.ID} },
	cols:  []string{"user_code", "client_id", "expires_at", "expires_ns"},
	colsOf: func(g *storage.DeviceGrant) []any {
		return []any{g.UserCode, g.ClientID, g.ExpiresAt, ns(g.ExpiresAt)}
	},
	// Both keys are HMACs of codes: keep them out of error messages.
	label: func([]any) string { return "device grant" },
}, "device_grants")

// deviceByUserCodeSQL reads the unexpired grant of a user code.
const deviceByUserCodeSQL = `SELECT data FROM device_grants
WHERE user_code = $1 AND (expires_at, expires_ns) > ($2, $3)`

// CreateDeviceGrant stores a new grant; see storage.DeviceGrants.
func (s *Store) CreateDeviceGrant(ctx context.Context, g storage.DeviceGrant) error {
	if g.UserCode == "" {
		return fmt.Errorf("postgres: device grant: the user code is empty")
	}
	return createOne(ctx, s, deviceGrants, g)
}

// DeviceGrantByUserCode returns the unexpired grant of a user code.
func (s *Store) DeviceGrantByUserCode(ctx context.Context, userCode string, now time.Time) (storage.DeviceGrant, error) {
	if !storableKeys([]any{userCode}) {
		return storage.DeviceGrant{}, notFound("device grant")
	}
	if err := s.live(ctx); err != nil {
		return storage.DeviceGrant{}, err
	}
	return deviceGrants.scan(s.pool.QueryRow(ctx, deviceByUserCodeSQL, userCode, now, ns(now)), nil)
}

// UpdateDeviceGrant applies fn to the unexpired grant id, its row locked.
func (s *Store) UpdateDeviceGrant(ctx context.Context, id string, now time.Time, fn func(storage.DeviceGrant) (storage.DeviceGrant, error)) (storage.DeviceGrant, error) {
	var out storage.DeviceGrant
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = deviceGrants.updateTx(ctx, tx, []any{id}, func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
			if g.Expired(now) {
				return g, notFound("device grant")
			}
			return fn(g)
		})
		return err
	})
	if err != nil {
		return storage.DeviceGrant{}, err
	}
	return out, nil
}

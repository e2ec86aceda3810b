package bolt

import (
	"context"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// Device authorization grants (RFC 8628), by the HMAC of the device_code,
// with a unique index on the HMAC of the user code; kept until they
// expire, when the janitor takes them. Their buckets are late ones
// (schema.go).

var deviceGrants = (&table[storage.DeviceGrant]{
	kind:   "device grant",
	bucket: bDeviceGrants,
	pk:     func(g *storage.DeviceGrant) []byte { return []byte(g.ID) },
	// Both keys are HMACs of codes: keep them out of error messages.
	label: func([]byte) string { return "device grant" },
	indexes: []index[storage.DeviceGrant]{
		unique("user code", bDeviceGrantsCode, func(g *storage.DeviceGrant) string { return g.UserCode }),
	},
}).withExpiry(bDeviceGrantsExp, func(g *storage.DeviceGrant) (time.Time, bool) { return g.ExpiresAt, true })

// CreateDeviceGrant stores a new grant; see storage.DeviceGrants.
func (s *Store) CreateDeviceGrant(ctx context.Context, g storage.DeviceGrant) error {
	return createOne(ctx, s, deviceGrants, g)
}

// DeviceGrantByUserCode returns the unexpired grant of a user code.
func (s *Store) DeviceGrantByUserCode(ctx context.Context, userCode string, now time.Time) (storage.DeviceGrant, error) {
	var out storage.DeviceGrant
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		g, err := deviceGrants.lookup(tx, &deviceGrants.indexes[0], []byte(userCode))
		if err != nil {
			return err
		}
		if g.Expired(now) {
			return deviceGrants.notFound(nil)
		}
		out = g
		return nil
	})
	return out, err
}

// UpdateDeviceGrant applies fn to the unexpired grant id in one write.
func (s *Store) UpdateDeviceGrant(ctx context.Context, id string, now time.Time, fn func(storage.DeviceGrant) (storage.DeviceGrant, error)) (storage.DeviceGrant, error) {
	var out storage.DeviceGrant
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = storage.DeviceGrant{}
		return updateTx(tx, deviceGrants, []byte(id), func(g storage.DeviceGrant) (storage.DeviceGrant, error) {
			if g.Expired(now) {
				return g, deviceGrants.notFound(nil)
			}
			next, err := fn(g)
			out = next
			return next, err
		})
	})
	if err != nil {
		return storage.DeviceGrant{}, err
	}
	return out, nil
}

package postgres

import (
	"context"
	"fmt"

	"tsubasa/storage"
)

// Devices and consents belong to a member: their primary key starts with
// the member id, so listing a member's is a scan of one key prefix.

var devices = newTable(table[storage.Device]{
	kind:   "device",
	key:    []string{"member_id", "id"},
	keyOf:  func(d *storage.Device) []any { return []any{d.MemberID, d.ID} },
	colsOf: func(*storage.Device) []any { return nil },
	label:  memberLabel("device"),
}, "devices")

var consents = newTable(table[storage.Consent]{
	kind:   "consent",
	key:    []string{"member_id", "client_id"},
	keyOf:  func(c *storage.Consent) []any { return []any{c.MemberID, c.ClientID} },
	colsOf: func(*storage.Consent) []any { return nil },
	label:  memberLabel("consent for client"),
}, "consents")

func memberLabel(kind string) func([]any) string {
	return func(key []any) string {
		if len(key) != 2 {
			return kind
		}
		return fmt.Sprintf("%s %q of member %q", kind, key[1], key[0])
	}
}

const (
	listDevicesSQL  = "SELECT data FROM devices WHERE member_id = $1"
	listConsentsSQL = "SELECT data FROM consents WHERE member_id = $1"
	listPasskeysSQL = "SELECT data FROM passkeys WHERE member_id = $1"
)

// PutDevice inserts or replaces a device.
func (s *Store) PutDevice(ctx context.Context, d storage.Device) error {
	return putOne(ctx, s, devices, d)
}

// DeviceByID returns one of the member's devices.
func (s *Store) DeviceByID(ctx context.Context, memberID, id string) (storage.Device, error) {
	return getOne(ctx, s, devices, memberID, id)
}

// UpdateDevice applies fn to one of the member's devices; see
// storage.Devices.
func (s *Store) UpdateDevice(ctx context.Context, memberID, id string, fn func(storage.Device) (storage.Device, error)) error {
	return updateOne(ctx, s, devices, []any{memberID, id}, fn)
}

// ListDevices returns the member's devices.
func (s *Store) ListDevices(ctx context.Context, memberID string) ([]storage.Device, error) {
	return listMember(ctx, s, devices, listDevicesSQL, memberID)
}

// DeleteDevice deletes one of the member's devices.
func (s *Store) DeleteDevice(ctx context.Context, memberID, id string) error {
	return deleteOne(ctx, s, devices, memberID, id)
}

// PutConsent inserts or replaces a consent.
func (s *Store) PutConsent(ctx context.Context, c storage.Consent) error {
	return putOne(ctx, s, consents, c)
}

// ConsentByID returns the member's consent for a client.
func (s *Store) ConsentByID(ctx context.Context, memberID, clientID string) (storage.Consent, error) {
	return getOne(ctx, s, consents, memberID, clientID)
}

// ListConsents returns the member's consents.
func (s *Store) ListConsents(ctx context.Context, memberID string) ([]storage.Consent, error) {
	return listMember(ctx, s, consents, listConsentsSQL, memberID)
}

// DeleteConsent deletes the member's consent for a client.
func (s *Store) DeleteConsent(ctx context.Context, memberID, clientID string) error {
	return deleteOne(ctx, s, consents, memberID, clientID)
}

func listMember[T any](ctx context.Context, s *Store, t *table[T], sql, memberID string) ([]T, error) {
	if memberID == "" {
		return nil, errNoMember
	}
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	if !storable(memberID) {
		return nil, nil
	}
	return t.list(ctx, s.pool, sql, memberID)
}

var passkeys = newTable(table[storage.Passkey]{
	kind:   "passkey",
	key:    []string{"id"},
	keyOf:  func(p *storage.Passkey) []any { return []any{p.ID} },
	cols:   []string{"member_id"},
	colsOf: func(p *storage.Passkey) []any { return []any{null(p.MemberID)} },
	label: func(key []any) string {
		if len(key) == 1 {
			return fmt.Sprintf("passkey %x", key[0])
		}
		return "passkey"
	},
}, "passkeys")

// CreatePasskey stores a new credential; its id must be free.
func (s *Store) CreatePasskey(ctx context.Context, p storage.Passkey) error {
	return createOne(ctx, s, passkeys, p)
}

// PasskeyByID returns the credential with the given id.
func (s *Store) PasskeyByID(ctx context.Context, id []byte) (storage.Passkey, error) {
	return getOne(ctx, s, passkeys, id)
}

// ListPasskeys returns the member's credentials.
func (s *Store) ListPasskeys(ctx context.Context, memberID string) ([]storage.Passkey, error) {
	return listMember(ctx, s, passkeys, listPasskeysSQL, memberID)
}

// UpdatePasskey applies fn to the credential.
func (s *Store) UpdatePasskey(ctx context.Context, id []byte, fn func(storage.Passkey) (storage.Passkey, error)) error {
	return updateOne(ctx, s, passkeys, []any{id}, fn)
}

// DeletePasskey deletes the credential.
func (s *Store) DeletePasskey(ctx context.Context, id []byte) error {
	return deleteOne(ctx, s, passkeys, id)
}

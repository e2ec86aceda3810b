package bolt

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// Devices and consents belong to a member: their keys start with the
// member id (see ikey), so listing a member's is one prefix scan.

var devices = &table[storage.Device]{
	kind:   "device",
	bucket: bDevices,
	pk:     func(d *storage.Device) []byte { return memberKey(d.MemberID, d.ID) },
	label:  memberLabel("device"),
}

var consents = &table[storage.Consent]{
	kind:   "consent",
	bucket: bConsents,
	pk:     func(c *storage.Consent) []byte { return memberKey(c.MemberID, c.ClientID) },
	label:  memberLabel("consent for client"),
}

// memberKey returns nil (an empty key, refused by check) when either part is
// empty.
func memberKey(memberID, id string) []byte {
	if memberID == "" || id == "" {
		return nil
	}
	return ikey(memberID, []byte(id))
}

func memberLabel(kind string) func([]byte) string {
	return func(pk []byte) string {
		member, id := splitIkey(pk)
		return fmt.Sprintf("%s %q of member %q", kind, id, member)
	}
}

var errNoMember = errors.New("bolt: member id is required")

// PutDevice inserts or replaces a device.
func (s *Store) PutDevice(ctx context.Context, d storage.Device) error {
	return putOne(ctx, s, devices, d)
}

// DeviceByID returns one of the member's devices.
func (s *Store) DeviceByID(ctx context.Context, memberID, id string) (storage.Device, error) {
	return getOne(ctx, s, devices, memberKey(memberID, id))
}

// UpdateDevice applies fn to one of the member's devices; see
// storage.Devices.
func (s *Store) UpdateDevice(ctx context.Context, memberID, id string, fn func(storage.Device) (storage.Device, error)) error {
	return updateOne(ctx, s, devices, memberKey(memberID, id), fn)
}

// ListDevices returns the member's devices.
func (s *Store) ListDevices(ctx context.Context, memberID string) ([]storage.Device, error) {
	return listMember(ctx, s, devices, memberID)
}

// DeleteDevice deletes one of the member's devices.
func (s *Store) DeleteDevice(ctx context.Context, memberID, id string) error {
	return deleteOne(ctx, s, devices, memberKey(memberID, id))
}

// PutConsent inserts or replaces a consent.
func (s *Store) PutConsent(ctx context.Context, c storage.Consent) error {
	return putOne(ctx, s, consents, c)
}

// ConsentByID returns the member's consent for a client.
func (s *Store) ConsentByID(ctx context.Context, memberID, clientID string) (storage.Consent, error) {
	return getOne(ctx, s, consents, memberKey(memberID, clientID))
}

// ListConsents returns the member's consents.
func (s *Store) ListConsents(ctx context.Context, memberID string) ([]storage.Consent, error) {
	return listMember(ctx, s, consents, memberID)
}

// DeleteConsent deletes the member's consent for a client.
func (s *Store) DeleteConsent(ctx context.Context, memberID, clientID string) error {
	return deleteOne(ctx, s, consents, memberKey(memberID, clientID))
}

func listMember[T any](ctx context.Context, s *Store, t *table[T], memberID string) ([]T, error) {
	if memberID == "" {
		return nil, errNoMember
	}
	var out []T
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = t.byPrefix(tx, iprefix(memberID))
		return err
	})
	return out, err
}

var passkeys = &table[storage.Passkey]{
	kind:   "passkey",
	bucket: bPasskeys,
	pk:     func(p *storage.Passkey) []byte { return p.ID },
	label:  func(pk []byte) string { return fmt.Sprintf("passkey %x", pk) },
	indexes: []index[storage.Passkey]{
		multi("member", bPasskeysByMember, func(p *storage.Passkey) string { return p.MemberID }),
	},
}

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
	if memberID == "" {
		return nil, errNoMember
	}
	var out []storage.Passkey
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = passkeys.byIndex(tx, &passkeys.indexes[0], iprefix(memberID))
		return err
	})
	return out, err
}

// UpdatePasskey applies fn to the credential.
func (s *Store) UpdatePasskey(ctx context.Context, id []byte, fn func(storage.Passkey) (storage.Passkey, error)) error {
	return updateOne(ctx, s, passkeys, id, fn)
}

// DeletePasskey deletes the credential.
func (s *Store) DeletePasskey(ctx context.Context, id []byte) error {
	return deleteOne(ctx, s, passkeys, id)
}

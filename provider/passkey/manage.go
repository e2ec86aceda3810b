package passkey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"tsubasa/storage"
)

// errNotOwner aborts an update of another member's passkey.
var errNotOwner = errors.New("passkey belongs to another member")

// List returns the member's passkeys, oldest first. Each carries what the
// account page shows: Name, CreatedAt, LastUsedAt (zero: never used) and
// IsSynced.
func (s *Service) List(ctx context.Context, memberID string) ([]storage.Passkey, error) {
	ps, err := s.store.ListPasskeys(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("passkey: list passkeys: %w", err)
	}
	slices.SortStableFunc(ps, func(a, b storage.Passkey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return ps, nil
}

// Rename gives the member's passkey id a new name (see CleanName). Another
// member's passkey, or a missing one, is ErrNotFound.
func (s *Service) Rename(ctx context.Context, memberID string, id []byte, name string) error {
	name, err := CleanName(name)
	if err != nil {
		return err
	}
	err = s.store.UpdatePasskey(ctx, id, func(old storage.Passkey) (storage.Passkey, error) {
		if old.MemberID != memberID {
			return old, errNotOwner
		}
		old.Name = name
		return old, nil
	})
	if err != nil {
		return notFound(err)
	}
	return nil
}

// Delete removes the member's passkey id; it can no longer log in. Another
// member's passkey, or a missing one, is ErrNotFound. The authenticator
// keeps its copy until the member deletes it there (the page may call
// PublicKeyCredential.signalAllAcceptedCredentials to hint it).
func (s *Service) Delete(ctx context.Context, memberID string, id []byte) error {
	p, err := s.store.PasskeyByID(ctx, id)
	if err == nil && p.MemberID != memberID {
		err = errNotOwner
	}
	if err == nil {
		err = s.store.DeletePasskey(ctx, id)
	}
	if err != nil {
		return notFound(err)
	}
	s.event(ctx, storage.Event{
		Type:     EventRemoved,
		MemberID: memberID,
		Success:  true,
		Detail: map[string]string{
			"name":   p.Name,
			"aaguid": formatUUID(p.AAGUID),
			"synced": strconv.FormatBool(IsSynced(p)),
		},
	})
	return nil
}

// notFound maps a missing or foreign passkey to ErrNotFound and wraps any
// other error.
func notFound(err error) error {
	if errors.Is(err, errNotOwner) || errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return fmt.Errorf("passkey: %w", err)
}

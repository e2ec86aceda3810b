package bolt

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

var clients = &table[storage.Client]{
	kind:   "client",
	bucket: bClients,
	pk:     func(c *storage.Client) []byte { return []byte(c.ID) },
}

// CreateClient stores a new client.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	defer s.changes.notify(storage.ChangeClients, c.ID)
	return createOne(ctx, s, clients, c)
}

// ClientByID returns the client with the given id.
func (s *Store) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	return getOne(ctx, s, clients, []byte(id))
}

// UpdateClient applies fn to the client.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(storage.Client) (storage.Client, error)) error {
	defer s.changes.notify(storage.ChangeClients, id)
	return updateOne(ctx, s, clients, []byte(id), fn)
}

// DeleteClient deletes the client, every member's consent for it and its
// stored tokens, and records the revocation of its unstored tokens, in one
// commit; see storage.Clients.
func (s *Store) DeleteClient(ctx context.Context, id string) (storage.RemovedClient, error) {
	if id == "" {
		return storage.RemovedClient{}, clients.notFound(nil)
	}
	defer s.changes.notify(storage.ChangeClients, id)
	f := storage.TokenFilter{ClientID: id}
	ix, prefix, err := filterIndex(f)
	if err != nil {
		return storage.RemovedClient{}, err
	}
	var (
		out storage.RemovedClient
		key string
	)
	now := s.now().UTC()
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		out = storage.RemovedClient{}
		c, err := clients.get(tx, []byte(id))
		if err != nil {
			return abort(err)
		}
		if err := clients.del(tx, &c); err != nil {
			return err
		}
		if out.Consents, err = deleteConsentsOf(tx, id); err != nil {
			return err
		}
		key, out.Tokens, err = s.revokeTokens(tx, f, ix, prefix, now)
		return err
	})
	if err != nil {
		return storage.RemovedClient{}, err
	}
	s.revoked.remember(key, now)
	return out, nil
}

// deleteConsentsOf deletes every member's consent for the client. Consents
// are keyed by member first (a member's are one prefix), so this scans
// them all: it runs only when a client is removed.
func deleteConsentsOf(tx *bbolt.Tx, clientID string) (int, error) {
	var gone []storage.Consent
	c := tx.Bucket(consents.bucket).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if _, rest := splitIkey(k); string(rest) != clientID {
			continue
		}
		var cs storage.Consent
		if err := decode(v, &cs); err != nil {
			return 0, fmt.Errorf("bolt: %s: %w", consents.name(k), err)
		}
		gone = append(gone, cs)
	}
	for i := range gone {
		if err := consents.del(tx, &gone[i]); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}

// ListClients returns every stored client, by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	return listAll(ctx, s, clients)
}

package bolt

import (
	"context"

	"tsubasa/storage"
)

var clients = &table[storage.Client]{
	kind:   "client",
	bucket: bClients,
	pk:     func(c *storage.Client) []byte { return []byte(c.ID) },
}

// CreateClient stores a new client.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	return createOne(ctx, s, clients, c)
}

// ClientByID returns the client with the given id.
func (s *Store) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	return getOne(ctx, s, clients, []byte(id))
}

// UpdateClient applies fn to the client.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(storage.Client) (storage.Client, error)) error {
	return updateOne(ctx, s, clients, []byte(id), fn)
}

// DeleteClient deletes the client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return deleteOne(ctx, s, clients, []byte(id))
}

// ListClients returns every stored client, by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	return listAll(ctx, s, clients)
}

package postgres

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

var clients = newTable(table[storage.Client]{
	kind:   "client",
	key:    []string{"id"},
	keyOf:  func(c *storage.Client) []any { return []any{c.ID} },
	colsOf: func(*storage.Client) []any { return nil },
}, "clients")

var keys = newTable(table[storage.SigningKey]{
	kind:   "signing key",
	key:    []string{"id"},
	keyOf:  func(k *storage.SigningKey) []any { return []any{k.ID} },
	colsOf: func(*storage.SigningKey) []any { return nil },
}, "signing_keys")

// CreateClient stores a new client.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := clients.create(ctx, tx, &c); err != nil {
			return err
		}
		return notify(ctx, tx, clientChanged(c.ID))
	})
}

// ClientByID returns the client with the given id.
func (s *Store) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	return getOne(ctx, s, clients, id)
}

// UpdateClient applies fn to the client.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(storage.Client) (storage.Client, error)) error {
	return updateNotify(ctx, s, clients, id, fn, clientChanged)
}

// updateNotify is updateOne for a kind whose changes every replica hears
// of, in the same transaction.
func updateNotify[T any](ctx context.Context, s *Store, t *table[T], id string, fn func(T) (T, error), payload func(string) string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := t.updateTx(ctx, tx, []any{id}, fn); err != nil {
			return err
		}
		return notify(ctx, tx, payload(id))
	})
}

// DeleteClient deletes the client, every member's consent for it and its
// stored tokens, and records the revocation of its unstored tokens, in one
// transaction; see storage.Clients. An unknown client changes nothing.
func (s *Store) DeleteClient(ctx context.Context, id string) (storage.RemovedClient, error) {
	f := storage.TokenFilter{ClientID: id}
	where, args, err := tokenWhere(f)
	if err != nil {
		return storage.RemovedClient{}, notFound(clients.name([]any{id}))
	}
	var (
		out      storage.RemovedClient
		remember func()
	)
	now := s.now().UTC()
	err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = storage.RemovedClient{}
		if err := clients.remove(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM consents WHERE client_id = $1", id)
		if err != nil {
			return wrap("delete consents", err)
		}
		out.Consents = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, "DELETE FROM tokens WHERE "+where, args...); err != nil {
			return wrap("delete tokens", err)
		}
		out.Tokens = int(tag.RowsAffected())
		if remember, err = s.putRevocation(ctx, tx, f, now); err != nil {
			return err
		}
		return notify(ctx, tx, clientChanged(id))
	})
	if err != nil {
		return storage.RemovedClient{}, err
	}
	remember()
	return out, nil
}

// ListClients returns every stored client, by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	return clients.list(ctx, s.pool, "SELECT data FROM clients ORDER BY id")
}

// CreateKey stores a new signing key.
func (s *Store) CreateKey(ctx context.Context, k storage.SigningKey) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := keys.create(ctx, tx, &k); err != nil {
			return err
		}
		return notify(ctx, tx, keyChanged(k.ID))
	})
}

// ListKeys returns every signing key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	ks, err := keys.list(ctx, s.pool, "SELECT data FROM signing_keys")
	slices.SortStableFunc(ks, func(a, b storage.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return ks, err
}

// UpdateKey applies fn to the signing key.
func (s *Store) UpdateKey(ctx context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	return updateNotify(ctx, s, keys, id, fn, keyChanged)
}

// DeleteKey deletes the signing key.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := keys.remove(ctx, tx, id); err != nil {
			return err
		}
		return notify(ctx, tx, keyChanged(id))
	})
}

const (
	secretSQL = "SELECT value FROM secrets WHERE name = $1"
	// Of concurrent first callers, in any process, the first to commit
	// wins; the others insert nothing and read the winner's value.
	createSecretSQL = "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
)

// Secret returns the secret called name, creating it once with create.
func (s *Store) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	if name == "" || !storable(name) {
		return nil, errors.New("postgres: secret: the name must be a non-empty UTF-8 string")
	}
	if b, err := s.secret(ctx, s.pool, name); b != nil || err != nil {
		return b, err
	}
	// Slow path, once per secret in practice: serialise it so that create
	// runs once in this process; across processes the insert decides.
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if b, err := s.secret(ctx, s.pool, name); b != nil || err != nil {
		return b, err
	}
	created, err := create()
	if err != nil {
		return nil, fmt.Errorf("postgres: secret %q: create: %w", name, err)
	}
	if len(created) == 0 {
		return nil, fmt.Errorf("postgres: secret %q: create returned no bytes", name)
	}
	value := bytes.Clone(created)
	var stored []byte
	err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, createSecretSQL, name, value); err != nil {
			return err
		}
		// A statement of its own: its snapshot sees a winner that
		// committed while the insert waited for it.
		var err error
		stored, err = s.secret(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: secret %q: %w", name, err)
	}
	return stored, nil
}

// secret returns the stored secret, or nil.
func (s *Store) secret(ctx context.Context, q querier, name string) ([]byte, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	var out []byte
	err := q.QueryRow(ctx, secretSQL, name).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: secret %q: %w", name, err)
	}
	return out, nil
}

package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"tsubasa/config"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/postgres"
)

// StorageMove is what `tsubasa migrate-storage` copies: a bbolt file
// into an empty PostgreSQL database.
type StorageMove struct {
	BoltPath    string
	PostgresURL string // "" = storage.postgres.url of the config
	// SecretOut is where to write the bolt file's generated master secret,
	// for secret_file on the replicas ("" = refuse when it is needed).
	SecretOut string
}

// moveBatch is how many records one Import commits.
const moveBatch = 500

// MigrateStorage copies every record of every kind (storage.Kinds) from
// the bolt file into PostgreSQL, verifies the counts per kind and reports
// them to out. It refuses a missing file, a file a server holds (bbolt's
// lock), and a target that holds any record. Logins in progress
// (authorization requests and codes) are not copied.
func MigrateStorage(ctx context.Context, cfg config.Config, mv StorageMove, out io.Writer) error {
	if _, err := os.Stat(mv.BoltPath); err != nil {
		return fmt.Errorf("migrate-storage: no bolt database at %s: %w", mv.BoltPath, err)
	}
	// Read-only: bbolt's shared lock is refused while a server holds the
	// file, and a server cannot start on it while the copy runs.
	from, err := bolt.Open(mv.BoltPath, bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("migrate-storage: %w: stop the server that uses it first", err)
	}
	if err != nil {
		return fmt.Errorf("migrate-storage: %w", err)
	}
	defer from.Close()
	o, err := moveTarget(cfg, mv.PostgresURL)
	if err != nil {
		return err
	}
	to, err := postgres.Open(ctx, o)
	if err != nil {
		return fmt.Errorf("migrate-storage: %w", err)
	}
	defer to.Close()
	if err := refuseNonEmpty(ctx, to); err != nil {
		return err
	}
	skip, err := moveMaster(ctx, cfg, from, mv.SecretOut, out)
	if err != nil {
		return err
	}
	return copyKinds(ctx, from, to, skip, out)
}

// moveTarget is the PostgreSQL side's options: the config's
// storage.postgres settings, with url from the command line when given.
// A URL that names its own sslmode keeps it, unless the config uses
// PostgreSQL too (then the two must agree, as for a replica).
func moveTarget(cfg config.Config, rawURL string) (postgres.Options, error) {
	o := PostgresOptions(cfg, slog.New(slog.DiscardHandler))
	if rawURL == "" {
		if !cfg.UsesPostgres() {
			return o, errors.New("migrate-storage: no PostgreSQL URL: give it after --to postgres, or set storage.postgres.url (or url_file) in the config")
		}
		return o, nil
	}
	o.URL = rawURL
	if u, err := url.Parse(rawURL); err == nil && u.Query().Get("sslmode") != "" && !cfg.UsesPostgres() {
		o.SSLMode = ""
	}
	return o, nil
}

// refuseNonEmpty fails when the target holds any record: a copy merged
// into a database in use would mix two programmes' members and keys.
func refuseNonEmpty(ctx context.Context, to storage.Exporter) error {
	var full []string
	for _, kind := range storage.Kinds {
		n, err := to.Count(ctx, kind)
		if err != nil {
			return fmt.Errorf("migrate-storage: %w", err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s (%d)", kind, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("migrate-storage: the PostgreSQL database is not empty (%s): copy into a new, empty database", strings.Join(full, ", "))
	}
	return nil
}

// moveMaster deals with a master secret the bolt server generated (it
// ran without secret/secret_file): replicas must be given it in
// secret_file, so it is written to secretOut (never copied into
// PostgreSQL, which keeps no master secret). It returns the names of the
// secrets not to copy.
func moveMaster(ctx context.Context, cfg config.Config, from *bolt.Store, secretOut string, out io.Writer) (map[string]bool, error) {
	secrets := map[string][]byte{}
	err := from.Export(ctx, storage.KindSecrets, func(v any) error {
		s := v.(storage.NamedSecret)
		secrets[s.Name] = s.Value
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrate-storage: %w", err)
	}
	master, generated := secrets["master"]
	check, checked := secrets[kcvSecretName]
	inUse := generated && (!checked || checkAgainst(check, master))
	if cfg.Secret != "" && checked && !checkAgainst(check, []byte(cfg.Secret)) && !inUse {
		return nil, fmt.Errorf("migrate-storage: %w", errMasterMismatch)
	}
	if !inUse {
		return map[string]bool{"master": true}, nil
	}
	if secretOut == "" {
		return nil, errors.New("migrate-storage: the bolt database's master secret was generated (the server ran without secret or secret_file), " +
			"and replicas on PostgreSQL must read it from secret_file: add --secret-out FILE to write it there (mode 0600), " +
			"then set secret_file: FILE on every replica")
	}
	if strings.ContainsAny(string(master[len(master)-1:]), "\r\n") {
		return nil, errors.New("migrate-storage: the generated master secret ends in a line break, which secret_file cannot carry " +
			"(trailing line breaks are removed): this database cannot move with its keys")
	}
	f, err := os.OpenFile(secretOut, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("migrate-storage: --secret-out: %w", err)
	}
	if _, err := f.Write(master); err != nil {
		f.Close()
		return nil, fmt.Errorf("migrate-storage: --secret-out: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("migrate-storage: --secret-out: %w", err)
	}
	fmt.Fprintf(out, "Wrote the generated master secret to %s (mode 0600): set secret_file: %s on every replica.\n", secretOut, secretOut)
	return map[string]bool{"master": true}, nil
}

// checkAgainst reports whether master matches a stored check value.
func checkAgainst(stored, master []byte) bool {
	if len(stored) != len(kcvPrefix)+kcvSaltLen+kcvLen {
		return false
	}
	salt := stored[len(kcvPrefix) : len(kcvPrefix)+kcvSaltLen]
	return subtle.ConstantTimeCompare(kcvOf(master, salt), stored) == 1
}

// copyKinds copies every kind in batches, then compares the counts.
func copyKinds(ctx context.Context, from, to storage.Store, skipSecrets map[string]bool, out io.Writer) error {
	fmt.Fprintln(out, "Copying (logins in progress, authorization requests and codes, are not copied):")
	for _, kind := range storage.Kinds {
		var batch []any
		copied, skipped := 0, 0
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			if err := to.Import(ctx, kind, batch); err != nil {
				return err
			}
			copied += len(batch)
			batch = batch[:0]
			return nil
		}
		err := from.Export(ctx, kind, func(v any) error {
			if s, ok := v.(storage.NamedSecret); ok && skipSecrets[s.Name] {
				skipped++
				return nil
			}
			if batch = append(batch, v); len(batch) >= moveBatch {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return fmt.Errorf("migrate-storage: copying %s: %w", kind, err)
		}
		if err := verifyCount(ctx, from, to, kind, skipped); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-13s %d\n", kind, copied)
	}
	fmt.Fprintln(out, "Every count verified. Start the replicas on PostgreSQL.")
	return nil
}

// verifyCount compares the kind's count on both sides.
func verifyCount(ctx context.Context, from, to storage.Exporter, kind storage.Kind, skipped int) error {
	a, err := from.Count(ctx, kind)
	if err != nil {
		return fmt.Errorf("migrate-storage: %w", err)
	}
	b, err := to.Count(ctx, kind)
	if err != nil {
		return fmt.Errorf("migrate-storage: %w", err)
	}
	if a-skipped != b {
		return fmt.Errorf("migrate-storage: %s: %d in the bolt file (%d not copied) but %d in PostgreSQL: the copy is incomplete; drop the database and run again", kind, a, skipped, b)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"tsubasa/storage/bolt"
)

func newBackupCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the database to FILE",
		Long: `Write a consistent copy of the database to FILE (mode 0600). With a server
running, the copy streams through its admin socket while it keeps serving
(one read transaction: a snapshot of one moment); otherwise the file is
opened read-only. The copy is written to FILE.tmp, synced, verified and then
renamed to FILE, so FILE is never half-written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("--out FILE is required")}
			}
			return g.backup(cmd.Context(), out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the backup to")
	return cmd
}

func newRestoreCmd(g *globals) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Replace the database with a backup (server stopped)",
		Long: `Replace the database with the backup FILE. The server must be stopped: the
command refuses while a server answers on the admin socket or holds the
database file's lock. FILE must verify as a complete Tsubasa database before
anything is replaced; the previous database is kept as <database>.bak.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError{errors.New("--from FILE is required")}
			}
			return g.restore(cmd.Context(), from)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "backup file to restore")
	return cmd
}

func (g *globals) backup(ctx context.Context, out string) (err error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	var n int64
	how := "through the running server"
	if c, ok := dialAdmin(cfg.AdminSocket()); ok {
		n, err = backupThrough(ctx, c, f)
	} else {
		how = "directly from " + cfg.Storage.Bolt.Path
		n, err = backupDirect(ctx, cfg.Storage.Bolt.Path, cfg.AdminSocket(), f)
	}
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f = nil
	if err := bolt.Verify(ctx, tmp); err != nil {
		return fmt.Errorf("backup: the copy does not verify: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Backed up %d bytes to %s (%s).\n", n, out, how)
	return nil
}

// backupThrough streams the running server's hot backup into w.
func backupThrough(ctx context.Context, c *adminClient, w io.Writer) (int64, error) {
	var begun backupBegun
	if err := c.call(ctx, "backup/begin", jsonRequest(empty{}), &begun); err != nil {
		return 0, err
	}
	var n int64
	// Bounded by the snapshot's size: every read returns a full chunk
	// until the last one.
	for {
		var chunk backupChunk
		if err := c.call(ctx, "backup/read", jsonRequest(backupIDInput(begun)), &chunk); err != nil {
			abortBackup(c, begun.ID)
			return n, fmt.Errorf("backup: %w", err)
		}
		k, err := w.Write(chunk.Data)
		n += int64(k)
		if err != nil {
			abortBackup(c, begun.ID)
			return n, fmt.Errorf("backup: %w", err)
		}
		if chunk.Done {
			if chunk.Size != n {
				return n, fmt.Errorf("backup: server sent %d bytes but reported %d", n, chunk.Size)
			}
			return n, nil
		}
		if len(chunk.Data) == 0 {
			abortBackup(c, begun.ID)
			return n, errors.New("backup: server sent an empty chunk")
		}
	}
}

// abortBackup frees the server's read transaction at once rather than after
// its idle timeout; it is best effort.
func abortBackup(c *adminClient, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.call(ctx, "backup/abort", jsonRequest(backupIDInput{ID: id}), &empty{})
}

// backupDirect copies a database no server holds, opened read-only.
func backupDirect(ctx context.Context, path, socket string, w io.Writer) (int64, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("backup: no database to back up: %w", err)
	}
	st, err := bolt.Open(path, bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolt.ErrLocked) {
		return 0, fmt.Errorf("%w\n(no server answers on the admin socket %s: does the running server use another admin.socket?)", err, socket)
	}
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Backup(ctx, w)
}

// restore replaces the database file with the backup from, keeping the old
// file as .bak. It holds the database's lock while it swaps, so a server
// starting meanwhile fails instead of opening the old file.
func (g *globals) restore(ctx context.Context, from string) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	path := cfg.Storage.Bolt.Path
	if _, ok := dialAdmin(cfg.AdminSocket()); ok {
		return fmt.Errorf("restore: a server answers on the admin socket %s; stop it first", cfg.AdminSocket())
	}
	if err := bolt.Verify(ctx, from); err != nil {
		return fmt.Errorf("restore: %s cannot be restored: %w", from, err)
	}
	unlock, err := lockForRestore(path)
	if err != nil {
		return err
	}
	defer unlock()
	tmp := path + ".restore.tmp"
	if err := copyFileSynced(from, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	if err := bolt.Verify(ctx, tmp); err != nil { // what was copied, not only what was read
		os.Remove(tmp)
		return fmt.Errorf("restore: the copy does not verify: %w", err)
	}
	bak := path + ".bak"
	kept := false
	if _, err := os.Stat(path); err == nil {
		if err := os.Remove(bak); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return fmt.Errorf("restore: %w", err)
		}
		// A hard link keeps the old file without a moment where path is
		// missing; where links fail, a copy does.
		if err := os.Link(path, bak); err != nil {
			if err := copyFileSynced(path, bak); err != nil {
				os.Remove(tmp)
				return fmt.Errorf("restore: keeping the old database: %w", err)
			}
		}
		kept = true
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Restored %s to %s.\n", from, path)
	if kept {
		fmt.Fprintf(g.stdout, "The previous database is kept as %s.\n", bak)
	}
	return nil
}

// lockForRestore holds the database file's lock, failing when a server
// holds it. A missing file needs no lock; a file that does not open (the
// damage a restore repairs) is not held by a server either, since bbolt
// takes the lock before it reads anything.
func lockForRestore(path string) (unlock func(), err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		return func() {}, nil
	}
	release, err := bolt.Hold(path, time.Second)
	switch {
	case errors.Is(err, bolt.ErrLocked):
		return nil, fmt.Errorf("restore: refusing to replace a database in use: %w", err)
	case err != nil:
		return func() {}, nil
	}
	return func() { _ = release() }, nil
}

func copyFileSynced(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func jsonRequest(v any) adminRequest {
	b, _ := json.Marshal(v) // our own input types always marshal
	return adminRequest{Body: bytes.NewReader(b)}
}

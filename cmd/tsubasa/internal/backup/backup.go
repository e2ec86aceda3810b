package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"tsubasa/cmd/tsubasa/internal/adminsock"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage/bolt"
)

// Write writes a backup to out: fill copies the database into FILE.tmp
// (mode 0600), which is synced, verified as a complete database and only
// then renamed to out, so out is never half-written. It returns the size.
func Write(ctx context.Context, out string, fill func(w io.Writer) (int64, error)) (n int64, err error) {
	tmp := out + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if n, err = fill(f); err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("backup: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	f = nil
	if err := bolt.Verify(ctx, tmp); err != nil {
		return n, fmt.Errorf("backup: the copy does not verify: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, syncDir(filepath.Dir(out))
}

// Through streams the running server's hot backup into w.
func Through(ctx context.Context, c adminsock.Runner, w io.Writer) (int64, error) {
	begun, err := adminsock.Call(ctx, c, adminapi.BackupBegin, adminapi.Empty{})
	if err != nil {
		return 0, err
	}
	var n int64
	// Bounded by the snapshot's size: every read returns a full chunk
	// until the last one.
	for {
		chunk, err := adminsock.Call(ctx, c, adminapi.BackupRead, adminapi.BackupIDInput(begun))
		if err != nil {
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
func abortBackup(c adminsock.Runner, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = adminsock.Call(ctx, c, adminapi.BackupAbort, adminapi.BackupIDInput{ID: id})
}

// Direct copies a database no server holds, opened read-only. socket is
// where the CLI looked for a server, named when the file is locked anyway.
func Direct(ctx context.Context, path, socket string, w io.Writer) (int64, error) {
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

// Restore replaces the database file at path with the backup from, keeping
// the old file as path.bak; kept says whether there was one. from must
// verify as a complete database before anything is replaced. It holds the
// database's lock while it swaps, so a server starting meanwhile fails
// instead of opening the old file; the caller has checked that no server
// answers on the admin socket.
func Restore(ctx context.Context, path, from string) (bak string, kept bool, err error) {
	if err := bolt.Verify(ctx, from); err != nil {
		return "", false, fmt.Errorf("restore: %s cannot be restored: %w", from, err)
	}
	unlock, err := lockForRestore(path)
	if err != nil {
		return "", false, err
	}
	defer unlock()
	tmp := path + ".restore.tmp"
	if err := copyFileSynced(from, tmp); err != nil {
		os.Remove(tmp)
		return "", false, fmt.Errorf("restore: %w", err)
	}
	if err := bolt.Verify(ctx, tmp); err != nil { // what was copied, not only what was read
		os.Remove(tmp)
		return "", false, fmt.Errorf("restore: the copy does not verify: %w", err)
	}
	bak = path + ".bak"
	if _, err := os.Stat(path); err == nil {
		if err := os.Remove(bak); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return "", false, fmt.Errorf("restore: %w", err)
		}
		// A hard link keeps the old file without a moment where path is
		// missing; where links fail, a copy does.
		if err := os.Link(path, bak); err != nil {
			if err := copyFileSynced(path, bak); err != nil {
				os.Remove(tmp)
				return "", false, fmt.Errorf("restore: keeping the old database: %w", err)
			}
		}
		kept = true
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", false, fmt.Errorf("restore: %w", err)
	}
	return bak, kept, syncDir(filepath.Dir(path))
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

package cli

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIBackupRestoreDirect: without a server the backup opens the file
// read-only; restore verifies, keeps the old file as .bak and refuses
// garbage without touching the database.
func TestCLIBackupRestoreDirect(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.ok("member", "create", "--number", "1000001", "--password", "Sora-Miles-2026", "--family-name", "空野")
	out := filepath.Join(t.TempDir(), "snap.db")
	if got := e.ok("backup", "--out", out); !strings.Contains(got, "directly from") {
		t.Errorf("backup without a server: %q", got)
	}
	checkBackupFile(t, out)
	e.ok("member", "create", "--number", "1000002", "--password", "Sora-Miles-2026", "--family-name", "海野")

	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("x", 8192)), 0o600); err != nil {
		t.Fatal(err)
	}
	e.fails(1, []string{"cannot be restored", garbage}, "restore", "--from", garbage)
	e.ok("member", "show", "1000002") // untouched by the refused restore

	got := e.ok("restore", "--from", out)
	if !strings.Contains(got, ".bak") {
		t.Errorf("restore output does not name the kept file: %q", got)
	}
	e.ok("member", "show", "1000001")
	e.fails(1, []string{"no member 1000002"}, "member", "show", "1000002")
	if _, err := os.Stat(e.cfg.Storage.Bolt.Path + ".bak"); err != nil {
		t.Errorf("previous database not kept: %v", err)
	}
	e.fails(2, []string{"--out"}, "backup")
	e.fails(2, []string{"--from"}, "restore")
}

// TestCLIBackupThroughServer: with a server holding the file, the backup
// streams through the admin socket, and restore refuses.
func TestCLIBackupThroughServer(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	d, _, _ := e.startServer()
	e.ok("member", "create", "--number", "1000001", "--password", "Sora-Miles-2026", "--family-name", "空野")
	// Enough data for several chunks (1 MiB each): the backup spans many
	// reads.
	for i := range 3 {
		bulk := func() ([]byte, error) {
			b := make([]byte, 1<<20)
			_, err := rand.Read(b)
			return b, err
		}
		if _, err := d.Store.Secret(t.Context(), "bulk"+string(rune('a'+i)), bulk); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "snap.db")
	if got := e.ok("backup", "--out", out); !strings.Contains(got, "through the running server") {
		t.Errorf("backup with a server: %q", got)
	}
	checkBackupFile(t, out)
	e.requireLocked()
	e.fails(1, []string{"stop it first"}, "restore", "--from", out)
}

func checkBackupFile(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

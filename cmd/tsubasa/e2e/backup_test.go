package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage/bolt"
)

// TestBackupUnderLoadAndRestore takes an online backup through the admin
// socket while members log in, restores it into the stopped server's data
// directory and logs in with it: the backup is a consistent snapshot (what
// came before it is there, what came after is not), written 0600 and
// whole, and restore refuses while the server runs.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	s := StartWithMember(t, Options{})
	rp := NewRP(t, s, "web", "web-secret-0123456789", "openid", "offline_access")
	before := LoginRP(t, rp, NewBrowser(t, s))

	var stop atomic.Bool
	var logins atomic.Int32
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for range 2 {
		wg.Go(func() {
			for i := 0; i < 500 && !stop.Load(); i++ {
				f := NewFlow()
				cb, err := newLiveBrowser(s).login(ctx, rp.AuthURL(f), MemberNumber, MemberPass)
				if err != nil {
					t.Errorf("login during the backup: %v", err)
					return
				}
				if _, _, err := rp.Exchange(ctx, f, cb); err != nil {
					t.Errorf("code exchange during the backup: %v", err)
					return
				}
				logins.Add(1)
			}
		})
	}
	out := filepath.Join(t.TempDir(), "tsubasa-backup.db")
	// Let the load get going (bounded) before the backup starts.
	for i := 0; i < 1000 && logins.Load() < 2 && !t.Failed(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	msg := s.CLI(t, false, "backup", "--out", out)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d logins ran during the backup", logins.Load())
	if !strings.Contains(msg, "through the running server") {
		t.Errorf("backup with the server up did not go through it: %q", msg)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary backup file left behind: %v", err)
	}
	if err := bolt.Verify(t.Context(), out); err != nil {
		t.Fatalf("backup taken under load: %v", err)
	}
	s.CLI(t, false, "member", "create", "--number", "1234567", "--password", "Umi-Sora-2026", "--family-name", "後藤")

	refused := s.CLI(t, true, "restore", "--from", out)
	if !strings.Contains(refused, "stop it first") {
		t.Errorf("restore with the server running: %q", refused)
	}
	s.Stop(t)
	restored := s.CLI(t, false, "restore", "--from", out)
	if !strings.Contains(restored, "tsubasa.db.bak") {
		t.Errorf("restore output does not name the kept database: %q", restored)
	}
	if err := bolt.Verify(t.Context(), filepath.Join(s.Dir, "tsubasa.db.bak")); err != nil {
		t.Errorf("kept database: %v", err)
	}

	s = Start(t, Options{Dir: s.Dir, Port: s.portNumber(t)})
	f := NewFlow()
	if _, _, err := rp.Exchange(t.Context(), f, Login(t, NewBrowser(t, s), rp.AuthURL(f), MemberNumber, MemberPass)); err != nil {
		t.Fatalf("login on the restored database: %v", err)
	}
	if _, err := Refresh(t, rp, before.RefreshToken); err != nil {
		t.Errorf("a refresh token issued before the backup does not refresh after the restore: %v", err)
	}
	if out := s.CLI(t, true, "member", "show", "1234567"); !strings.Contains(out, "no member") {
		t.Errorf("a member created after the backup exists after the restore: %q", out)
	}
}

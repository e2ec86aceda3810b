package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/storage/bolt"
)

// Faults of the machine under the server. SMTP and SMS outages have their
// own suites (alerts, OTP); a clock jump is not simulated here.

// TestFaultDatabaseLockedAtStart: a second server on the same database
// exits at once with an error naming the file, and the first one serves on.
func TestFaultDatabaseLockedAtStart(t *testing.T) {
	s := StartWithMember(t, Options{})
	cfg, err := os.ReadFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.ReplaceAll(string(cfg), fmt.Sprintf(":%d", s.portNumber(t)), fmt.Sprintf(":%d", FreePort(t)))
	path := filepath.Join(t.TempDir(), "second.yaml")
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--config", path)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ctx.Err() != nil {
		t.Fatalf("second server on a held database: %v, want a non-zero exit\n%s", err, out)
	}
	db := filepath.Join(s.Dir, "tsubasa.db")
	if !strings.Contains(string(out), db) || !strings.Contains(string(out), "locked") {
		t.Errorf("the second server's error does not name the locked file %s:\n%s", db, out)
	}
	RequireServing(t, s)
}

// TestFaultDiskFull runs the server on a small tmpfs, fills it, and checks
// that writes fail with a clear error while reads go on, that the server
// recovers once space is freed, and that the file verifies afterwards with
// everything acknowledged in it. It needs to mount a tmpfs (root, mount
// permitted) and skips otherwise.
func TestFaultDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("disk-full test needs a small tmpfs, and mount failed (%v: %s); run as root where mount is permitted", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	s := StartWithMember(t, Options{Dir: dir})
	rp := NewRP(t, s, "web", "web-secret-0123456789")
	tok := LoginRP(t, rp, NewBrowser(t, s))

	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	admin := adminHTTP(filepath.Join(dir, "tsubasa.db.sock"))
	failed := false
	for i := 0; i < 300 && !failed; i++ {
		body := fmt.Sprintf(`{"number":"%d","password":"Umi-Sora-2026","family_name":"満杯","email":"full%d@example.com"}`, 5000000+i, i)
		resp, err := admin.Post("http://tsubasa-admin/v1/member/create", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("admin socket while the disk is full: %v", err)
		}
		resp.Body.Close()
		failed = resp.StatusCode != http.StatusOK
	}
	if !failed {
		t.Fatal("300 member creations on a full disk all succeeded")
	}
	out, code := runTsubasa(t.Context(), s, "member", "create", "--number", "5999999", "--password", "Umi-Sora-2026", "--family-name", "満杯")
	if code != 1 || !strings.Contains(out, "internal error") {
		t.Errorf("CLI create on a full disk: exit %d, want 1 with the error:\n%s", code, out)
	}
	if !strings.Contains(s.out.String(), "no space left on device") {
		t.Errorf("the server log does not say the disk is full")
	}
	// Reads go on: the member, userinfo with an earlier token, the keys.
	s.CLI(t, false, "member", "show", MemberNumber)
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("userinfo on a full disk: %v", err)
	}
	for _, p := range []string{"/keys", "/healthz", "/.well-known/openid-configuration"} {
		if status, err := RawStatus(mustRequest(t, s.Issuer+p)); err != nil || status != http.StatusOK {
			t.Errorf("GET %s on a full disk: %d %v", p, status, err)
		}
	}
	// An authorization request needs a small write, which may still fit in
	// pages bbolt freed: either way the server answers.
	status, err := RawStatus(mustRequest(t, rp.AuthURL(NewFlow())))
	if err != nil {
		t.Errorf("authorize on a full disk: %v", err)
	}
	t.Logf("authorize on a full disk: status %d", status)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.CLI(t, false, "member", "create", "--number", "5999998", "--password", "Umi-Sora-2026", "--family-name", "回復")
	RequireServing(t, s)
	s.Stop(t)
	if err := bolt.Verify(t.Context(), filepath.Join(dir, "tsubasa.db")); err != nil {
		t.Fatalf("database after the disk filled up: %v", err)
	}
	s.CLI(t, false, "member", "show", MemberNumber)
	s.CLI(t, false, "member", "show", "5999998")
}

// fillDisk writes to path until the file system is full (bounded by the
// tmpfs size).
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for i := 0; i < 1024; i++ { // 64 MiB at most: far beyond the 8 MiB tmpfs
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
	t.Fatal("the tmpfs never filled up")
}

func adminHTTP(socket string) *http.Client {
	var d net.Dialer
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", socket) },
	}}
}

func mustRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage"
)

func TestCLIMembers(t *testing.T) {
	t.Parallel()
	everyMode(t, func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps))) {
		out := e.ok("member", "create", "--number", "123-4567", "--password", "Blue-Sky-Flight-88",
			"--pin", "135790", "--family-name", "山田", "--given-name", "花子",
			"--family-name-latin", "yamada", "--given-name-latin", "hanako",
			"--email", "hanako@example.com", "--phone", "090-1234-5678", "--country", "JP", "--locale", "en")
		if !strings.Contains(out, "Created member 1234567") {
			t.Errorf("member create:\n%s", out)
		}

		e.fails(2, []string{"number", "7 or 9 digits"},
			"member", "create", "--number", "12345", "--family-name-latin", "SATO")
		e.fails(2, []string{"email"},
			"member", "create", "--number", "7654321", "--family-name-latin", "SATO", "--email", "sato..x@example.com")
		e.fails(2, []string{"password", "well-known"},
			"member", "create", "--number", "7654321", "--family-name-latin", "SATO", "--password", "password1")
		e.fails(1, []string{"member number 1234567 is taken"},
			"member", "create", "--number", "1234567", "--family-name-latin", "SATO")

		show := e.ok("member", "show", "1234567")
		for _, want := range []string{"山田 花子", "YAMADA HANAKO", "hanako@example.com (verified)",
			"+819012345678 (verified)", "JP", "en", "active", "email", "Has password:", "Has PIN:"} {
			if !strings.Contains(show, want) {
				t.Errorf("member show lacks %q:\n%s", want, show)
			}
		}
		var mv adminapi.MemberView
		e.okJSON(&mv, "member", "show", "1234567")
		if !mv.HasPassword || !mv.HasPIN || !mv.EmailVerified || !mv.PhoneVerified || mv.CreatedAt.IsZero() {
			t.Errorf("member show --json: %+v", mv)
		}
		jsonOut := e.ok("member", "show", "1234567", "--json")
		if strings.Contains(show+jsonOut, "$argon2") || strings.Contains(jsonOut, "hash") {
			t.Errorf("member show prints a hash:\n%s\n%s", show, jsonOut)
		}
		e.fails(1, []string{"no member 7654321"}, "member", "show", "7654321")
		e.fails(2, []string{`"abc" is not a member number`}, "member", "show", "abc")

		if out := e.ok("member", "disable", "1234567"); !strings.Contains(out, "now disabled") {
			t.Errorf("member disable: %s", out)
		}
		inspect(func(d *app.Deps) {
			m, err := d.Store.MemberByNumber(t.Context(), "1234567")
			if err != nil || m.Status != storage.MemberDisabled {
				t.Errorf("after disable: %v %v", m.Status, err)
			}
		})
		if out := e.ok("member", "enable", "1234567"); !strings.Contains(out, "now active") {
			t.Errorf("member enable: %s", out)
		}

		e.fails(2, []string{"password"}, "member", "set-password", "1234567", "--password", "short")
		e.fails(2, []string{"--password"}, "member", "set-password", "1234567")
		// The operator's path ends the member's sessions and tokens as the
		// member's own pages do.
		inspect(func(d *app.Deps) {
			m, _ := d.Store.MemberByNumber(t.Context(), "1234567")
			now := time.Now().UTC()
			if err := d.Store.CreateSession(t.Context(), storage.Session{ID: "cli-s1", MemberID: m.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := d.Store.CreateTokens(t.Context(), storage.Token{ID: "cli-r1", Kind: storage.RefreshToken, MemberID: m.ID, ClientID: "web",
				SessionID: "cli-s1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		})
		if out := e.ok("member", "set-password", "1234567", "--password", "Another-Route-2027"); !strings.Contains(out, "ended (1)") || !strings.Contains(out, "revoked (1 stored") {
			t.Errorf("member set-password:\n%s", out)
		}
		var hashAfter string
		inspect(func(d *app.Deps) {
			m, err := d.Store.MemberByNumber(t.Context(), "1234567")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Store.SessionByID(t.Context(), "cli-s1"); err == nil {
				t.Error("the member's session survived set-password")
			}
			if _, err := d.Store.TokenByID(t.Context(), "cli-r1"); err == nil {
				t.Error("the member's refresh token survived set-password")
			}
			ok, _, err := d.Hasher.Verify(t.Context(), m.PasswordHash, "Another-Route-2027")
			if !ok || err != nil {
				t.Errorf("new password does not verify: %v", err)
			}
			hashAfter = m.PasswordHash
		})

		// --password-stdin, through the root command to give it standard input.
		var stdout, stderr bytes.Buffer
		root := newRootCmd(&stdout, &stderr, "test")
		root.SetIn(strings.NewReader("Third-Sky-Path-2028\n"))
		root.SetArgs([]string{"--config", e.cfgPath, "member", "set-password", "1234567", "--password-stdin"})
		if err := root.ExecuteContext(t.Context()); err != nil {
			t.Fatalf("set-password --password-stdin: %v (%s)", err, stderr.String())
		}
		inspect(func(d *app.Deps) {
			m, _ := d.Store.MemberByNumber(t.Context(), "1234567")
			ok, _, err := d.Hasher.Verify(t.Context(), m.PasswordHash, "Third-Sky-Path-2028")
			if !ok || err != nil || m.PasswordHash == hashAfter {
				t.Errorf("password from stdin not set: %v", err)
			}
		})
	})
}

func TestCLIMemberImport(t *testing.T) {
	t.Parallel()
	everyMode(t, func(t *testing.T, e *cliEnv, _ func(func(d *app.Deps))) {
		dir := t.TempDir()
		good := filepath.Join(dir, "members.csv")
		csv := "number,family_name_latin,given_name_latin,email,country,pin\n" +
			"1111111,SUZUKI,ICHIRO,ichiro@example.com,JP,135790\n" +
			"12,TANAKA,JIRO,,JP,246802\n" +
			"222222222,SATO,HANA,,JP,975310\n"
		if err := os.WriteFile(good, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errs, code := e.run("member", "import", good)
		if code != 1 || !strings.Contains(errs, "1 rows were not imported") {
			t.Fatalf("import with a bad row: exit %d\n%s\n%s", code, out, errs)
		}
		if !strings.Contains(out, "Created 2 members") || !strings.Contains(out, "line 3:") {
			t.Errorf("import report:\n%s", out)
		}
		var again adminapi.ImportResult
		out, errs, code = e.run("member", "import", good, "--json")
		if code != 1 {
			t.Fatalf("re-import: exit %d: %s", code, errs)
		}
		if err := json.Unmarshal([]byte(out), &again); err != nil || again.Created != 0 || again.Skipped != 2 || len(again.Errors) != 1 {
			t.Errorf("re-import: %+v %v", again, err)
		}
		var mv adminapi.MemberView
		e.okJSON(&mv, "member", "show", "222222222")
		if !mv.HasPIN || mv.HasPassword || mv.EmailVerified {
			t.Errorf("imported member: %+v", mv)
		}

		bad := filepath.Join(dir, "bad.csv")
		if err := os.WriteFile(bad, []byte("number,favourite_colour\n1111111,blue\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		e.fails(2, []string{"favourite_colour"}, "member", "import", bad)
		empty := filepath.Join(dir, "empty.csv")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		e.fails(2, []string{"empty"}, "member", "import", empty)
	})
}

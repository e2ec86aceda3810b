package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestMigrateStorageFromBolt grows a programme from one box: data made on
// bbolt through the CLI and a login is copied into PostgreSQL with
// `tsubasa migrate-storage --from bolt PATH --to postgres URL`, which
// refuses while the bolt server holds the file, refuses without
// --secret-out while the bolt server's master secret was generated (the
// replicas need it), writes it 0600, reports and verifies the counts, and
// refuses to copy into the now non-empty database again. A server on
// PostgreSQL with that secret then serves the same member and password,
// the CLI-added client, the same signing keys (an ID token issued on bbolt
// verifies against the new JWKS) and the refresh token issued on bbolt,
// and the back office finds the member by email.
func TestMigrateStorageFromBolt(t *testing.T) {
	s := StartWithMember(t, Options{})
	out := s.CLI(t, false, "client", "add", "--id", "moved-app", "--name", "Moved app", "--redirect-uri", s.Issuer+"/rp/callback")
	m := cliSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	rp := NewRP(t, s, "web", "web-secret-0123456789", "openid", "offline_access")
	old := LoginRP(t, rp, NewBrowser(t, s))
	rawID, _ := old.Extra("id_token").(string)
	keysBefore := kids(t, s)

	db := PostgresURL(t)
	boltPath := filepath.Join(s.Dir, "tsubasa.db")
	secretFile := filepath.Join(t.TempDir(), "master.secret")
	move := func(wantErr bool, extra ...string) string {
		t.Helper()
		return s.CLI(t, wantErr, append([]string{"migrate-storage", "--from", "bolt", boltPath, "--to", "postgres", db}, extra...)...)
	}
	outputHas(t, "migrate-storage with the server running", move(true, "--secret-out", secretFile), "stop the server")
	s.Stop(t)
	outputHas(t, "migrate-storage of a generated secret without --secret-out", move(true), "--secret-out FILE")
	report := move(false, "--secret-out", secretFile)
	outputHas(t, "migrate-storage", report, "Wrote the generated master secret", "Every count verified",
		"authorization requests and codes, are not copied")
	for _, want := range []string{`members\s+1\n`, `clients\s+1\n`, `keys\s+3\n`, `tokens\s+1\n`, `secrets\s+1\n`} {
		if !regexp.MustCompile(want).MatchString(report) {
			t.Errorf("migrate-storage report does not match %s:\n%s", want, report)
		}
	}
	if fi, err := os.Stat(secretFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, mode %v", err, fi.Mode().Perm())
	}
	outputHas(t, "migrate-storage into a non-empty database", move(true, "--secret-out", secretFile+".2"), "not empty")

	p := Start(t, Options{Postgres: db, Port: s.portNumber(t), SecretFile: secretFile})
	if got := kids(t, p); !slices.Equal(got, keysBefore) {
		t.Errorf("published keys on PostgreSQL %v, on bbolt %v", got, keysBefore)
	}
	rp = NewRP(t, p, "web", "web-secret-0123456789", "openid", "offline_access")
	if _, err := rp.Verifier.Verify(t.Context(), rawID); err != nil {
		t.Errorf("an ID token issued on bbolt does not verify against the JWKS on PostgreSQL: %v", err)
	}
	if _, err := Refresh(t, rp, old.RefreshToken); err != nil {
		t.Errorf("a refresh token issued on bbolt does not refresh on PostgreSQL: %v", err)
	}
	LoginRP(t, rp, NewBrowser(t, p))
	LoginRP(t, NewRP(t, p, "moved-app", m[1]), NewBrowser(t, p))
	outputHas(t, "member show after the move", p.CLI(t, false, "member", "show", MemberNumber), "空野")
	// The copy writes the contact columns the back office's lookup reads.
	outputHas(t, "member find after the move", p.CLI(t, false, "member", "find", "--email", "hanako@example.com"), MemberNumber)
}

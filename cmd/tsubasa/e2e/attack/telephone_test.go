package attack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// The telephone PIN API and member-delegated tokens (review finding 5):
// any access token with scope telephone opened /api/telephone/verify,
// including one a member got by logging in through an authorization-code
// client that was allowed the scope, so whoever held a member's token
// (the app, or anyone who stole it) could test PINs of any member.

// startWithLegacyClient starts a server whose database holds a public app
// stored with telephone among its scopes, as
// `client add` allowed before: the database is written before the server
// starts, the way an existing deployment's file holds it.
func startWithLegacyClient(t *testing.T) *e2e.Server {
	t.Helper()
	dir, port := t.TempDir(), e2e.FreePort(t)
	st, err := bolt.Open(filepath.Join(dir, "tsubasa.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	err = st.CreateClient(t.Context(), storage.Client{
		ID: "legacy-app", Name: "Legacy app", Public: true,
		RedirectURIs: []string{fmt.Sprintf("http://127.0.0.1:%d/rp/callback", port)},
		GrantTypes:   []string{"authorization_code", "refresh_token"},
		Scopes:       []string{"openid", "profile", "membership", "telephone"},
		IDTokenAlg:   "RS256", CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return e2e.StartWithMember(t, e2e.Options{Dir: dir, Port: port})
}

type apiAnswer struct {
	status int
	header http.Header
	body   map[string]string
}

func telephoneVerify(t *testing.T, s *e2e.Server, token string) apiAnswer {
	t.Helper()
	body := fmt.Sprintf(`{"member_number":%q,"pin":"123456"}`, e2e.MemberNumber)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/api/telephone/verify", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := apiAnswer{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

// TestTelephoneAPIRefusesMemberDelegatedToken plays an app (or a thief of
// its tokens) that logs a member in through a client stored with the
// telephone scope and authorization_code, asks for telephone, and calls
// the PIN API with the member's access token. The scope is not granted to
// a member's login, the API refuses the token as the wrong kind (401
// invalid_token, saying why), and the operator is warned at start about
// the stored client. Before the fix the token carried telephone and the
// API answered the PIN check.
func TestTelephoneAPIRefusesMemberDelegatedToken(t *testing.T) {
	s := startWithLegacyClient(t)
	app := e2e.NewRP(t, s, "legacy-app", "", "openid", "membership", "telephone")
	tok := e2e.LoginRP(t, app, e2e.NewBrowser(t, s))
	if granted, _ := tok.Extra("scope").(string); slices.Contains(strings.Fields(granted), "telephone") {
		t.Errorf("a member's login was granted telephone (scope %q)", granted)
	}

	a := telephoneVerify(t, s, tok.AccessToken)
	if a.status != http.StatusUnauthorized || a.body["error"] != "invalid_token" ||
		!strings.Contains(a.body["error_description"], "client_credentials") {
		t.Fatalf("PIN check with a member's token: %d %v; want 401 invalid_token naming client_credentials", a.status, a.body)
	}
	if h := a.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q", h)
	}
	if _, ok := a.body["result"]; ok {
		t.Errorf("the API answered the PIN check: %v", a.body)
	}
	if out := s.Output(); !strings.Contains(out, "legacy-app") || !strings.Contains(out, "service scope in member logins") {
		t.Errorf("no start-up warning names the stored client:\n%s", out)
	}
}

// TestTelephoneScopeForMemberClientsRefusedInConfigAndCLI plays an
// operator (or a change slipped into a deployment) giving telephone to a
// client that logs members in: the server refuses to start, naming the
// scope's key path, and `client add` refuses with a message saying what
// to change. The call centre's own client_credentials client keeps the
// scope. Before the fix both were accepted.
func TestTelephoneScopeForMemberClientsRefusedInConfigAndCLI(t *testing.T) {
	s := e2e.Start(t, e2e.Options{})
	out := s.CLI(t, true, "client", "add", "--id", "member-app", "--redirect-uri", s.Issuer+"/rp/callback",
		"--scope", "openid", "--scope", "telephone")
	if !strings.Contains(out, `scopes[1] "telephone"`) || !strings.Contains(out, "remove authorization_code") {
		t.Errorf("client add with telephone and authorization_code:\n%s", out)
	}
	out = s.CLI(t, true, "client", "add", "--id", "member-spa", "--public", "--redirect-uri", s.Issuer+"/rp/callback",
		"--scope", "openid", "--scope", "telephone")
	if !strings.Contains(out, `scopes[1] "telephone"`) || !strings.Contains(out, "public client") {
		t.Errorf("client add of a public client with telephone:\n%s", out)
	}

	cfg, err := os.ReadFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(cfg), "clients:\n", "clients:\n  - id: member-app\n    secret: member-app-secret-0123456789\n"+
		"    redirect_uris: ["+s.Issuer+"/rp/callback]\n    scopes: [openid, telephone]\n", 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	out = (&e2e.Server{Config: path}).CLI(t, true, "serve")
	if !strings.Contains(out, "clients[0].scopes[1]") || !strings.Contains(out, "telephone") {
		t.Errorf("serve with telephone on an authorization_code client:\n%s", out)
	}
}

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// kids returns the key ids the server publishes.
func kids(t *testing.T, s *Server) []string {
	t.Helper()
	var out []string
	for _, k := range JWKS(t, s) {
		out = append(out, k.Kid)
	}
	slices.Sort(out)
	return out
}

// activeKids returns the active keys' ids, as the CLI lists them.
func kidsWithStatus(t *testing.T, s *Server, status string) []string {
	t.Helper()
	var keys []struct{ Kid, Status string }
	if err := json.Unmarshal([]byte(s.CLI(t, false, "keys", "list", "--json")), &keys); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if k.Status == status {
			out = append(out, k.Kid)
		}
	}
	return out
}

// headerKid is the kid in a JWT's header.
func headerKid(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// replica starts another server on db that shares a's issuer, as a
// replica behind a load balancer does; it listens on a port of its own,
// its Issuer field being that address.
func replica(t *testing.T, a *Server, db string) *Server {
	t.Helper()
	return Start(t, Options{Postgres: db, Env: []string{"TSUBASA_ISSUER=" + a.Issuer}})
}

// on returns rp with its token endpoint on replica s.
func on(rp *RP, s *Server) *RP {
	c := *rp
	c.OAuth.Endpoint.TokenURL = s.Issuer + "/oauth/token"
	return &c
}

// TestPostgresReplicasShareOneDatabase runs two replicas on one PostgreSQL
// database, as a load balancer without stickiness would use them: a code
// minted on one is exchanged on the other and refreshed on the first; the
// replay of the rotated refresh token on the other replica revokes the
// family on both (single use holds across processes); the CLI works
// against the database while both run (member create and show, client
// add, keys rotate, events) without an admin socket; a client the CLI
// adds logs in through both; and a key rotation made by the CLI is
// published and used for signing by both replicas within their reload
// period.
func TestPostgresReplicasShareOneDatabase(t *testing.T) {
	db := PostgresURL(t)
	a := StartWithMember(t, Options{Postgres: db})
	b := replica(t, a, db)
	rp := NewRP(t, a, "web", "web-secret-0123456789", "openid", "offline_access")

	f := NewFlow()
	tok, _ := MustExchange(t, on(rp, b), f, Login(t, NewBrowser(t, a), rp.AuthURL(f), MemberNumber, MemberPass))
	next, err := Refresh(t, rp, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh on replica a of a token minted on b: %v", err)
	}
	if _, err := Refresh(t, on(rp, b), tok.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Fatalf("replay of a rotated refresh token on the other replica: %v, want invalid_grant", err)
	}
	if _, err := Refresh(t, rp, next.RefreshToken); !IsOAuthError(err, "invalid_grant") {
		t.Fatalf("the family survived the replay: %v, want invalid_grant", err)
	}

	if _, err := os.Stat(a.Dir + "/tsubasa.db.sock"); err == nil {
		t.Error("an admin socket exists on PostgreSQL")
	}
	a.CLI(t, false, "member", "create", "--number", "2345678", "--password", "Kumo-Sora-2026", "--family-name", "雲野")
	if out := b.CLI(t, false, "member", "show", "2345678"); !strings.Contains(out, "雲野") {
		t.Errorf("member show through the other replica's config:\n%s", out)
	}
	out := a.CLI(t, false, "client", "add", "--id", "cluster-app", "--name", "Cluster app", "--redirect-uri", a.Issuer+"/rp/callback")
	m := cliSecretRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("client add showed no secret:\n%s", out)
	}
	app := NewRP(t, a, "cluster-app", m[1])
	f = NewFlow()
	MustExchange(t, on(app, b), f, Login(t, NewBrowser(t, a), app.AuthURL(f), MemberNumber, MemberPass))

	// A rotation by the CLI publishes the new keys on every replica at
	// once and signs with them two minutes later (the old ones sign until
	// then): every relying party's cached key set has them first.
	before := kidsWithStatus(t, a, "active")
	a.CLI(t, false, "keys", "rotate")
	pending := kidsWithStatus(t, a, "pending")
	if len(pending) != 3 || !slices.Equal(kidsWithStatus(t, a, "active"), before) {
		t.Fatalf("keys rotate: pending %v, active %v; want three new keys (RS256, ES256, PS256) pending and %v still active", pending,
			kidsWithStatus(t, a, "active"), before)
	}
	for _, s := range []*Server{a, b} {
		waitPublished(t, s, pending)
	}
	f = NewFlow()
	signed, _ := MustExchange(t, on(rp, b), f, Login(t, NewBrowser(t, a), rp.AuthURL(f), MemberNumber, MemberPass))
	if kid := headerKid(t, signed.Extra("id_token").(string)); !slices.Contains(before, kid) {
		t.Errorf("replica b signs with %s right after the CLI's rotation, want a key still active %v (the new ones sign later)", kid, before)
	}
	if events := a.CLI(t, false, "events", "--member", MemberNumber); !strings.Contains(events, "login") {
		t.Errorf("events after logins on both replicas:\n%s", events)
	}
}

// waitPublished waits (two of the key ring's 15 s reload periods and some
// room; the store's change notification usually brings it at once) until s
// publishes every kid in want.
func waitPublished(t *testing.T, s *Server, want []string) {
	t.Helper()
	deadline := time.Now().Add(35 * time.Second)
	for {
		got := kids(t, s)
		missing := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return slices.Contains(got, k) })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not publish %v after a CLI rotation (publishes %v)", s.Issuer, missing, got)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

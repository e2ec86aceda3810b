package replicas

import (
	"net/http"
	"net/url"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/storage/postgres/pgtest"
)

// TestReplicasCodeOfSessionEndedOnAnotherReplicaMintsNothing: a logout
// on replica 0 that replica 1 has not heard of yet, the window held open
// by stalling the replicas' listeners (pgtest.StallListeners) under a
// revocation_delay of 30 s. Replica 1 still accepts the session's access
// token from its caches, as the bound allows, but refuses the session's
// code, issued before the logout and presented after it: the tokens it
// would mint are created after the logout's revocation, which does not
// cover them, and would work for hours on every replica. The exchange
// reads the database itself (storage.Fresh). The session's refresh token
// is refused there at once too: the logout deleted its row.
func TestReplicasCodeOfSessionEndedOnAnotherReplicaMintsNothing(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{Env: []string{"TSUBASA_STORAGE_POSTGRES_REVOCATION_DELAY=30s"}}, 2)
	e2e.CreateTestMember(t, c.Server)
	rp := e2e.NewRP(t, c.Server, "web", e2e.WebSecret, "openid", "offline_access")
	b := e2e.NewBrowser(t, c.Server)
	tok := e2e.LoginRP(t, rp, b)
	hint, _ := tok.Extra("id_token").(string)
	f := e2e.NewFlow()
	cb := e2e.Callback(t, b.Get(t, rp.AuthURL(f))) // the same session's next code, on its way to the app
	if cb.Query().Get("code") == "" {
		t.Fatalf("the session's second authorization: %s, want a code", cb)
	}

	pgtest.StallListeners(t, c.Database)
	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {c.Issuer + "/rp/bye"}, "state": {"bye"}}
	if p := b.Get(t, c.Replicas[0].Base+"/end_session?"+q.Encode()); p.Location != c.Issuer+"/rp/bye?state=bye" {
		t.Fatalf("logout on replica 0: %d to %q, want the app's bye page", p.Status, p.Location)
	}
	if st := userinfoStatus(t, c.Replicas[1].Base, tok.AccessToken); st != http.StatusOK {
		t.Fatalf("the session's access token on replica 1 after the logout: %d; want 200 from its stale caches "+
			"(this test no longer plays a replica that has not heard of the logout)", st)
	}
	status, minted, err := exchange(t.Context(), c.Replicas[1].Base, f, cb)
	if err != nil || status != http.StatusBadRequest || minted.Error != "invalid_grant" || minted.Access != "" {
		t.Errorf("the ended session's code on replica 1: %d %q (%s), %v; want 400 invalid_grant and no token", status, minted.Error, minted.Desc, err)
	}
	status, rotated, err := refresh(t.Context(), c.Replicas[1].Base, tok.RefreshToken)
	if err != nil || status != http.StatusBadRequest || rotated.Error != "invalid_grant" || rotated.Access != "" {
		t.Errorf("the ended session's refresh token on replica 1: %d %q, %v; want 400 invalid_grant and no token", status, rotated.Error, err)
	}
}

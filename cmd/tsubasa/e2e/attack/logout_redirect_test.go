package attack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// TestAttackPostLogoutRedirectNeverFollowed: end_session used as an open
// redirect, or with a hint that is not what it claims. No
// post_logout_redirect_uri but one registered exactly for the client is
// followed: not a variation of a registered one, not another client's
// through its hint, not another loopback port of a native app's (which op
// allowed for native clients, against §3's exact match). A tampered hint,
// or another client's with this client's URI, is refused. Every refusal
// is a page in the member's language that says they are still logged in
// and offers the logout question; nothing is ended.
func TestAttackPostLogoutRedirectNeverFollowed(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	native := fmt.Sprintf("http://127.0.0.1:%d", e2e.FreePort(t))
	s.CLI(t, false, "client", "add", "--id", "kiosk-app", "--public", "--name", "Kiosk app",
		"--redirect-uri", native+"/cb", "--post-logout-redirect-uri", native+"/bye")
	m := logIn(t, s)
	es := e2e.NewRP(t, s, "web-es256", "es-secret-0123456789")
	esTok := e2e.LoginRP(t, es, e2e.NewBrowser(t, s))
	esHint, _ := esTok.Extra("id_token").(string)

	registered := s.Issuer + "/rp/bye"
	host := strings.TrimPrefix(s.Issuer, "http://")
	for name, q := range map[string]url.Values{
		"other host":              {"client_id": {"web"}, "post_logout_redirect_uri": {"https://evil.example/rp/bye"}},
		"trailing slash":          {"id_token_hint": {m.hint}, "post_logout_redirect_uri": {registered + "/"}},
		"query added":             {"id_token_hint": {m.hint}, "post_logout_redirect_uri": {registered + "?foo=bar"}},
		"fragment":                {"client_id": {"web"}, "post_logout_redirect_uri": {registered + "#x"}},
		"upper-case scheme":       {"client_id": {"web"}, "post_logout_redirect_uri": {"HTTP://" + host + "/rp/bye"}},
		"userinfo":                {"client_id": {"web"}, "post_logout_redirect_uri": {"http://" + host + "@evil.example/rp/bye"}},
		"no client":               {"post_logout_redirect_uri": {registered}, "state": {"s"}},
		"unknown client":          {"client_id": {"nobody"}, "post_logout_redirect_uri": {registered}},
		"client without URIs":     {"client_id": {"web-es256"}, "post_logout_redirect_uri": {registered}},
		"other client's hint":     {"id_token_hint": {esHint}, "post_logout_redirect_uri": {registered}},
		"hint and client_id":      {"id_token_hint": {esHint}, "client_id": {"web"}, "post_logout_redirect_uri": {registered}},
		"tampered hint":           {"id_token_hint": {tamper(t, m.hint)}, "post_logout_redirect_uri": {registered}},
		"unsigned hint":           {"id_token_hint": {unsigned(t, m.hint)}, "post_logout_redirect_uri": {registered}},
		"repeated URI":            {"client_id": {"web"}, "post_logout_redirect_uri": {registered, "https://evil.example/"}},
		"native, other port":      {"client_id": {"kiosk-app"}, "post_logout_redirect_uri": {fmt.Sprintf("http://127.0.0.1:%d/bye", e2e.FreePort(t))}},
		"native, localhost alias": {"client_id": {"kiosk-app"}, "post_logout_redirect_uri": {strings.Replace(native, "127.0.0.1", "localhost", 1) + "/bye"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := m.b.Get(t, s.Issuer+"/end_session?"+q.Encode())
			if p.Location != "" || p.Status != http.StatusBadRequest {
				t.Fatalf("%d, Location %q; want 400 and no redirect", p.Status, p.Location)
			}
			for _, want := range []string{`<html lang="ja">`, "ログアウトできませんでした", "ログインしたままです", `href="/logout"`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("the refusal is not the hosted page saying the member is still logged in (no %q):\n%s", want, p.Body)
				}
			}
		})
	}
	m.assertLoggedIn(t, "a refused end_session")
}

// tamper changes the subject in the hint's payload and keeps its signature.
func tamper(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	claims := payload(t, parts[1])
	claims["sub"] = "someone-else"
	b, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// unsigned re-issues the hint's claims with alg none.
func unsigned(t *testing.T, jwt string) string {
	t.Helper()
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return head + "." + strings.Split(jwt, ".")[1] + "."
}

func payload(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

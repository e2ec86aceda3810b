package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"
)

// demo is the relying party: one confidential client of the issuer.
type demo struct {
	issuer   string
	clientID string
	oauth    oauth2.Config
	cookie   *securecookie.SecureCookie

	once     sync.Once
	provider *oidc.Provider
	initErr  error
}

// New returns the demo relying party, to be served at /demo/: it logs in
// at issuer as the confidential client clientID with secret, whose
// redirect URI must be <issuer>/demo/callback.
func New(issuer, clientID, secret string) http.Handler {
	issuer = strings.TrimSuffix(issuer, "/")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	d := &demo{
		issuer:   issuer,
		clientID: clientID,
		oauth: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: secret,
			RedirectURL:  issuer + "/demo/callback",
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email", "phone", "membership"},
		},
		cookie: securecookie.New(key, nil),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/{$}", d.home)
	mux.HandleFunc("GET /demo/login", d.login)
	mux.HandleFunc("GET /demo/callback", d.callback)
	return mux
}

func (d *demo) init(ctx context.Context) error {
	d.once.Do(func() {
		d.provider, d.initErr = oidc.NewProvider(context.WithoutCancel(ctx), d.issuer)
		if d.initErr == nil {
			d.oauth.Endpoint = d.provider.Endpoint()
		}
	})
	return d.initErr
}

type demoFlow struct{ State, Nonce, Verifier, ACR string }

var demoPage = template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tsubasa demo app</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header class="site"><div class="brand">Demo relying party</div></header><main>
<h1>Tsubasa demo app</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .IDToken}}
<div class="card"><h2>ID token claims</h2><pre>{{.IDToken}}</pre></div>
<div class="card"><h2>Userinfo</h2><pre>{{.Userinfo}}</pre></div>
<p><a class="button" href="{{.Logout}}">Log out</a> <a class="button" href="/demo/">Back</a></p>
{{else}}
<div class="card"><p>This page plays a member-facing website. Log in through Tsubasa with the demo member printed in the console.</p>
<p><a class="button" href="/demo/login">Log in with Tsubasa</a></p>
<p><a class="button" href="/demo/login?acr=urn:tsubasa:acr:otp">Log in with a one-time password (step-up)</a></p></div>
{{end}}
</main></body></html>`))

type demoData struct{ Error, IDToken, Userinfo, Logout string }

func (d *demo) render(w http.ResponseWriter, data demoData) {
	var buf bytes.Buffer
	if err := demoPage.Execute(&buf, data); err != nil {
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	_, _ = buf.WriteTo(w)
}

func (d *demo) home(w http.ResponseWriter, _ *http.Request) { d.render(w, demoData{}) }

func (d *demo) login(w http.ResponseWriter, r *http.Request) {
	if err := d.init(r.Context()); err != nil {
		d.render(w, demoData{Error: "discovery failed: is the issuer reachable from the server itself?"})
		return
	}
	f := demoFlow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), ACR: r.URL.Query().Get("acr")}
	enc, err := d.cookie.Encode("demo_flow", f)
	if err != nil {
		http.Error(w, "cookie", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "demo_flow", Value: enc, Path: "/demo/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if f.ACR != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", f.ACR))
	}
	http.Redirect(w, r, d.oauth.AuthCodeURL(f.State, opts...), http.StatusFound)
}

func (d *demo) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := d.init(ctx); err != nil {
		d.render(w, demoData{Error: "discovery failed"})
		return
	}
	var f demoFlow
	c, err := r.Cookie("demo_flow")
	if err != nil || d.cookie.Decode("demo_flow", c.Value, &f) != nil || r.URL.Query().Get("state") != f.State {
		d.render(w, demoData{Error: "The login could not be matched to this browser (state mismatch). Start again."})
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		d.render(w, demoData{Error: "Tsubasa answered: " + e + " " + r.URL.Query().Get("error_description")})
		return
	}
	tok, err := d.oauth.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		d.render(w, demoData{Error: "The code exchange failed."})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := d.provider.Verifier(&oidc.Config{ClientID: d.clientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != f.Nonce {
		d.render(w, demoData{Error: "The ID token did not verify."})
		return
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	var info map[string]any
	if err == nil {
		_ = ui.Claims(&info)
	}
	q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {d.issuer + "/demo/"}, "client_id": {d.clientID}}
	d.render(w, demoData{IDToken: pretty(claims), Userinfo: pretty(info), Logout: d.issuer + "/end_session?" + q.Encode()})
}

func pretty(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

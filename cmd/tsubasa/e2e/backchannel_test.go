package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"tsubasa/provider/notify/notifytest"
)

// OpenID Connect Back-Channel Logout 1.0: every way a session ends sends
// a signed logout token to each client that was given a code from it,
// through the durable outbox. The relying party here is a LogoutReceiver
// registered as the client's backchannel_logout_uri, and checks each
// token as an RP library would (VerifyLogoutToken). The attacks are in
// attack/backchannel_test.go.

const bclSecret = "bcl-secret-0123456789"

// bclClient is the config of client "bcl", which takes logout tokens at
// uri, and lets the outbound client reach the test's loopback receiver.
func bclClient(uri string) string {
	return "  - id: bcl\n    secret: " + bclSecret + "\n    name: Logout-aware site\n" +
		"    redirect_uris: [RP/rp/callback]\n    post_logout_redirect_uris: [RP/rp/bye]\n" +
		"    backchannel_logout_uri: " + uri + "\n    backchannel_logout_session_required: true\n" +
		"outbound:\n  allow_private_networks: true\n"
}

type bclEnv struct {
	o    Options
	s    *Server
	rp   *RP
	recv *LogoutReceiver
	smtp *notifytest.SMTPServer
}

// startBCL starts a server with the member, client bcl and a receiver.
func startBCL(t *testing.T, extra string) *bclEnv {
	t.Helper()
	recv := NewLogoutReceiver(t)
	smtp := notifytest.NewSMTPServer(t)
	o := Options{Port: FreePort(t)}
	_, o.SMTPPort = smtp.Addr()
	issuer := "http://127.0.0.1:" + strconv.Itoa(o.Port)
	o.Extra = strings.ReplaceAll(bclClient(recv.URL), "RP/", issuer+"/") + extra
	s := StartWithMember(t, o)
	return &bclEnv{o: o, s: s, rp: NewRP(t, s, "bcl", bclSecret), recv: recv, smtp: smtp}
}

// login logs the member in through bcl in a new browser and returns the
// browser and the ID token's sid, sub and raw form.
func (e *bclEnv) login(t *testing.T) (b *Browser, sid, sub, raw string) {
	t.Helper()
	b = NewBrowser(t, e.s)
	f := NewFlow()
	tok, idt := MustExchange(t, e.rp, f, Login(t, b, e.rp.AuthURL(f), MemberNumber, MemberPass))
	var c struct {
		SID string `json:"sid"`
	}
	if err := idt.Claims(&c); err != nil || c.SID == "" {
		t.Fatalf("the ID token of a client with backchannel_logout_session_required has no sid (%v)", err)
	}
	raw, _ = tok.Extra("id_token").(string)
	return b, c.SID, idt.Subject, raw
}

// expectLogout waits for the n-th logout request and checks that it is a
// form POST whose token, verified, names session sid of subject sub.
func (e *bclEnv) expectLogout(t *testing.T, n int, sid, sub string) LogoutClaims {
	t.Helper()
	got := e.recv.Wait(t, n, 60*time.Second)[n-1]
	if got.Method != http.MethodPost || got.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("logout request %s with Content-Type %q, want a form POST", got.Method, got.ContentType)
	}
	c := VerifyLogoutToken(t, e.s, "bcl", got.Token)
	if c.SID != sid || c.Subject != sub {
		t.Errorf("logout token for sid %q sub %q, want sid %q sub %q", c.SID, c.Subject, sid, sub)
	}
	return c
}

func TestBackchannelLogoutRPInitiated(t *testing.T) {
	e := startBCL(t, "")
	b, sid, sub, raw := e.login(t)
	// A second session of another browser stays, and hears nothing.
	_, other, _, _ := e.login(t)
	p := b.Get(t, e.s.Issuer+"/end_session?"+url.Values{
		"id_token_hint": {raw}, "post_logout_redirect_uri": {e.s.Issuer + "/rp/bye"}, "client_id": {"bcl"},
	}.Encode())
	if !strings.HasPrefix(p.Location, e.s.Issuer+"/rp/bye") {
		t.Fatalf("logout with a valid hint: %d at %s (Location %q)", p.Status, p.URL, p.Location)
	}
	first := e.expectLogout(t, 1, sid, sub)
	if sid == other {
		t.Fatal("two browsers share a sid")
	}
	// The member logs in again and out once more: a new token, a new jti.
	b2, sid2, _, raw2 := e.login(t)
	b2.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {raw2}, "client_id": {"bcl"},
		"post_logout_redirect_uri": {e.s.Issuer + "/rp/bye"}}.Encode())
	second := e.expectLogout(t, 2, sid2, sub)
	if first.JTI == second.JTI {
		t.Errorf("two logout tokens share the jti %q", first.JTI)
	}
	for _, r := range e.recv.Received() {
		if c := VerifyLogoutToken(t, e.s, "bcl", r.Token); c.SID == other {
			t.Errorf("the session that did not end was logged out at the relying party")
		}
	}
}

func TestBackchannelLogoutSignOutDeviceAndEverywhere(t *testing.T) {
	e := startBCL(t, "")
	a := newDevice(t, e.s, uaWindowsChrome)
	b := newDevice(t, e.s, uaIPhoneSafari)
	fa, fb := NewFlow(), NewFlow()
	_, idA := MustExchange(t, e.rp, fa, Login(t, a, e.rp.AuthURL(fa), MemberNumber, MemberPass))
	_, idB := MustExchange(t, e.rp, fb, Login(t, b, e.rp.AuthURL(fb), MemberNumber, MemberPass))
	sidOf := func(idt interface{ Claims(any) error }) string {
		var c struct {
			SID string `json:"sid"`
		}
		_ = idt.Claims(&c)
		return c.SID
	}
	devices := accountPage(t, a, e.smtp, e.s.Issuer+"/account/devices")
	ids := deviceIDs(devices.Body)
	if ids["iPhone"] == "" {
		t.Fatalf("devices page lists %v", ids)
	}
	a.Post(t, devices.URL, "/account/devices/"+ids["iPhone"]+"/signout", nil)
	e.expectLogout(t, 1, sidOf(idB), idB.Subject)

	// Everywhere: this browser's session too (the account page's login
	// shares it).
	page := accountPage(t, a, e.smtp, e.s.Issuer+"/account/devices")
	a.Post(t, page.URL, "/account/signout-all", nil)
	e.expectLogout(t, 2, sidOf(idA), idA.Subject)
}

func TestBackchannelLogoutNotMe(t *testing.T) {
	e := startBCL(t, "")
	_, sid, sub, _ := e.login(t)
	a := NewBrowser(t, e.s)
	confirm := accountPage(t, a, e.smtp, e.s.Issuer+"/account/not-me")
	a.Post(t, confirm.URL, "/account/not-me", nil)
	e.expectLogout(t, 1, sid, sub)
}

func TestBackchannelLogoutPasswordReset(t *testing.T) {
	e := startBCL(t, "")
	_, sid, sub, _ := e.login(t)
	b := NewBrowser(t, e.s)
	login := b.Get(t, e.rp.AuthURL(NewFlow(), oauth2.SetAuthURLParam("ui_locales", "en")))
	id := login.AuthRequestID(t)
	form := b.Get(t, e.s.Issuer+"/login/reset?authRequestID="+id)
	sent := b.Post(t, form.URL, "/login/reset", url.Values{"authRequestID": {id}, "member_number": {MemberNumber}})
	_, code := MailCode(t, e.smtp, 1)
	pw := b.Post(t, sent.URL, "/login/reset/code", url.Values{"otp": {code}})
	const newPass = "Aozora-Tsubasa-2027"
	done := b.Post(t, pw.URL, "/login/reset/password", url.Values{"new_password": {newPass}, "confirm_password": {newPass}})
	if done.URL.Path != "/login/reset/done" {
		t.Fatalf("reset: %d at %s", done.Status, done.URL)
	}
	e.expectLogout(t, 1, sid, sub)
}

func TestBackchannelLogoutMemberDisabled(t *testing.T) {
	e := startBCL(t, "")
	_, sid, sub, _ := e.login(t)
	e.s.CLI(t, false, "member", "disable", MemberNumber)
	e.expectLogout(t, 1, sid, sub)
}

// The relying party answers 500, then 200: the outbox tries again, with a
// freshly signed token.
func TestBackchannelLogoutRetriesAfterServerError(t *testing.T) {
	e := startBCL(t, "")
	b, sid, sub, raw := e.login(t)
	e.recv.Answer(http.StatusInternalServerError)
	b.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {raw}, "client_id": {"bcl"},
		"post_logout_redirect_uri": {e.s.Issuer + "/rp/bye"}}.Encode())
	first := e.expectLogout(t, 1, sid, sub)
	second := e.expectLogout(t, 2, sid, sub)
	if first.JTI == second.JTI {
		t.Error("the retry carried the same token: each try must sign a new one")
	}
}

// A relying party that hangs does not hold up the member's logout: the
// logout answers while the relying party still holds its answer.
func TestBackchannelLogoutSlowRelyingPartyDoesNotDelayLogout(t *testing.T) {
	e := startBCL(t, "  timeout: 1m\n")
	b, sid, sub, raw := e.login(t)
	e.recv.Hold()
	done := make(chan Page, 1)
	go func() {
		done <- b.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {raw}, "client_id": {"bcl"},
			"post_logout_redirect_uri": {e.s.Issuer + "/rp/bye"}}.Encode())
	}()
	select {
	case p := <-done:
		if !strings.HasPrefix(p.Location, e.s.Issuer+"/rp/bye") {
			t.Fatalf("logout: %d at %s", p.Status, p.URL)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("the logout waited for a relying party that never answers")
	}
	e.recv.Release()
	e.expectLogout(t, 1, sid, sub)
}

// The server dies (SIGKILL) right after the logout, before the relying
// party heard of it: the restarted server delivers it.
func TestBackchannelLogoutSurvivesSIGKILL(t *testing.T) {
	e := startBCL(t, "")
	b, sid, sub, raw := e.login(t)
	e.recv.Answer(http.StatusServiceUnavailable) // the first try fails: the message is still pending when killed
	b.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {raw}, "client_id": {"bcl"},
		"post_logout_redirect_uri": {e.s.Issuer + "/rp/bye"}}.Encode())
	e.recv.Wait(t, 1, 60*time.Second)
	e.s.sigkill(t)
	e.s = restartOnSameData(t, e.s, e.o)
	e.expectLogout(t, 2, sid, sub)
}

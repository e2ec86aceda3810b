package attack

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
)

// Back-channel logout played by an attacker: a client registered (by an
// operator tricked, or an admin account stolen) with a
// backchannel_logout_uri into the provider's own network, and relying
// parties hoping to learn of sessions that were never theirs.

// addBCLClient adds, through the admin API, a client whose logout tokens
// go to uri, and returns the answer.
func addBCLClient(t *testing.T, s *e2e.Server, id, uri string) e2e.AdminAnswer {
	t.Helper()
	return e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/clients", e2e.OpsToken(t, s),
		`{"id":"`+id+`","redirect_uris":["`+s.Issuer+`/rp/callback"],"backchannel_logout_uri":"`+uri+`"}`)
}

// TestAttackBackchannelLogoutURIIntoPrivateNetwork: loopback, a private
// address and the cloud metadata address as backchannel_logout_uri are
// refused with the key named, in the config file, by the CLI and by the
// admin API, unless outbound.allow_private_networks is true.
func TestAttackBackchannelLogoutURIIntoPrivateNetwork(t *testing.T) {
	out := e2e.ServeFails(t, e2e.Options{Extra: "  - id: inside\n    secret: inside-secret-0123456789\n" +
		"    redirect_uris: [https://rp.example/cb]\n    backchannel_logout_uri: http://127.0.0.1:9090/metrics\n"})
	if !strings.Contains(out, "clients[5].backchannel_logout_uri") || !strings.Contains(out, "allow_private_networks") {
		t.Errorf("the config file's loopback backchannel_logout_uri was not refused by its key:\n%s", out)
	}
	s := e2e.StartWithMember(t, e2e.Options{})
	for id, uri := range map[string]string{
		"loopback":  "http://127.0.0.1:9090/metrics",
		"localhost": "http://localhost:9090/",
		"private":   "https://10.0.0.7/logout",
		"metadata":  "https://169.254.169.254/latest/meta-data/",
		"mapped":    "https://[::ffff:192.168.1.1]/logout",
	} {
		cli := s.CLI(t, true, "client", "add", "--id", id, "--redirect-uri", s.Issuer+"/rp/callback",
			"--backchannel-logout-uri", uri)
		if !strings.Contains(cli, "backchannel_logout_uri") {
			t.Errorf("CLI, %s (%s): the refusal does not name the key:\n%s", id, uri, cli)
		}
		a := addBCLClient(t, s, id, uri)
		if a.Status != http.StatusBadRequest && a.Status != http.StatusUnprocessableEntity || !strings.Contains(string(a.Body), "backchannel_logout_uri") {
			t.Errorf("admin API, %s (%s): %d %s, want a refusal naming backchannel_logout_uri", id, uri, a.Status, a.Body)
		}
	}
	// With the setting on, the same address is a partner's on a private
	// network, and is taken.
	open := e2e.StartWithMember(t, e2e.Options{Extra: "outbound:\n  allow_private_networks: true\n"})
	if a := addBCLClient(t, open, "inside", "http://127.0.0.1:9090/logout"); a.Status != http.StatusCreated {
		t.Errorf("with allow_private_networks the loopback URI was refused: %d %s", a.Status, a.Body)
	}
}

// TestAttackBackchannelLogoutNameResolvingToLoopback: a host name that
// passes every check on the URL but resolves to 127.0.0.1 (DNS
// rebinding, an internal name): the logout is tried, refused on the
// address actually connected to, and the server inside never sees a
// connection.
func TestAttackBackchannelLogoutNameResolvingToLoopback(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("no host name: %v", err)
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 || !net.ParseIP(addrs[0]).IsLoopback() {
		t.Skipf("the host name %q does not resolve to loopback here (%v %v): nothing to rebind to", host, addrs, err)
	}
	var conns atomic.Int64
	inside := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	inside.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	inside.StartTLS()
	t.Cleanup(inside.Close)
	port := inside.URL[strings.LastIndex(inside.URL, ":")+1:]

	s := e2e.StartWithMember(t, e2e.Options{})
	a := addBCLClient(t, s, "rebind", "https://"+host+":"+port+"/logout")
	var created adminapi.ClientOutput
	if a.JSON(t, &created); a.Status != http.StatusCreated {
		t.Fatalf("a public-looking name was refused at registration: %d %s", a.Status, a.Body)
	}
	rp := e2e.NewRP(t, s, "rebind", created.Secret)
	b := e2e.NewBrowser(t, s)
	f := e2e.NewFlow()
	tok, _ := e2e.MustExchange(t, rp, f, e2e.Login(t, b, rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass))
	raw, _ := tok.Extra("id_token").(string)
	b.Get(t, s.Issuer+"/end_session?"+url.Values{"id_token_hint": {raw}, "client_id": {"rebind"}}.Encode())
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.Output(), "special-use") {
		if time.Now().After(deadline) {
			t.Fatalf("the logout to the rebinding name was never tried and refused:\n%s", s.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the server inside got %d connections", n)
	}
}

// TestAttackLogoutTokenNeverCarriesNonce: a logout token must never pass
// for an ID token (Back-Channel Logout 1.0 §2.4): no nonce, though the
// login that made the session sent one, and typ logout+jwt.
func TestAttackLogoutTokenNeverCarriesNonce(t *testing.T) {
	e := startTwoRPs(t)
	f := e2e.NewFlow()
	b := e2e.NewBrowser(t, e.s)
	tok, idt := e2e.MustExchange(t, e.a, f, e2e.Login(t, b, e.a.AuthURL(f), e2e.MemberNumber, e2e.MemberPass))
	if idt.Nonce != f.Nonce {
		t.Fatal("the ID token lost its nonce")
	}
	raw, _ := tok.Extra("id_token").(string)
	b.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {raw}, "client_id": {"bcl-a"}}.Encode())
	got := e.recvA.Wait(t, 1, 60*time.Second)[0]
	c := e2e.VerifyLogoutToken(t, e.s, "bcl-a", got.Token) // fails on a nonce
	parts := strings.Split(got.Token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if strings.Contains(string(payload), f.Nonce) || strings.Contains(string(payload), `"nonce"`) {
		t.Errorf("the logout token carries the login's nonce: %s", payload)
	}
	if c.Nonce != nil {
		t.Error("nonce claim present")
	}
}

// TestAttackBackchannelLogoutNoCrossClientLeak: a relying party that never
// got a code from a session learns nothing of its end: not its sid, not
// the member's sub.
func TestAttackBackchannelLogoutNoCrossClientLeak(t *testing.T) {
	e := startTwoRPs(t)
	one, two := e2e.NewBrowser(t, e.s), e2e.NewBrowser(t, e.s)
	fa, fb := e2e.NewFlow(), e2e.NewFlow()
	tokA, _ := e2e.MustExchange(t, e.a, fa, e2e.Login(t, one, e.a.AuthURL(fa), e2e.MemberNumber, e2e.MemberPass))
	tokB, _ := e2e.MustExchange(t, e.b, fb, e2e.Login(t, two, e.b.AuthURL(fb), e2e.MemberNumber, e2e.MemberPass))
	rawA, _ := tokA.Extra("id_token").(string)
	rawB, _ := tokB.Extra("id_token").(string)

	one.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {rawA}, "client_id": {"bcl-a"}}.Encode())
	sidA := e2e.VerifyLogoutToken(t, e.s, "bcl-a", e.recvA.Wait(t, 1, 60*time.Second)[0].Token).SID
	// The second logout's token reaches B after anything the first one
	// queued (the outbox delivers in order of queueing), so B having got
	// only its own proves it never got A's.
	two.Get(t, e.s.Issuer+"/end_session?"+url.Values{"id_token_hint": {rawB}, "client_id": {"bcl-b"}}.Encode())
	e.recvB.Wait(t, 1, 60*time.Second)
	for _, r := range e.recvB.Received() {
		if c := e2e.VerifyLogoutToken(t, e.s, "bcl-b", r.Token); c.SID == sidA {
			t.Errorf("client bcl-b, which never had the session, was told of its end (sid %s)", sidA)
		}
	}
	if n := len(e.recvB.Received()); n != 1 {
		t.Errorf("client bcl-b got %d logout tokens, want 1 (its own session's)", n)
	}
	if n := len(e.recvA.Received()); n != 1 {
		t.Errorf("client bcl-a got %d logout tokens, want 1 (its own session's)", n)
	}
}

type twoRPs struct {
	s            *e2e.Server
	a, b         *e2e.RP
	recvA, recvB *e2e.LogoutReceiver
}

// startTwoRPs starts a server with clients bcl-a and bcl-b, each taking
// logout tokens at its own receiver.
func startTwoRPs(t *testing.T) *twoRPs {
	t.Helper()
	ra, rb := e2e.NewLogoutReceiver(t), e2e.NewLogoutReceiver(t)
	port := e2e.FreePort(t)
	iss := "http://127.0.0.1:" + strconv.Itoa(port)
	client := func(id, uri string) string {
		return "  - id: " + id + "\n    secret: " + id + "-secret-0123456789\n    redirect_uris: [" + iss + "/rp/callback]\n" +
			"    backchannel_logout_uri: " + uri + "\n"
	}
	s := e2e.StartWithMember(t, e2e.Options{Port: port,
		Extra: client("bcl-a", ra.URL) + client("bcl-b", rb.URL) + "outbound:\n  allow_private_networks: true\n"})
	return &twoRPs{s: s, a: e2e.NewRP(t, s, "bcl-a", "bcl-a-secret-0123456789"), b: e2e.NewRP(t, s, "bcl-b", "bcl-b-secret-0123456789"),
		recvA: ra, recvB: rb}
}

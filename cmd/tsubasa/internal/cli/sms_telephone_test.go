package cli

import (
	"strings"
	"testing"
)

// client add refuses the telephone scope on a client that can act for a
// member (authorization_code, or public), naming the flag's value and
// saying what to change; a client_credentials client may have it.
func TestCLIClientAddRefusesTelephoneForMemberClients(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.fails(2, []string{`scopes[1] "telephone"`, "remove authorization_code from grant_types"},
		"client", "add", "--id", "cc-web", "--redirect-uri", "https://cc.example.com/cb",
		"--scope", "openid", "--scope", "telephone")
	e.fails(2, []string{`scopes[0] "telephone"`, "authorization_code"},
		"client", "add", "--id", "cc-both", "--redirect-uri", "https://cc.example.com/cb",
		"--grant-type", "client_credentials", "--grant-type", "authorization_code", "--scope", "telephone")
	e.fails(2, []string{`scopes[1] "telephone"`, "public client cannot have it"},
		"client", "add", "--id", "cc-app", "--public", "--redirect-uri", "http://127.0.0.1:8765/cb",
		"--scope", "openid", "--scope", "telephone")
	e.fails(1, []string{`no client "cc-web"`}, "client", "show", "cc-web")
	e.ok("client", "add", "--id", "call-centre", "--grant-type", "client_credentials", "--scope", "telephone")
}

// A phone that cannot receive SMS codes is kept (it is the member's phone
// claim) but the operator is told at once, and by member show, that no
// code will ever go there; a Japanese mobile gets no such note.
func TestCLIMemberCreateSaysWhenSMSCannotReachThePhone(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	out := e.ok("member", "create", "--number", "1000001", "--family-name", "空野", "--phone", "+44 7400 123456", "--country", "JP")
	if !strings.Contains(out, "SMS codes:") || !strings.Contains(out, "country (region GB; otp.sms_countries: JP)") {
		t.Errorf("member create with a UK number:\n%s", out)
	}
	if show := e.ok("member", "show", "1000001"); !strings.Contains(show, "never sent to this number: country") {
		t.Errorf("member show:\n%s", show)
	}
	out = e.ok("member", "create", "--number", "1000002", "--family-name", "空野", "--phone", "0990-12-3456", "--country", "JP")
	if !strings.Contains(out, "premium_rate (region JP") {
		t.Errorf("member create with a premium-rate number:\n%s", out)
	}
	if out := e.ok("member", "create", "--number", "1000003", "--family-name", "空野", "--phone", "090-1234-5678"); strings.Contains(out, "SMS codes") {
		t.Errorf("a Japanese mobile was noted:\n%s", out)
	}
}

package main

import (
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

package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
)

func listenUnixNoUnlink(path string) (*net.UnixListener, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false)
	return l, nil
}

// TestAdminAPIErrors checks the wire format: JSON errors with the field and
// a status that says what went wrong.
func TestAdminAPIErrors(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.startServer()
	c := newAdminClient(e.cfg.AdminSocket())
	post := func(op, body string) (int, map[string]string) {
		t.Helper()
		resp, err := c.http.Post("http://tsubasa-admin/v1/"+op, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", op, ct)
		}
		var m map[string]string
		if resp.StatusCode != http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatalf("%s: error body: %v", op, err)
			}
		}
		return resp.StatusCode, m
	}
	for _, tc := range []struct {
		name, op, body string
		status         int
		field, message string
	}{
		{"added", "client/add", `{"id":"web","redirect_uris":["https://web.example.com/cb"]}`, 200, "", ""},
		{"duplicate", "client/add", `{"id":"web","redirect_uris":["https://web.example.com/cb"]}`, 409, "id", `client "web" already exists`},
		{"config client", "client/add", `{"id":"from-file","redirect_uris":["https://x.example.com/cb"]}`, 409, "id", "config file"},
		{"relative redirect", "client/add", `{"id":"x","redirect_uris":["/cb"]}`, 400, "redirect_uris[0]", `"/cb"`},
		{"fragment", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb","https://x.example.com/cb#f"]}`, 400, "redirect_uris[1]", `"https://x.example.com/cb#f"`},
		{"wildcard", "client/add", `{"id":"x","redirect_uris":["https://*.example.com/cb"]}`, 400, "redirect_uris[0]", "wildcards"},
		{"bad grant", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb"],"grant_types":["password"]}`, 400, "grant_types[0]", `"password"`},
		{"bad scope", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb"],"scopes":["admin"]}`, 400, "scopes[0]", `"admin"`},
		{"bad alg", "client/add", `{"id":"x","redirect_uris":["https://x.example.com/cb"],"id_token_alg":"HS256"}`, 400, "id_token_alg", "HS256"},
		{"public with client credentials", "client/add", `{"id":"x","public":true,"grant_types":["client_credentials"]}`, 400, "grant_types[0]", "public"},
		{"unknown field", "client/add", `{"id":"x","secret":"mine"}`, 400, "", "malformed request"},
		{"missing client", "client/show", `{"id":"nobody"}`, 404, "", `no client "nobody"`},
		{"bad number", "member/create", `{"number":"12","family_name_latin":"SATO"}`, 400, "number", "7 or 9 digits"},
		{"missing member", "member/show", `{"number":"7654321"}`, 404, "", "no member 7654321"},
		{"bad status", "member/status", `{"number":"7654321","status":"gone"}`, 400, "status", "disabled or active"},
		{"unknown op", "nothing/here", `{}`, 404, "", "unknown operation"},
	} {
		status, body := post(tc.op, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, body)
			continue
		}
		if status == 200 {
			continue
		}
		if body["field"] != tc.field {
			t.Errorf("%s: field %q, want %q", tc.name, body["field"], tc.field)
		}
		if !strings.Contains(body["error"], tc.message) {
			t.Errorf("%s: error %q lacks %q", tc.name, body["error"], tc.message)
		}
	}
	// Only POST /v1/<op> exists.
	resp, err := c.http.Get("http://tsubasa-admin/v1/client/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("GET answered 200")
	}
}

// TestAdminPeerCheck accepts the server's own user (the peer credentials of
// a real connection are read without error).
func TestAdminPeerCheck(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	path := e.cfg.AdminSocket()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		errc <- checkPeer(c)
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-errc; err != nil {
		t.Errorf("checkPeer on own connection: %v", err)
	}
}

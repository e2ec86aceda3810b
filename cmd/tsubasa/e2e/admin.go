package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// The HTTP admin API's client side for the suites: tokens of the base
// config's admin-ops client (every admin scope) and requests to
// /admin/v1/….

// AdminClient and AdminSecret are the base config's admin API client.
const (
	AdminClient = "admin-ops"
	AdminSecret = "admin-ops-secret-0123456789"
)

// AdminToken is a client_credentials token of clientID with the scopes
// (space-separated in one string, or several).
func AdminToken(t *testing.T, s *Server, clientID, secret string, scopes ...string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(scopes, " ")}}
	resp := ClientPost(t, s.Issuer+"/oauth/token", clientID, secret, form)
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("client_credentials token of %s for %v: %s %v", clientID, scopes, resp.Status, err)
	}
	return tr.AccessToken
}

// OpsToken is admin-ops's token with every admin scope.
func OpsToken(t *testing.T, s *Server) string {
	t.Helper()
	return AdminToken(t, s, AdminClient, AdminSecret, adminapi.Scopes...)
}

// AdminAnswer is an answer of the admin API.
type AdminAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the answer's body.
func (a AdminAnswer) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v\n%s", a.Status, err, a.Body)
	}
}

// Problem decodes a problem answer, checking its media type.
func (a AdminAnswer) Problem(t *testing.T) adminapi.Problem {
	t.Helper()
	if ct := a.Header.Get("Content-Type"); ct != adminapi.MediaProblem {
		t.Errorf("answer %d: Content-Type %q, want %s", a.Status, ct, adminapi.MediaProblem)
	}
	var p adminapi.Problem
	a.JSON(t, &p)
	return p
}

// AdminDo sends method path (under the issuer) with token (none when
// empty) and a JSON body (none when empty); hdr are header names and
// values.
func AdminDo(t *testing.T, s *Server, method, path, token, body string, hdr ...string) AdminAnswer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.Issuer+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return AdminAnswer{Status: resp.StatusCode, Header: resp.Header, Body: bytes.TrimSpace(b)}
}

// answerOf reads resp whole into an AdminAnswer.
func answerOf(t *testing.T, resp *http.Response) AdminAnswer {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return AdminAnswer{Status: resp.StatusCode, Header: resp.Header, Body: bytes.TrimSpace(b)}
}

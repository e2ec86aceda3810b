package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsubasa/provider/member"
)

// FuzzTelephoneBody drives the call-centre PIN API of the assembled server
// in-process with a valid telephone token and arbitrary bodies. Whatever
// arrives, the answer is 200 with a result or 400 with a reason, never a
// panic, a 5xx, or a body that is not JSON.
//
//	go test -run '^$' -fuzz FuzzTelephoneBody ./cmd/tsubasa
func FuzzTelephoneBody(f *testing.F) {
	h, token := newTelephoneFuzzServer(f)
	for _, body := range []string{
		`{"member_number":"8888888","pin":"135790"}`,
		`{"member_number":"8888888","pin":"000000"}`,
		`{"member_number":"888-8888","pin":"１３５７９０"}`,
		`{"member_number":"8888888","pin":"135790"}{"member_number":"1"}`,
		`{"member_number":8888888,"pin":135790}`,
		`{"member_number":"8888888","pin":"135790","extra":true}`,
		`{"member_number":"` + strings.Repeat("9", 5000) + `","pin":"1"}`,
		`{"member_number":"\u0000","pin":"\ud800"}`,
		`[]`, `null`, `"x"`, `{`, ``, "\xff\xfe{}",
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/telephone/verify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out struct {
			Result string `json:"result"`
			Error  string `json:"error"`
			Reason string `json:"error_description"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body.String())
		}
		switch rec.Code {
		case http.StatusOK:
			if out.Result != "verified" && out.Result != "not_verified" && out.Result != "locked" {
				t.Fatalf("200 with result %q", out.Result)
			}
		case http.StatusBadRequest:
			if out.Error != "invalid_request" || out.Reason == "" {
				t.Fatalf("400 without a reason: %q", rec.Body.String())
			}
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
	})
}

// newTelephoneFuzzServer assembles the server on a temporary database with
// a PIN member and returns its handler and a telephone access token.
func newTelephoneFuzzServer(f *testing.F) (http.Handler, string) {
	f.Helper()
	dir := f.TempDir()
	cfgPath := filepath.Join(dir, "tsubasa.yaml")
	yaml := fmt.Sprintf(`dev: true
storage:
  bolt:
    path: %s
log:
  level: error
password:
  argon2:
    memory_kib: 8192
    iterations: 1
clients:
  - id: backend
    secret: backend-secret-0123456789
    grant_types: [client_credentials]
    scopes: [telephone]
`, filepath.Join(dir, "tsubasa.db"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		f.Fatal(err)
	}
	cfg := loadConfig(f, cfgPath)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	f.Cleanup(func() { slog.SetDefault(prev) })
	d, err := Open(f.Context(), cfg, slog.New(slog.DiscardHandler), time.Second)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	if _, err := d.Members.CreateMember(f.Context(), member.NewMember{Number: "8888888", PIN: "135790",
		FamilyName: "山田", Verified: true}); err != nil {
		f.Fatalf("member create: %v", err)
	}
	s, err := newServer(f.Context(), d)
	if err != nil {
		f.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"telephone"}}
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("backend", "backend-secret-0123456789")
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		f.Fatalf("token: status %d %s", rec.Code, rec.Body.String())
	}
	return s.handler, tok.AccessToken
}

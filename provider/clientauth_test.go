package provider

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestErrorDescriptions: every error at the client endpoints has a
// description (op's bare codes get their code's), made only of the
// characters RFC 6749 §5.2 allows, even where it names what the client
// sent.
func TestErrorDescriptions(t *testing.T) {
	e := newWireEnv(t)
	for scope, want := range map[string]string{"admin": "scope admin is not allowed", `a"b\c`: "not a scope token"} {
		rec := e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, "backend", wireSecret)
		got := decode(t, rec)
		desc, _ := got["error_description"].(string)
		if rec.Code != http.StatusBadRequest || got["error"] != "invalid_scope" || !strings.Contains(desc, want) || strings.ContainsAny(desc, `"\`) {
			t.Errorf("scope %q: %d %v, want invalid_scope saying %q without quotes", scope, rec.Code, got, want)
		}
	}
	for e, want := range map[*oidc.Error]string{
		oidc.ErrInvalidGrant():                                errorDescriptions["invalid_grant"],
		oidc.ErrInvalidGrant().WithDescription(""):            errorDescriptions["invalid_grant"],
		{ErrorType: "x_custom"}:                               "the request was refused",
		oidc.ErrInvalidGrant().WithDescription("mine"):        "mine",
		oidc.ErrInvalidClient():                               errorDescriptions["invalid_client"],
		oidc.ErrServerError().WithParent(errors.New("inner")): errorDescriptions["server_error"],
	} {
		rec := httptest.NewRecorder()
		writeOAuthError(rec, e)
		var got map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["error_description"] != want || got["error"] != string(e.ErrorType) {
			t.Errorf("writeOAuthError(%s) = %v (%v), want the description %q", e.ErrorType, got, err, want)
		}
		if strings.Contains(rec.Body.String(), "inner") {
			t.Errorf("writeOAuthError sent the cause: %s", rec.Body.String())
		}
		if (rec.Code == http.StatusUnauthorized) != (rec.Header().Get("WWW-Authenticate") == basicChallenge) {
			t.Errorf("writeOAuthError(%s): %d with challenge %q", e.ErrorType, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}
}

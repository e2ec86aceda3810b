package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Step-up for resource servers (RFC 9470) and the claims parameter
// (OpenID Connect Core 1.0 §5.5) against the real server, with x/oauth2
// and go-oidc as the app.

// milesAPI is a resource server that moves miles: it introspects each
// token (as the web client, whose tokens it serves) and wants a login
// with a one-time password, at most maxAge old, answering a weaker one
// with RFC 9470's insufficient_user_authentication challenge.
func milesAPI(t *testing.T, s *Server, maxAge time.Duration) *httptest.Server {
	t.Helper()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		req := NewFormRequest(r.Context(), s.Issuer+"/oauth/introspect", url.Values{"token": {tok}}.Encode())
		req.SetBasicAuth("web", "web-secret-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, "introspection failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var in struct {
			Active   bool   `json:"active"`
			ACR      string `json:"acr"`
			AuthTime int64  `json:"auth_time"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || !in.Active {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if in.ACR != acrOTP || time.Since(time.Unix(in.AuthTime, 0)) > maxAge {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_user_authentication", `+
				`error_description="moving miles needs a one-time password", acr_values="%s", max_age="%d"`, acrOTP, int(maxAge.Seconds())))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"moved":1000}`))
	}))
	t.Cleanup(api.Close)
	return api
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// callAPI calls the API with token and returns the status and the
// parameters of its Bearer challenge.
func callAPI(t *testing.T, api, token string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api+"/transfer", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	params := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(resp.Header.Get("WWW-Authenticate"), -1) {
		params[m[1]] = m[2]
	}
	return resp.StatusCode, params
}

// TestStepUpForAResourceServer: the app's token from a password login is
// refused by the miles API with insufficient_user_authentication, naming
// the acr it wants and a max_age; the app sends the member back with
// those as acr_values and max_age, the member enters a one-time password
// (no password again: the session stands), and the new token, whose
// introspection says acr otp and a fresh auth_time, is accepted.
func TestStepUpForAResourceServer(t *testing.T) {
	e := startOTP(t, "  on_login: never\n", Options{})
	api := milesAPI(t, e.s, 5*time.Minute)
	b := NewBrowser(t, e.s)
	tok := LoginRP(t, e.rp, b)
	status, challenge := callAPI(t, api.URL, tok.AccessToken)
	if status != http.StatusUnauthorized || challenge["error"] != "insufficient_user_authentication" || challenge["acr_values"] != acrOTP {
		t.Fatalf("a password token at the miles API: %d %v", status, challenge)
	}

	f := NewFlow()
	page := b.Get(t, e.rp.AuthURL(f, oauth2.SetAuthURLParam("acr_values", challenge["acr_values"]),
		oauth2.SetAuthURLParam("max_age", challenge["max_age"])))
	if page.URL.Path != "/login/otp" {
		t.Fatalf("the step-up request: %d at %s, want the code page", page.Status, page.URL)
	}
	_, code := MailCode(t, e.smtp, 1)
	stepped, _ := MustExchange(t, e.rp, f, Callback(t, enterCode(t, b, page, code)))
	if status, challenge := callAPI(t, api.URL, stepped.AccessToken); status != http.StatusOK {
		t.Fatalf("the stepped-up token at the miles API: %d %v", status, challenge)
	}
}

// TestClaimsParameterEssentialACR: acr as an essential claim with values
// in the claims parameter is a requirement of the login, like acr_values
// (a one-time password after the password), and a claim the granted
// scopes release (email) asked for in the ID token is put there, where it
// otherwise is not.
func TestClaimsParameterEssentialACR(t *testing.T) {
	e := startOTP(t, "  on_login: never\n", Options{})
	b := NewBrowser(t, e.s)
	f := NewFlow()
	plain := claimsOf(t, e, f, Login(t, b, e.rp.AuthURL(f), MemberNumber, MemberPass))
	if plain.Email != "" || plain.ACR == acrOTP {
		t.Fatalf("without the claims parameter: email %q in the ID token, acr %q", plain.Email, plain.ACR)
	}
	f = NewFlow()
	claims := `{"id_token":{"email":null,"acr":{"essential":true,"values":["` + acrOTP + `"]}}}`
	page := b.Get(t, e.rp.AuthURL(f, oauth2.SetAuthURLParam("claims", claims)))
	if page.URL.Path != "/login/otp" {
		t.Fatalf("an essential acr otp: %d at %s, want the code page", page.Status, page.URL)
	}
	_, code := MailCode(t, e.smtp, 1)
	c := claimsOf(t, e, f, Callback(t, enterCode(t, b, page, code)))
	if c.ACR != acrOTP || c.Email == "" {
		t.Errorf("ID token acr %q, email %q: want acr otp and the email the claims parameter asked for", c.ACR, c.Email)
	}
}

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// The device authorization grant (RFC 8628) as a television app and a
// member's phone play it: the app is x/oauth2's device flow (DeviceAuth,
// DeviceAccessToken) on the endpoints go-oidc discovers; the phone is a
// Browser at /device.

// DeviceGrantType is the device grant's grant_type.
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// AddDeviceClient adds a public client holding the device and refresh
// grants, named name, through the CLI.
func AddDeviceClient(t *testing.T, s *Server, id, name string, extra ...string) {
	t.Helper()
	args := append([]string{"client", "add", "--id", id, "--name", name, "--public",
		"--grant-type", DeviceGrantType, "--grant-type", "refresh_token"}, extra...)
	s.CLI(t, false, args...)
}

// DeviceApp is x/oauth2's configuration of a public device client, on the
// endpoints of discovery (device_authorization_endpoint included).
func DeviceApp(t *testing.T, s *Server, clientID string, scopes ...string) (*RP, oauth2.Config) {
	t.Helper()
	rp := NewRP(t, s, clientID, "", scopes...)
	cfg := rp.OAuth
	cfg.RedirectURL = ""
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if cfg.Endpoint.DeviceAuthURL != s.Issuer+"/device_authorization" {
		t.Fatalf("discovery's device_authorization_endpoint = %q", cfg.Endpoint.DeviceAuthURL)
	}
	return rp, cfg
}

// EnterUserCode plays the phone up to the login: the verification page,
// the code typed as given, and the confirmation of the device, which leads
// to the login page. It returns the page the confirmation led to.
func EnterUserCode(t *testing.T, b *Browser, s *Server, typed string) Page {
	t.Helper()
	p := b.Get(t, s.Issuer+"/device")
	confirm := b.Post(t, p.URL, "/device", url.Values{"user_code": {typed}})
	if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, `action="/device/confirm"`) {
		t.Fatalf("entering the code %q: status %d\n%s", typed, confirm.Status, confirm.Body)
	}
	return b.Post(t, confirm.URL, "/device/confirm", url.Values{"user_code": {HiddenValue(t, confirm, "user_code")}})
}

// HiddenValue is the value of the form field name on page p.
func HiddenValue(t *testing.T, p Page, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(p.Body, `name="`+name+`" value="`)
	if !ok {
		t.Fatalf("no field %s on %s:\n%s", name, p.URL, p.Body)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// AnswerConsent answers the consent page p with action (approve or deny).
func AnswerConsent(t *testing.T, b *Browser, p Page, action string) Page {
	t.Helper()
	if p.URL.Path != "/login/consent" {
		t.Fatalf("expected the consent page, got status %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	return b.Post(t, p.URL, "/login/consent", url.Values{"authRequestID": {p.AuthRequestID(t)}, "action": {action}})
}

// DevicePoll is one raw poll of the token endpoint: the status and the
// JSON answer.
func DevicePoll(t *testing.T, s *Server, clientID, secret, deviceCode string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {DeviceGrantType}, "device_code": {deviceCode}, "client_id": {clientID}}
	req := NewFormRequest(t.Context(), s.Issuer+"/oauth/token", form.Encode())
	if secret != "" {
		form.Del("client_id")
		req = NewFormRequest(t.Context(), s.Issuer+"/oauth/token", form.Encode())
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("poll answer: %v", err)
	}
	return resp.StatusCode, out
}

package conformance

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// deviceAuthorization: RFC 8628. Discovery names the device authorization
// endpoint and the grant (§4); the endpoint answers §3.2's fields as
// uncacheable JSON, and its refusals are RFC 6749 §5.2 JSON errors; the
// token endpoint's device answers (§3.5) are too.
func deviceAuthorization(t *testing.T, p *provider) {
	if !slices.Contains(p.list("grant_types_supported"), e2e.DeviceGrantType) {
		t.Errorf("grant_types_supported %v lacks %s", p.list("grant_types_supported"), e2e.DeviceGrantType)
	}
	endpoint := p.endpoint(t, "device_authorization_endpoint")
	if u, err := url.Parse(endpoint); err != nil || endpoint != p.s.Issuer+u.Path {
		t.Fatalf("device_authorization_endpoint %q: want an absolute URL on the issuer", endpoint)
	}
	e2e.AddDeviceClient(t, p.s, "conf-tv", "Conformance TV")
	tv := client{id: "conf-tv"}

	post := func(form url.Values, c client, how clientAuth) e2e.Wire {
		req := e2e.NewFormRequest(t.Context(), endpoint, form.Encode())
		if how == authBasic {
			req.SetBasicAuth(c.id, c.secret)
		}
		return e2e.WireDo(t, req)
	}
	w := post(url.Values{"client_id": {tv.id}, "scope": {"openid profile"}}, tv, authNone)
	e2e.CheckWire(t, "device authorization", w, false)
	body := w.JSON(t)
	for _, k := range []string{"device_code", "user_code", "verification_uri", "verification_uri_complete"} {
		if s, _ := body[k].(string); s == "" {
			t.Errorf("device authorization: %s missing in %s", k, w.Body)
		}
	}
	if w.Status != http.StatusOK || body["expires_in"] != 600.0 || body["interval"] != 5.0 {
		t.Errorf("device authorization: %d %s, want 200 with expires_in 600 and interval 5", w.Status, w.Body)
	}
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(body["user_code"].(string)) {
		t.Errorf("user_code %v: want 8 letters of the RFC 8628 §6.1 alphabet as XXXX-XXXX", body["user_code"])
	}

	for _, tt := range []struct {
		what   string
		form   url.Values
		c      client
		how    clientAuth
		status int
		code   string
	}{
		{"no openid scope", url.Values{"client_id": {tv.id}, "scope": {"profile"}}, tv, authNone, 400, "invalid_scope"},
		{"an unknown client", url.Values{"client_id": {"nobody"}, "scope": {"openid"}}, tv, authNone, 401, "invalid_client"},
		{"a client without the grant", url.Values{"scope": {"openid"}}, web, authBasic, 400, "unauthorized_client"},
		{"a repeated parameter", url.Values{"client_id": {tv.id}, "scope": {"openid", "openid"}}, tv, authNone, 400, "invalid_request"},
	} {
		tokenError(t, "device authorization with "+tt.what, post(tt.form, tt.c, tt.how), tt.status, tt.code)
	}
	if g := get(t, endpoint, ""); g.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET device authorization: %d", g.Status)
	} else {
		e2e.CheckWire(t, "GET device authorization", g, false)
	}

	poll := url.Values{"grant_type": {e2e.DeviceGrantType}, "device_code": {body["device_code"].(string)}}
	tokenError(t, "an immediate poll", p.tokenRequest(t, tv, authNone, poll), 400, "slow_down")
	tokenError(t, "a poll without device_code", p.tokenRequest(t, tv, authNone, url.Values{"grant_type": {e2e.DeviceGrantType}}), 400, "invalid_request")
	tokenError(t, "an unknown device_code", p.tokenRequest(t, tv, authNone,
		url.Values{"grant_type": {e2e.DeviceGrantType}, "device_code": {"nonsense"}}), 400, "invalid_grant")
}

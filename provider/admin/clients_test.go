package admin

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"tsubasa/provider/admin/adminapi"
)

// TestAddClientAppRedirectBelongsToOne: a native app's redirect URI (a
// private-use scheme, a loopback redirect without a port) is refused for
// a second client, so no other app can receive its codes; web redirect
// URIs, and loopback ones with a port, may be shared as before.
func TestAddClientAppRedirectBelongsToOne(t *testing.T) {
	svc, _ := newService(t, asIs)
	ctx := t.Context()
	add := func(id string, uris ...string) error {
		_, err := svc.addClient(ctx, adminapi.ClientInput{ID: id, Public: true, RedirectURIs: uris,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}})
		return err
	}
	if err := add("miles-app", "com.example.miles:/callback", "http://127.0.0.1/callback", "https://web.example/cb", "http://127.0.0.1:9000/cb"); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"com.example.miles:/callback", "http://127.0.0.1/callback"} {
		err := add("copycat", "https://copycat.example/cb", uri)
		var ae *adminapi.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Field != "redirect_uri" || !strings.Contains(ae.Message, `"miles-app"`) {
			t.Errorf("a second client with %s: %v, want a conflict naming miles-app", uri, err)
		}
	}
	if err := add("web-too", "https://web.example/cb", "http://127.0.0.1:9000/cb", "http://127.0.0.1/other"); err != nil {
		t.Errorf("shared web and loopback-with-port URIs refused: %v", err)
	}
}

package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider/admin/adminapi"
)

// TestCLIPartnerClients: client add takes the partner settings; a
// private_key_jwt client gets no secret and none to rotate; what is wrong
// is named by its key.
func TestCLIPartnerClients(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "p1", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "p1"}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	everyMode(t, func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps))) {
		var out adminapi.ClientOutput
		e.okJSON(&out, "client", "add", "--id", "miles", "--redirect-uri", "https://miles.example.com/cb", "--third-party",
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks-file", file, "--require-pushed-authorization-requests")
		if out.Secret != "" {
			t.Errorf("a private_key_jwt client got a secret: %+v", out)
		}
		c := out.Client
		if c.TokenEndpointAuthMethod != "private_key_jwt" || c.JWKS != string(pub) || !c.RequirePAR {
			t.Errorf("client as added: %+v", c)
		}
		show := e.ok("client", "show", "miles")
		for _, want := range []string{"private_key_jwt", "inline JWK Set", "must be pushed"} {
			if !strings.Contains(show, want) {
				t.Errorf("client show lacks %q:\n%s", want, show)
			}
		}
		e.fails(2, []string{"private_key_jwt", "no secret"}, "client", "rotate-secret", "miles")

		var byURI adminapi.ClientOutput
		e.okJSON(&byURI, "client", "add", "--id", "miles-uri", "--redirect-uri", "https://miles.example.com/cb",
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", "https://miles.example.com/jwks.json")
		if byURI.Secret != "" || byURI.Client.JWKSURI != "https://miles.example.com/jwks.json" {
			t.Errorf("client with a jwks_uri: %+v", byURI)
		}

		e.fails(2, []string{"token_endpoint_auth_method", "jwks or jwks_uri"},
			"client", "add", "--id", "bad", "--redirect-uri", "https://a.example.com/cb", "--token-endpoint-auth-method", "private_key_jwt")
		e.fails(2, []string{"jwks", "private"},
			"client", "add", "--id", "bad", "--redirect-uri", "https://a.example.com/cb",
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks", string(priv))
		e.fails(2, []string{`token_endpoint_auth_method "tls_client_auth"`},
			"client", "add", "--id", "bad", "--redirect-uri", "https://a.example.com/cb", "--token-endpoint-auth-method", "tls_client_auth")
		e.fails(2, []string{`jwks_uri "keys.example.com/jwks.json"`},
			"client", "add", "--id", "bad", "--redirect-uri", "https://a.example.com/cb",
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", "keys.example.com/jwks.json")
		e.fails(2, []string{"--jwks", "--jwks-uri"},
			"client", "add", "--id", "bad", "--redirect-uri", "https://a.example.com/cb",
			"--token-endpoint-auth-method", "private_key_jwt", "--jwks", string(pub), "--jwks-uri", "https://a.example.com/k")

		inspect(func(d *app.Deps) {
			stored, err := d.Store.ClientByID(t.Context(), "miles")
			if err != nil {
				t.Fatal(err)
			}
			if stored.SecretHash != nil || stored.JWKS != string(pub) || !stored.RequirePAR {
				t.Errorf("stored client: %+v", stored)
			}
		})
	})
}

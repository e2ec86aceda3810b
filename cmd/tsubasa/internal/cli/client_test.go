package cli

import (
	"bytes"
	"crypto/hmac"
	"regexp"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/internal/app"
	"tsubasa/provider"
	"tsubasa/provider/admin/adminapi"
)

// Every CLI scenario runs twice: directly on the database file (no server),
// and through a running server's admin socket while the test holds the
// database, which proves the command did not open the file (everyMode, in
// http_test.go, adds the HTTP admin API).
// inspect gives the scenario the open database between commands.
func bothModes(t *testing.T, scenario func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps)))) {
	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		e := newCLIEnv(t)
		e.mode = "direct"
		scenario(t, e, func(fn func(d *app.Deps)) {
			d := e.openDeps()
			defer d.Close()
			fn(d)
		})
	})
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		e := newCLIEnv(t)
		e.mode = "server"
		d, _, _ := e.startServer()
		e.requireLocked()
		scenario(t, e, func(fn func(d *app.Deps)) { fn(d) })
		e.requireLocked()
	})
}

var secretLine = regexp.MustCompile(`(?m)^Client secret: (\S+)$`)

func TestCLIClients(t *testing.T) {
	t.Parallel()
	everyMode(t, func(t *testing.T, e *cliEnv, inspect func(func(d *app.Deps))) {
		out := e.ok("client", "add", "--id", "shop", "--name", "Sky Shop",
			"--redirect-uri", "https://shop.example.com/cb", "--redirect-uri", "https://shop.example.com/cb2",
			"--post-logout-redirect-uri", "https://shop.example.com/", "--third-party",
			"--scope", "openid", "--scope", "profile", "--id-token-alg", "ES256",
			"--logo-uri", "https://shop.example.com/logo.png", "--policy-uri", "https://shop.example.com/privacy")
		m := secretLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("client add printed no secret:\n%s", out)
		}
		secret := m[1]
		if len(secret) < 40 {
			t.Errorf("secret %q is short", secret)
		}

		show := e.ok("client", "show", "shop")
		if strings.Contains(show, secret) || strings.Contains(strings.ToLower(show), "secret") {
			t.Errorf("client show reveals the secret:\n%s", show)
		}
		for _, want := range []string{"Sky Shop", "https://shop.example.com/cb2", "confidential, third-party",
			"ES256", "openid profile", "authorization_code refresh_token", "database"} {
			if !strings.Contains(show, want) {
				t.Errorf("client show lacks %q:\n%s", want, show)
			}
		}

		e.fails(1, []string{`client "shop" already exists`},
			"client", "add", "--id", "shop", "--redirect-uri", "https://shop.example.com/cb")
		e.fails(1, []string{`client "from-file" already exists in the config file`},
			"client", "add", "--id", "from-file", "--redirect-uri", "https://shop.example.com/cb")
		e.fails(2, []string{`redirect_uris[0] "shop.example.com/cb"`, "absolute"},
			"client", "add", "--id", "bad", "--redirect-uri", "shop.example.com/cb")
		e.fails(2, []string{`post_logout_redirect_uris[0] "https://a.example.com/#x"`},
			"client", "add", "--id", "bad", "--redirect-uri", "https://a.example.com/cb",
			"--post-logout-redirect-uri", "https://a.example.com/#x")

		var appOut adminapi.ClientOutput
		e.okJSON(&appOut, "client", "add", "--id", "app", "--public", "--redirect-uri", "http://127.0.0.1:8765/cb")
		if appOut.Secret != "" || !appOut.Client.Public {
			t.Errorf("public client: %+v", appOut)
		}

		var list []adminapi.ClientView
		e.okJSON(&list, "client", "list")
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID+"/"+c.Source)
		}
		if got := strings.Join(ids, " "); got != "cli-ops/config from-file/config app/database shop/database" {
			t.Errorf("client list: %s", got)
		}
		if out := e.ok("client", "list"); !strings.Contains(out, "from-file") || strings.Contains(out, secret) {
			t.Errorf("client list:\n%s", out)
		}

		var rotated adminapi.ClientOutput
		e.okJSON(&rotated, "client", "rotate-secret", "shop")
		if rotated.Secret == "" || rotated.Secret == secret {
			t.Errorf("rotate-secret gave %q (old %q)", rotated.Secret, secret)
		}
		e.fails(2, []string{"public"}, "client", "rotate-secret", "app")
		e.fails(1, []string{"config file"}, "client", "rotate-secret", "from-file")
		e.fails(1, []string{`no client "nobody"`}, "client", "rotate-secret", "nobody")

		inspect(func(d *app.Deps) {
			stored, err := d.Store.ClientByID(t.Context(), "shop")
			if err != nil {
				t.Fatal(err)
			}
			if !hmac.Equal(stored.SecretHash, provider.HashSecret(d.HMACKey, rotated.Secret)) {
				t.Error("stored hash does not match the rotated secret")
			}
			if bytes.Contains(stored.SecretHash, []byte(rotated.Secret)) {
				t.Error("secret stored in the clear")
			}
		})

		e.fails(1, []string{"config file"}, "client", "remove", "from-file")
		if out := e.ok("client", "remove", "shop"); !strings.Contains(out, "Removed client shop") {
			t.Errorf("client remove: %s", out)
		}
		e.fails(1, []string{`no client "shop"`}, "client", "show", "shop")
		e.fails(1, []string{`no client "shop"`}, "client", "remove", "shop")
	})
}

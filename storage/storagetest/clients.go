package storagetest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
)

func client(id string) storage.Client {
	return storage.Client{
		ID:                     id,
		SecretHash:             []byte("hmac-of-secret-" + id),
		Name:                   "Client " + id,
		RedirectURIs:           []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		PostLogoutRedirectURIs: []string{"https://" + id + ".example/"},
		ThirdParty:             true,
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"openid", "profile"},
		IDTokenAlg:             "ES256",
		LogoURI:                "https://" + id + ".example/logo.png",
		// The partner fields round-trip like the rest.
		TokenEndpointAuthMethod: "private_key_jwt",
		JWKSURI:                 "https://" + id + ".example/jwks.json",
		RequirePAR:              true,
		DPoPBoundAccessTokens:   true,
		Profile:                 "fapi2",
		// So do the back-channel logout fields.
		BackchannelLogoutURI:             "https://" + id + ".example/backchannel",
		BackchannelLogoutSessionRequired: true,
		CreatedAt:                        at(-time.Hour),
		UpdatedAt:                        at(-time.Minute),
	}
}

func sortClients(cs []storage.Client) []storage.Client {
	slices.SortFunc(cs, func(a, b storage.Client) int { return cmp.Compare(a.ID, b.ID) })
	return cs
}

var clientTests = []test{
	{"CreateClient/stored client reads back equal", func(t *testing.T, s storage.Store) {
		c := client("web")
		ok(t, s.CreateClient(t.Context(), c))
		equal(t, must(s.ClientByID(t.Context(), c.ID))(t), c)
	}},
	{"CreateClient/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateClient(t.Context(), client("web")))
		dup := client("web")
		dup.Name = "other"
		isErr(t, s.CreateClient(t.Context(), dup), storage.ErrAlreadyExists)
		equal(t, must(s.ClientByID(t.Context(), "web"))(t), client("web"))
	}},
	{"ClientByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.ClientByID(t.Context(), "nobody")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateClient/changes are stored", func(t *testing.T, s storage.Store) {
		ctx, c := t.Context(), client("web")
		ok(t, s.CreateClient(ctx, c))
		ok(t, s.UpdateClient(ctx, c.ID, func(c storage.Client) (storage.Client, error) {
			c.RedirectURIs = append(c.RedirectURIs, "https://new.example/cb")
			c.SecretHash = nil
			c.Public = true
			return c, nil
		}))
		c.RedirectURIs = append(c.RedirectURIs, "https://new.example/cb")
		c.SecretHash, c.Public = nil, true
		equal(t, must(s.ClientByID(ctx, c.ID))(t), c)
	}},
	{"UpdateClient/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, c := t.Context(), client("web")
		ok(t, s.CreateClient(ctx, c))
		err := s.UpdateClient(ctx, c.ID, func(c storage.Client) (storage.Client, error) {
			c.Name = "changed"
			c.RedirectURIs[0] = "https://evil.example/"
			return c, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.ClientByID(ctx, c.ID))(t), c)
	}},
	{"UpdateClient/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateClient(t.Context(), "nobody", func(c storage.Client) (storage.Client, error) { return c, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeleteClient/deleted client is gone and no longer listed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateClient(ctx, client("a")))
		ok(t, s.CreateClient(ctx, client("b")))
		must(s.DeleteClient(ctx, "a"))(t)
		_, err := s.ClientByID(ctx, "a")
		isErr(t, err, storage.ErrNotFound)
		equal(t, sortClients(must(s.ListClients(ctx))(t)), []storage.Client{client("b")})
		ok(t, s.CreateClient(ctx, client("a"))) // the id is free again
	}},
	{"DeleteClient/unknown id returns ErrNotFound and revokes nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.PutConsent(ctx, consent("m1", "nobody")))
		_, err := s.DeleteClient(ctx, "nobody")
		isErr(t, err, storage.ErrNotFound)
		_, err = s.DeleteClient(ctx, "")
		isErr(t, err, storage.ErrNotFound)
		tok := token("x", storage.AccessToken, "m1", "nobody", "", "", "")
		tok.CreatedAt = time.Now().Add(-time.Minute)
		equal(t, must(s.TokenRevoked(ctx, tok))(t), false)
		equal(t, must(s.ConsentByID(ctx, "m1", "nobody"))(t), consent("m1", "nobody"))
	}},
	{"DeleteClient/deletes every member's consent for the client and no other consent", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateClient(ctx, client("a")))
		for _, c := range []storage.Consent{consent("m1", "a"), consent("m2", "a"), consent("m11", "a"), consent("m1", "b"), consent("m1", "ab")} {
			ok(t, s.PutConsent(ctx, c))
		}
		equal(t, must(s.DeleteClient(ctx, "a"))(t).Consents, 3)
		for _, m := range []string{"m1", "m2", "m11"} {
			_, err := s.ConsentByID(ctx, m, "a")
			isErr(t, err, storage.ErrNotFound)
		}
		equal(t, sortConsents(must(s.ListConsents(ctx, "m1"))(t)), []storage.Consent{consent("m1", "ab"), consent("m1", "b")})
	}},
	{"DeleteClient/revokes every token of the client, stored or not, and no other client's", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateClient(ctx, client("c1")))
		all := tokenSet()
		ok(t, s.CreateTokens(ctx, all...))
		equal(t, must(s.DeleteClient(ctx, "c1"))(t).Tokens, 5)
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{ClientID: "c1"}))(t)), "")
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{ClientID: "c2"}))(t)), "a2,r2")
		for _, tok := range all { // as self-contained tokens, never stored
			equal(t, must(s.TokenRevoked(ctx, tok))(t), tok.ClientID == "c1")
			later := tok
			later.CreatedAt = time.Now().Add(time.Hour) // issued after the removal
			equal(t, must(s.TokenRevoked(ctx, later))(t), false)
		}
	}},
	{"ListClients/returns every client", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		equal(t, len(must(s.ListClients(ctx))(t)), 0)
		want := []storage.Client{client("a"), client("b"), client("c")}
		for _, c := range want {
			ok(t, s.CreateClient(ctx, c))
		}
		equal(t, sortClients(must(s.ListClients(ctx))(t)), want)
	}},
}

func signingKey(id string, created time.Time) storage.SigningKey {
	return storage.SigningKey{ID: id, Algorithm: "ES256", PrivateKey: []byte("pkcs8-" + id), CreatedAt: created}
}

func sortKeys(ks []storage.SigningKey) []storage.SigningKey {
	slices.SortFunc(ks, func(a, b storage.SigningKey) int { return cmp.Compare(a.ID, b.ID) })
	return ks
}

var keyTests = []test{
	{"CreateKey/stored keys are listed equal", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		equal(t, len(must(s.ListKeys(ctx))(t)), 0)
		want := []storage.SigningKey{signingKey("k1", at(-time.Hour)), signingKey("k2", at(0))}
		want[0].RetiredAt, want[0].ExpiresAt = at(0), at(24*time.Hour)
		for _, k := range want {
			ok(t, s.CreateKey(ctx, k))
		}
		equal(t, sortKeys(must(s.ListKeys(ctx))(t)), want)
	}},
	{"CreateKey/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateKey(t.Context(), signingKey("k1", at(0))))
		isErr(t, s.CreateKey(t.Context(), signingKey("k1", at(time.Hour))), storage.ErrAlreadyExists)
		equal(t, must(s.ListKeys(t.Context()))(t), []storage.SigningKey{signingKey("k1", at(0))})
	}},
	{"UpdateKey/retirement is stored", func(t *testing.T, s storage.Store) {
		ctx, k := t.Context(), signingKey("k1", at(0))
		ok(t, s.CreateKey(ctx, k))
		ok(t, s.UpdateKey(ctx, k.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
			k.RetiredAt, k.ExpiresAt = at(time.Hour), at(25*time.Hour)
			return k, nil
		}))
		k.RetiredAt, k.ExpiresAt = at(time.Hour), at(25*time.Hour)
		equal(t, must(s.ListKeys(ctx))(t), []storage.SigningKey{k})
	}},
	{"UpdateKey/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, k := t.Context(), signingKey("k1", at(0))
		ok(t, s.CreateKey(ctx, k))
		err := s.UpdateKey(ctx, k.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
			k.RetiredAt = at(time.Hour)
			return k, errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.ListKeys(ctx))(t), []storage.SigningKey{k})
	}},
	{"UpdateKey/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateKey(t.Context(), "nope", func(k storage.SigningKey) (storage.SigningKey, error) { return k, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeleteKey/deleted key is no longer listed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateKey(ctx, signingKey("k1", at(0))))
		ok(t, s.CreateKey(ctx, signingKey("k2", at(time.Hour))))
		ok(t, s.DeleteKey(ctx, "k1"))
		equal(t, must(s.ListKeys(ctx))(t), []storage.SigningKey{signingKey("k2", at(time.Hour))})
	}},
	{"DeleteKey/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		isErr(t, s.DeleteKey(t.Context(), "nope"), storage.ErrNotFound)
	}},
}

var secretTests = []test{
	{"Secret/creates a missing secret once and then returns the stored bytes", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		calls := 0
		create := func() ([]byte, error) { calls++; return []byte(fmt.Sprintf("secret-%d", calls)), nil }
		equal(t, must(s.Secret(ctx, "hmac", create))(t), []byte("secret-1"))
		equal(t, must(s.Secret(ctx, "hmac", create))(t), []byte("secret-1"))
		equal(t, calls, 1)
	}},
	{"Secret/20 concurrent first callers all get the same bytes", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		var calls atomic.Int32
		got := make([][]byte, 20)
		errs := race(20, func(i int) error {
			var err error
			got[i], err = s.Secret(ctx, "cookie", func() ([]byte, error) {
				return []byte(fmt.Sprintf("secret-%d", calls.Add(1))), nil
			})
			return err
		})
		ok(t, errors.Join(errs...))
		for i := range got {
			if len(got[i]) == 0 || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("caller %d got %q, caller 0 got %q", i, got[i], got[0])
			}
		}
		equal(t, must(s.Secret(ctx, "cookie", func() ([]byte, error) { return []byte("late"), nil }))(t), got[0])
	}},
	{"Secret/error from create is returned and nothing is stored", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		_, err := s.Secret(ctx, "hmac", func() ([]byte, error) { return nil, errBoom })
		isErr(t, err, errBoom)
		equal(t, must(s.Secret(ctx, "hmac", func() ([]byte, error) { return []byte("v2"), nil }))(t), []byte("v2"))
	}},
	{"Secret/names are independent", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		equal(t, must(s.Secret(ctx, "a", func() ([]byte, error) { return []byte("A"), nil }))(t), []byte("A"))
		equal(t, must(s.Secret(ctx, "b", func() ([]byte, error) { return []byte("B"), nil }))(t), []byte("B"))
		equal(t, must(s.Secret(ctx, "a", func() ([]byte, error) { return []byte("X"), nil }))(t), []byte("A"))
	}},
	{"Secret/returned bytes are a copy", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		created := []byte("original")
		got := must(s.Secret(ctx, "hmac", func() ([]byte, error) { return created, nil }))(t)
		got[0], created[1] = 'X', 'Y'
		again := must(s.Secret(ctx, "hmac", func() ([]byte, error) {
			t.Error("create called for a stored secret")
			return nil, errBoom
		}))(t)
		equal(t, again, []byte("original"))
	}},
}

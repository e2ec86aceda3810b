package provider

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

func newClientInfoProvider(t *testing.T, static ...storage.Client) (*Provider, *bolt.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := NewClientRegistry(static, st, make([]byte, 32), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{store: st, clients: reg, now: time.Now, log: slog.New(slog.DiscardHandler),
		opts: Options{HMACKey: []byte("0123456789abcdef0123456789abcdef")}}
	return p, st
}

func TestClientInfo(t *testing.T) {
	p, st := newClientInfoProvider(t, storage.Client{ID: "web", Scopes: []string{"openid"}})
	if err := st.CreateClient(t.Context(), storage.Client{ID: "shop", Name: "Sky Shop", ThirdParty: true,
		SecretHash: []byte("hash"), LogoURI: "https://shop.example/l.png", PolicyURI: "https://shop.example/p"}); err != nil {
		t.Fatal(err)
	}
	web, err := p.ClientInfo(t.Context(), "web")
	if err != nil || web.Name != "web" || web.ThirdParty {
		t.Errorf("config client: %+v, %v (an unnamed client is named by its id)", web, err)
	}
	shop, err := p.ClientInfo(t.Context(), "shop")
	if err != nil || shop.Name != "Sky Shop" || !shop.ThirdParty || shop.LogoURI == "" || shop.PolicyURI == "" {
		t.Errorf("stored client: %+v, %v", shop, err)
	}
	if _, err := p.ClientInfo(t.Context(), "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown client: %v, want ErrNotFound", err)
	}
}

// TestPairwiseSubjects: third parties see one sub per sector (redirect
// host), stable across calls; first parties see the member id.
func TestPairwiseSubjects(t *testing.T) {
	p, _ := newClientInfoProvider(t)
	a := storage.Client{ID: "a", ThirdParty: true, RedirectURIs: []string{"https://a.example/cb"}}
	a2 := storage.Client{ID: "a2", ThirdParty: true, RedirectURIs: []string{"https://a.example/other"}}
	b := storage.Client{ID: "b", ThirdParty: true, RedirectURIs: []string{"https://b.example/cb"}}
	first := storage.Client{ID: "web", RedirectURIs: []string{"https://a.example/cb"}}
	if got := p.subjectFor(first, "m1"); got != "m1" {
		t.Errorf("first-party sub %q, want the member id", got)
	}
	sa, sb := p.subjectFor(a, "m1"), p.subjectFor(b, "m1")
	if sa == sb || sa == "m1" || sb == "m1" {
		t.Errorf("pairwise subs must differ per sector and from the member id: %s %s", sa, sb)
	}
	if p.subjectFor(a, "m1") != sa || p.subjectFor(a2, "m1") != sa {
		t.Error("pairwise sub not stable within a sector")
	}
	if p.subjectFor(a, "m2") == sa {
		t.Error("two members share a pairwise sub")
	}
}

func TestRevokeClientGrants(t *testing.T) {
	p, st := newClientInfoProvider(t)
	ctx := t.Context()
	now := time.Now().UTC()
	tok := func(id, member, client string, kind storage.TokenKind) storage.Token {
		return storage.Token{ID: id, Kind: kind, MemberID: member, ClientID: client, Subject: "s",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := st.CreateTokens(ctx,
		tok("at1", "m1", "shop", storage.AccessToken), tok("rt1", "m1", "shop", storage.RefreshToken),
		tok("at2", "m1", "web", storage.AccessToken), tok("at3", "m2", "shop", storage.AccessToken)); err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][2]string{{"", "shop"}, {"m1", ""}} {
		if _, err := p.RevokeClientGrants(ctx, ids[0], ids[1]); err == nil {
			t.Errorf("RevokeClientGrants(%q, %q) accepted an empty id", ids[0], ids[1])
		}
	}
	n, err := p.RevokeClientGrants(ctx, "m1", "shop")
	if err != nil || n != 2 {
		t.Fatalf("revoked %d, %v; want 2", n, err)
	}
	for id, want := range map[string]bool{"at1": false, "rt1": false, "at2": true, "at3": true} {
		if _, err := st.TokenByID(ctx, id); (err == nil) != want {
			t.Errorf("token %s present=%v, want %v", id, err == nil, want)
		}
	}
}

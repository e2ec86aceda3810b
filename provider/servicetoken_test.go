package provider

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
)

// serviceEnv is a provider on a fresh database with a call-centre client
// (client_credentials, telephone) and a client stored before validation
// refused telephone on a client with authorization_code.
type serviceEnv struct {
	p   *Provider
	log *bytes.Buffer
}

func newServiceEnv(t *testing.T) *serviceEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	legacy := storage.Client{ID: "legacy-app", Public: true, RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{GrantAuthorizationCode}, Scopes: []string{"openid", ScopeTelephone}}
	if err := st.CreateClient(t.Context(), legacy); err != nil {
		t.Fatal(err)
	}
	key := []byte("service-hmac-key-0123456789abcdef-0123456789")
	var log bytes.Buffer
	p, err := New(t.Context(), Options{
		Issuer: "http://127.0.0.1:1", Store: st, HMACKey: key, CryptoKey: [32]byte{9},
		Clients: []storage.Client{{ID: "call-centre", SecretHash: HashSecret(key, "s"),
			GrantTypes: []string{GrantClientCredentials}, Scopes: []string{ScopeTelephone}}},
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: time.Hour, RefreshTokenTTL: time.Hour,
		CodeTTL: time.Minute, AuthRequestTTL: time.Minute,
		LoginURL:   func(id string) string { return "/login?authRequestID=" + id },
		EndSession: func(http.ResponseWriter, *http.Request, LogoutRequest) {}, LogoutRefused: func(http.ResponseWriter, *http.Request, LogoutRefusal) {},
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &serviceEnv{p: p, log: &log}
}

// bearer is what op hands the client for t.
func (e *serviceEnv) bearer(t *testing.T, tok storage.Token) string {
	t.Helper()
	id, err := encodeAccessToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.p.op.Crypto().Encrypt(id + ":" + tok.Subject)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestServiceTokenAcceptsOnlyClientCredentialsTokens(t *testing.T) {
	e := newServiceEnv(t)
	now := time.Now().UTC()
	own, err := e.p.accessToken(t.Context(), &clientCredentialsRequest{clientID: "call-centre", scopes: []string{ScopeTelephone}}, now)
	if err != nil {
		t.Fatal(err)
	}
	member := storage.Token{ID: "t2", Kind: storage.AccessToken, ClientID: "legacy-app", MemberID: "m1", Subject: "m1",
		Scopes: []string{"openid", ScopeTelephone}, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	noScope := own
	noScope.Scopes = []string{"openid"}
	// A member whose subject happens to equal the client id is still a member.
	lookalike := member
	lookalike.Subject = lookalike.ClientID
	for _, tc := range []struct {
		name   string
		bearer string
		want   error
	}{
		{"client credentials with telephone", e.bearer(t, own), nil},
		{"member token with telephone", e.bearer(t, member), ErrMemberToken},
		{"member token whose subject is the client id", e.bearer(t, lookalike), ErrMemberToken},
		{"client credentials without telephone", e.bearer(t, noScope), ErrInsufficientScope},
		{"garbage", "not-a-token", ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.p.ServiceToken(t.Context(), tc.bearer, ScopeTelephone)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("ServiceToken = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMemberFlowsNeverGetServiceScopes(t *testing.T) {
	e := newServiceEnv(t)
	req := &oidc.AuthRequest{ClientID: "legacy-app", RedirectURI: "https://app.example/cb", ResponseType: oidc.ResponseTypeCode,
		Scopes: oidc.SpaceDelimitedArray{"openid", ScopeTelephone}, CodeChallenge: strings.Repeat("a", 43),
		CodeChallengeMethod: oidc.CodeChallengeMethodS256}
	ar, err := (&opStorage{e.p}).CreateAuthRequest(t.Context(), req, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ar.GetScopes(); len(got) != 1 || got[0] != "openid" {
		t.Errorf("scopes of a member login = %v, want [openid]", got)
	}
	if !strings.Contains(e.log.String(), "client_id=legacy-app scope=telephone") {
		t.Errorf("no start-up warning about the stored client:\n%s", e.log.String())
	}
	if strings.Contains(e.log.String(), "client_id=call-centre") {
		t.Errorf("the client_credentials client was warned about:\n%s", e.log.String())
	}
}

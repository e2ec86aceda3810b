package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// LogoutReceiver is a relying party's back-channel logout endpoint
// (OpenID Connect Back-Channel Logout 1.0 §2.5): an httptest server that
// keeps every request it gets, answers with the statuses it is told
// (then 200), and can hold its answers until released, as a slow relying
// party would.
type LogoutReceiver struct {
	URL string

	answerScript
	mu      sync.Mutex
	got     []ReceivedLogout
	arrived chan struct{}
}

// ReceivedLogout is one request the receiver got.
type ReceivedLogout struct {
	Method, ContentType string
	Form                url.Values
	Token               string // the logout_token parameter
}

// NewLogoutReceiver starts a receiver, closed when t ends.
func NewLogoutReceiver(t *testing.T) *LogoutReceiver {
	t.Helper()
	r := &LogoutReceiver{arrived: make(chan struct{}, 1)}
	r.init()
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() { r.Release(); srv.Close() })
	r.URL = srv.URL + "/backchannel-logout"
	return r
}

func (r *LogoutReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.got = append(r.got, ReceivedLogout{Method: req.Method, ContentType: req.Header.Get("Content-Type"),
		Form: form, Token: form.Get("logout_token")})
	r.mu.Unlock()
	status, hold := r.next()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	select {
	case <-hold:
	case <-req.Context().Done():
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// Received returns the requests so far.
func (r *LogoutReceiver) Received() []ReceivedLogout {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ReceivedLogout(nil), r.got...)
}

// Wait returns the requests once there are at least n, failing t after
// timeout.
func (r *LogoutReceiver) Wait(t *testing.T, n int, timeout time.Duration) []ReceivedLogout {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := r.Received(); len(got) >= n {
			return got
		}
		select {
		case <-r.arrived:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("the relying party got %d back-channel logout requests in %s, want %d", len(r.Received()), timeout, n)
		}
	}
}

// LogoutClaims are a verified logout token's claims.
type LogoutClaims struct {
	Issuer   string                     `json:"iss"`
	Audience audience                   `json:"aud"`
	IssuedAt int64                      `json:"iat"`
	Expiry   int64                      `json:"exp"`
	JTI      string                     `json:"jti"`
	Subject  string                     `json:"sub"`
	SID      string                     `json:"sid"`
	Events   map[string]json.RawMessage `json:"events"`
	Nonce    *string                    `json:"nonce"`
}

// audience is aud as a string or a list (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// VerifyLogoutToken validates a logout token as a relying party must
// (Back-Channel Logout 1.0 §2.6): the signature against the provider's
// published keys (go-oidc's remote key set, from discovery), typ
// logout+jwt, iss, aud, iat and exp, a jti, the back-channel logout event
// as an empty object, sid or sub, and no nonce. It fails t otherwise.
func VerifyLogoutToken(t *testing.T, s *Server, clientID, raw string) LogoutClaims {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), s.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var meta struct {
		JWKSURI        string `json:"jwks_uri"`
		Backchannel    bool   `json:"backchannel_logout_supported"`
		BackchannelSID bool   `json:"backchannel_logout_session_supported"`
	}
	if err := p.Claims(&meta); err != nil || !meta.Backchannel || !meta.BackchannelSID {
		t.Fatalf("discovery does not advertise back-channel logout with sid: %+v (%v)", meta, err)
	}
	payload, err := oidc.NewRemoteKeySet(t.Context(), meta.JWKSURI).VerifySignature(t.Context(), raw)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("logout token: %v", err)
	}
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
		t.Errorf("logout token typ %q, want logout+jwt", typ)
	}
	var c LogoutClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("logout token claims: %v", err)
	}
	now := time.Now().Unix()
	switch {
	case c.Issuer != s.Issuer:
		t.Errorf("logout token iss %q, want %q", c.Issuer, s.Issuer)
	case len(c.Audience) != 1 || c.Audience[0] != clientID:
		t.Errorf("logout token aud %v, want [%s]", c.Audience, clientID)
	case c.IssuedAt == 0 || c.IssuedAt > now+60:
		t.Errorf("logout token iat %d (now %d)", c.IssuedAt, now)
	case c.Expiry <= now || c.Expiry <= c.IssuedAt:
		t.Errorf("logout token exp %d is past or before iat %d (now %d)", c.Expiry, c.IssuedAt, now)
	case c.JTI == "":
		t.Error("logout token without jti")
	case c.SID == "" && c.Subject == "":
		t.Error("logout token with neither sid nor sub")
	case c.Nonce != nil:
		t.Error("logout token carries a nonce (forbidden by Back-Channel Logout 1.0 §2.4)")
	}
	if ev, ok := c.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok || string(ev) != "{}" {
		t.Errorf("logout token events %v, want the back-channel logout event as {}", c.Events)
	}
	return c
}

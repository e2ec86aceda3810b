package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tsubasa/provider/outbound"
	"tsubasa/storage"
)

// OpenID Connect Back-Channel Logout 1.0 (§2.4): the event a logout token
// carries, and the token type RFC 8417 §2.3 and BCL §2.4 recommend so that
// a logout token is never taken for an ID token or the reverse.
const (
	backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	logoutTokenType        = "logout+jwt"
	// logoutTokenTTL is a logout token's life: long enough for clock skew
	// and the one request that carries it. Each try signs a new one.
	logoutTokenTTL = 2 * time.Minute
)

// ErrLogoutUndeliverable wraps a back-channel logout that retrying cannot
// deliver: the client is gone, registered no URI any more, its address is
// refused, or it answered 4xx other than 408 and 429.
var ErrLogoutUndeliverable = errors.New("provider: back-channel logout undeliverable")

// logoutClaims are a logout token's claims (BCL §2.4). There is no nonce:
// §2.4 forbids it, so that a logout token can never pass for an ID token.
type logoutClaims struct {
	Issuer   string                    `json:"iss"`
	Audience string                    `json:"aud"`
	IssuedAt int64                     `json:"iat"`
	Expiry   int64                     `json:"exp"`
	JTI      string                    `json:"jti"`
	Subject  string                    `json:"sub,omitempty"`
	SID      string                    `json:"sid,omitempty"`
	Events   map[string]map[string]any `json:"events"`
}

// ClientByID returns a client, from config first, then the database.
func (r *ClientRegistry) ClientByID(ctx context.Context, id string) (storage.Client, error) {
	return r.get(ctx, id)
}

// SendBackchannelLogout tells client clientID that the session sid of
// memberID ended: it signs a logout token with the key of the client's ID
// token algorithm and POSTs it to the client's backchannel_logout_uri
// through the outbound client (special-use addresses refused unless
// allowed). The outbox worker calls it, and retries a failure that does
// not wrap ErrLogoutUndeliverable. A client that no longer has a URI gets
// nothing, and that is not a failure.
func (p *Provider) SendBackchannelLogout(ctx context.Context, clientID, memberID, sid string) error {
	c, err := p.clients.get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: the client %q is gone", ErrLogoutUndeliverable, clientID)
	}
	if err != nil {
		return err
	}
	if c.BackchannelLogoutURI == "" {
		return nil
	}
	token, err := p.logoutToken(c, memberID, sid)
	if err != nil {
		return err
	}
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLogoutUndeliverable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ans, err := p.opts.Outbound.Do(req)
	switch {
	// Back-channel Logout 1.0 §2.8: the RP answers 200, or 204.
	case err == nil && (ans.Status == http.StatusOK || ans.Status == http.StatusNoContent):
		return nil
	case err != nil && outbound.FailsForGood(ctx, ans, err):
		return fmt.Errorf("%w: %w", ErrLogoutUndeliverable, err)
	case err != nil:
		return fmt.Errorf("provider: back-channel logout to client %q: %w", clientID, err)
	case outbound.FailsForGood(ctx, ans, nil):
		return fmt.Errorf("%w: client %q answered %d", ErrLogoutUndeliverable, clientID, ans.Status)
	default:
		return fmt.Errorf("provider: back-channel logout: client %q answered %d", clientID, ans.Status)
	}
}

// logoutToken signs the logout token of session sid for client c: the
// member's subject as c knows it (pairwise for third parties), sid, a
// fresh jti, the event, typ logout+jwt.
func (p *Provider) logoutToken(c storage.Client, memberID, sid string) (string, error) {
	alg := c.IDTokenAlg
	if alg == "" {
		alg = p.opts.DefaultAlg
	}
	now := p.now()
	claims, err := json.Marshal(logoutClaims{
		Issuer: p.opts.Issuer, Audience: c.ID, IssuedAt: now.Unix(), Expiry: now.Add(logoutTokenTTL).Unix(),
		JTI: rand.Text(), Subject: p.subjectFor(c, memberID), SID: sid,
		Events: map[string]map[string]any{backchannelLogoutEvent: {}},
	})
	if err != nil {
		return "", err
	}
	return p.signTyped(alg, logoutTokenType, claims)
}

// recordSessionClient notes, on the browser session sid, that clientID
// was given a code from it: the session's end then reaches the client's
// back-channel logout URI. A session that has already ended is left so.
func (p *Provider) recordSessionClient(ctx context.Context, sid, clientID string) error {
	if sid == "" || clientID == "" {
		return nil
	}
	// Clients are only ever added to a session, so one found listed stays
	// listed until the session ends: a plain read then spares an SSO flow
	// a locked update and its commit (on PostgreSQL a round trip, a WAL
	// flush; TestPostgresRoundTripsPerFlow counts them).
	// The login UI read the session in this same HTTP request, as a
	// rule (storage.HandOffSession): its list is as good as a new read.
	if clients, ok := storage.HandedSessionClients(ctx, sid); ok && slices.Contains(clients, clientID) {
		return nil
	}
	if s, err := p.store.SessionByID(ctx, sid); err == nil && slices.Contains(s.Clients, clientID) {
		return nil
	}
	err := p.store.UpdateSession(ctx, sid, func(s storage.Session) (storage.Session, error) {
		if !slices.Contains(s.Clients, clientID) {
			s.Clients = append(slices.Clip(s.Clients), clientID)
		}
		return s, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil // its codes mint nothing (codeRevoked)
	}
	return err
}

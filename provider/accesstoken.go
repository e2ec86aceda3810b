package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsubasa/storage"
)

// Access tokens are self-contained. op hands relying parties
// Encrypt(tokenID + ":" + subject) with the server's AES-256-GCM key; the
// token id Tsubasa gives op is not a database key but the token itself:
// accessPrefix followed by its claims (accessClaims) as base64url JSON. So
// issuing an access token writes nothing, and checking one reads nothing
// but the member. The encryption is authenticated: only this server can
// make or alter one.
//
// Revocation stays per token and per grant: every revoking call
// (storage.Tokens.DeleteTokens — a token, a refresh family, a session, a
// member, a client, a member's link to a client, a code replayed) records
// what it revoked and when, and a token issued before a revocation that
// selects it is refused (storage.Tokens.TokenRevoked). Refresh tokens stay
// stored: they are long-lived and rotate.
//
// Bearer values minted before this format (a random id of a stored record)
// are still answered from storage until they expire.
const accessPrefix = "a1."

// accessClaims is what an access token carries besides its subject, which
// op encrypts beside it. Times are Unix nanoseconds, so that a token
// compares exactly with the revocations stamped by the same clock.
type accessClaims struct {
	ID        string   `json:"i"`
	ClientID  string   `json:"c"`
	MemberID  string   `json:"m,omitempty"`
	Audience  []string `json:"a,omitempty"`
	Scopes    []string `json:"s,omitempty"`
	AuthTime  int64    `json:"t,omitempty"`
	ACR       string   `json:"r,omitempty"`
	AMR       []string `json:"x,omitempty"`
	SessionID string   `json:"d,omitempty"`
	FamilyID  string   `json:"f,omitempty"`
	AuthReqID string   `json:"q,omitempty"`
	IssuedAt  int64    `json:"n"`
	Expires   int64    `json:"e"`
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// encodeAccessToken returns the token id op encrypts into the bearer value.
func encodeAccessToken(t storage.Token) (string, error) {
	b, err := json.Marshal(accessClaims{
		ID: t.ID, ClientID: t.ClientID, MemberID: t.MemberID, Audience: t.Audience, Scopes: t.Scopes,
		AuthTime: unixNano(t.AuthTime), ACR: t.ACR, AMR: t.AMR,
		SessionID: t.SessionID, FamilyID: t.FamilyID, AuthReqID: t.AuthRequestID,
		IssuedAt: unixNano(t.CreatedAt), Expires: unixNano(t.ExpiresAt),
	})
	if err != nil {
		return "", fmt.Errorf("provider: encode access token: %w", err)
	}
	return accessPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeAccessToken parses what encodeAccessToken wrote. Only op's
// authenticated decryption leads here, so a parse error means a bug or a
// format from another version, never a forgery.
func decodeAccessToken(id, subject string) (storage.Token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, accessPrefix))
	if err != nil {
		return storage.Token{}, err
	}
	var c accessClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return storage.Token{}, err
	}
	if c.ID == "" || c.ClientID == "" || c.Expires == 0 {
		return storage.Token{}, errors.New("provider: access token lacks id, client or expiry")
	}
	return storage.Token{
		ID: c.ID, Kind: storage.AccessToken, ClientID: c.ClientID, MemberID: c.MemberID, Subject: subject,
		Audience: c.Audience, Scopes: c.Scopes, AuthTime: fromUnixNano(c.AuthTime), ACR: c.ACR, AMR: c.AMR,
		SessionID: c.SessionID, FamilyID: c.FamilyID, AuthRequestID: c.AuthReqID,
		CreatedAt: fromUnixNano(c.IssuedAt), ExpiresAt: fromUnixNano(c.Expires),
	}, nil
}

// errTokenInvalid: the access token is unknown, expired or revoked.
var errTokenInvalid = errors.New("provider: access token invalid, expired or revoked")

// accessTokenByID returns the access token behind the id and subject op
// decrypted from a bearer value, after checking that it is an access
// token of that subject, unexpired and not revoked.
func (p *Provider) accessTokenByID(ctx context.Context, id, subject string) (storage.Token, error) {
	if !strings.HasPrefix(id, accessPrefix) {
		t, err := p.store.TokenByID(ctx, id) // issued before self-contained tokens
		if err != nil || t.Kind != storage.AccessToken || t.Subject != subject || t.Expired(p.now()) {
			return storage.Token{}, errTokenInvalid
		}
		return t, nil
	}
	t, err := decodeAccessToken(id, subject)
	if err != nil {
		p.log.ErrorContext(ctx, "access token unreadable", "err", err)
		return storage.Token{}, errTokenInvalid
	}
	if t.Expired(p.now()) {
		return storage.Token{}, errTokenInvalid
	}
	revoked, err := p.store.TokenRevoked(ctx, t)
	if err != nil {
		return storage.Token{}, fmt.Errorf("provider: revocation check: %w", err)
	}
	if revoked {
		return storage.Token{}, errTokenInvalid
	}
	return t, nil
}

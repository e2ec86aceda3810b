package provider

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsubasa/storage"
)

// Access tokens are self-contained. op hands relying parties
// Encrypt(tokenID + ":" + subject) with the server's AES-256-GCM key; the
// token id Tsubasa gives op is not a database key but the token itself:
// accessPrefix followed by its claims, compactly encoded, in base64url. So
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

// The claims are encoded compactly (go-jose's parsing of the bearer value
// grows with its length): a format byte, then the strings ID, ClientID,
// MemberID, ACR, SessionID, FamilyID and AuthRequestID, the lists
// Audience, Scopes and AMR, and the times AuthTime, CreatedAt and
// ExpiresAt as Unix nanoseconds (0 for none) — exact, so that a token
// compares with the revocations stamped by the same clock. Strings and
// lists are length-prefixed with uvarints, times are varints. Format 2
// appends JKT, the thumbprint of the DPoP key the token is bound to
// (RFC 9449 §6), inside the encryption like the rest: a token's binding
// cannot be changed or stripped. Format 1 tokens (bound to no key) are
// read until they expire.
const (
	accessFormat   = 2
	accessFormatV1 = 1
)

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendList(b []byte, l []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, s := range l {
		b = appendString(b, s)
	}
	return b
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
	if t.ID == "" || t.ClientID == "" || t.ExpiresAt.IsZero() {
		return "", errors.New("provider: access token without id, client or expiry")
	}
	b := appendGrant(append(make([]byte, 0, 256), accessFormat), t)
	return accessPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// appendGrant appends the fields of t that an access token carries (the
// whole of format 2, after its format byte); a sealed refresh token
// carries them too, and a little more (refreshseal.go).
func appendGrant(b []byte, t storage.Token) []byte {
	for _, s := range []string{t.ID, t.ClientID, t.MemberID, t.ACR, t.SessionID, t.FamilyID, t.AuthRequestID} {
		b = appendString(b, s)
	}
	for _, l := range [][]string{t.Audience, t.Scopes, t.AMR} {
		b = appendList(b, l)
	}
	for _, at := range []time.Time{t.AuthTime, t.CreatedAt, t.ExpiresAt} {
		b = binary.AppendVarint(b, unixNano(at))
	}
	return appendString(b, t.JKT)
}

// readGrant reads what appendGrant appended into t; withJKT is false for
// access tokens of format 1, which end before it.
func (r *claimReader) readGrant(t *storage.Token, withJKT bool) {
	for _, f := range []*string{&t.ID, &t.ClientID, &t.MemberID, &t.ACR, &t.SessionID, &t.FamilyID, &t.AuthRequestID} {
		*f = r.string()
	}
	for _, f := range []*[]string{&t.Audience, &t.Scopes, &t.AMR} {
		*f = r.list()
	}
	for _, f := range []*time.Time{&t.AuthTime, &t.CreatedAt, &t.ExpiresAt} {
		*f = fromUnixNano(r.varint())
	}
	if withJKT {
		t.JKT = r.string()
	}
}

// end fails r unless everything was read.
func (r *claimReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("trailing bytes")
	}
	return r.err
}

// claimReader reads what encodeAccessToken appended; the first error sticks.
type claimReader struct {
	b   []byte
	err error
}

func (r *claimReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("truncated")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint undoes binary.AppendVarint: a zigzag-encoded uvarint.
func (r *claimReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *claimReader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errors.New("truncated")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *claimReader) list() []string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) { // every element takes at least a byte
		r.err = errors.New("truncated")
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = r.string()
	}
	return l
}

// decodeAccessToken parses what encodeAccessToken wrote. Only op's
// authenticated decryption leads here, so a parse error means a bug or a
// format from another version, never a forgery.
func decodeAccessToken(id, subject string) (storage.Token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, accessPrefix))
	if err != nil {
		return storage.Token{}, err
	}
	if len(raw) == 0 || raw[0] != accessFormat && raw[0] != accessFormatV1 {
		return storage.Token{}, errors.New("provider: access token format not supported")
	}
	r := &claimReader{b: raw[1:]}
	t := storage.Token{Kind: storage.AccessToken, Subject: subject}
	r.readGrant(&t, raw[0] == accessFormat)
	if err := r.end(); err != nil {
		return storage.Token{}, fmt.Errorf("provider: access token: %w", err)
	}
	if t.ID == "" || t.ClientID == "" || t.ExpiresAt.IsZero() {
		return storage.Token{}, errors.New("provider: access token lacks id, client or expiry")
	}
	return t, nil
}

// errTokenInvalid: the access token is unknown, expired or revoked.
var errTokenInvalid = errors.New("provider: access token invalid, expired or revoked")

// accessTokenByID returns the access token behind the id and subject op
// decrypted from a bearer value, after checking that it is an access
// token of that subject, unexpired and not revoked.
func (p *Provider) accessTokenByID(ctx context.Context, id, subject string) (storage.Token, error) {
	t, err := p.accessTokenRecord(ctx, id, subject)
	if err != nil {
		return storage.Token{}, err
	}
	// A removed client's tokens are revoked with it; a token minted by a
	// replica that had not yet seen the removal (ClientRegistry) is refused
	// here, once this process has.
	if _, err := p.clients.get(ctx, t.ClientID); errors.Is(err, storage.ErrNotFound) {
		return storage.Token{}, errTokenInvalid
	} else if err != nil {
		return storage.Token{}, fmt.Errorf("provider: client of the token: %w", err)
	}
	return t, nil
}

// accessTokenRecord decodes (or, for an older token, reads) the access
// token and checks its subject, expiry and revocation.
func (p *Provider) accessTokenRecord(ctx context.Context, id, subject string) (storage.Token, error) {
	if !strings.HasPrefix(id, accessPrefix) {
		t, err := p.store.TokenByID(ctx, id) // issued before self-contained tokens
		if storage.Unavailable(err) {
			return storage.Token{}, fmt.Errorf("provider: access token: %w", err)
		}
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

package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"tsubasa/provider/seal"
	"tsubasa/storage"
)

// Refresh tokens carry their grant, sealed. A value is refreshPrefix, 16
// hex digits of its Unix nanoseconds (the storage key's time prefix), and
// base64url of the token's grant sealed with AES-256-GCM (provider/seal)
// under a key derived from HMACKey, with the prefix and time as
// additional data. The stored row stays the authority: its key is the
// HMAC of the whole value, and the rotation that consumes it is the one
// statement that decides whether the token is live (not consumed, not
// revoked, not expired). What the refresh grant needs to decide before
// that (the client, the DPoP binding, the scopes, the member) it opens
// from the value instead of reading the row: a rotating refresh is one
// round trip to the database instead of two.
//
// Nothing is trusted from a value that the row would not confirm: a value
// changed in any byte has another key, so no row, and the rotation finds
// nothing; a value that does not open is refused without a read. The
// grant inside is what the row holds (tokens are never updated, only
// consumed or deleted), so the two cannot disagree. A refresh token
// that is not rotated (FAPI 2.0 clients) is read from the row, as the
// rotation does not confirm it.
//
// The prefix and the key are those of the values issued before, whose
// rest is 32 random bytes (refreshRandomLen characters, and a sealed
// rest is always longer): those are read from their rows until they
// expire, and a replica of the previous version, during a rollout, reads
// the row of a sealed value as it reads any other, and rotates it.
const (
	refreshSealedFormat = 1
	refreshRandomLen    = 43 // base64url of 32 bytes, unpadded
)

func newRefreshBox(hmacKey []byte) (*seal.Box, error) {
	m := hmac.New(sha256.New, hmacKey)
	m.Write([]byte("tsubasa/provider/refresh-token-seal"))
	return seal.New(m.Sum(nil))
}

// sealRefresh returns the value of refresh token t, issued at now: every
// field of its grant but ID (the value's HMAC), Kind and Consumed. The
// grant is an access token's (appendGrant, its ID empty) followed by the
// two fields only a refresh token carries: the subject (an access token
// has it from op) and the ID token claims it hands on.
func (p *Provider) sealRefresh(t storage.Token, now time.Time) (string, error) {
	if t.ClientID == "" || t.ExpiresAt.IsZero() {
		return "", errors.New("provider: refresh token without client or expiry")
	}
	t.ID = ""
	b := appendGrant(append(make([]byte, 0, 320), refreshSealedFormat), t)
	b = appendList(appendString(b, t.Subject), t.IDTokenClaims)
	head := fmt.Sprintf("%s%016x", refreshPrefix, uint64(now.UnixNano()))
	return head + base64.RawURLEncoding.EncodeToString(p.refreshBox.Seal(b, []byte(head))), nil
}

// openRefresh returns the refresh token a sealed value carries, its ID
// derived from the value; ok is false for a value of another format, and
// err says why a sealed one does not open.
func (p *Provider) openRefresh(value string) (t storage.Token, ok bool, err error) {
	rest, ok := strings.CutPrefix(value, refreshPrefix)
	switch {
	case !ok, len(rest) == 16+refreshRandomLen && timePrefix(rest) != "":
		return storage.Token{}, false, nil // older: read from its row
	case timePrefix(rest) == "":
		return storage.Token{}, true, errors.New("no time prefix") // never issued
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest[16:])
	if err != nil {
		return storage.Token{}, true, err
	}
	plain, err := p.refreshBox.Open(raw, []byte(value[:len(refreshPrefix)+16]))
	if err != nil {
		return storage.Token{}, true, err
	}
	if len(plain) == 0 || plain[0] != refreshSealedFormat {
		return storage.Token{}, true, errors.New("format not supported")
	}
	r := &claimReader{b: plain[1:]}
	t = storage.Token{Kind: storage.RefreshToken}
	r.readGrant(&t, true)
	t.Subject, t.IDTokenClaims = r.string(), r.list()
	if err := r.end(); err != nil {
		return storage.Token{}, true, err
	}
	if t.ID != "" {
		return storage.Token{}, true, errors.New("an id inside the grant") // sealRefresh leaves it out
	}
	t.ID = p.refreshTokenID(value)
	return t, true, nil
}

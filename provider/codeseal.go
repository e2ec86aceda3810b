package provider

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"tsubasa/storage"
)

// Authorization codes carry their request. op's code is its request's
// id, encrypted with op's Crypto (AES-256-GCM under CryptoKey, as a
// compact JWE: authenticated, opaque). Tsubasa's code is the same
// encryption of the id followed by codeSealSep and the request as the
// token endpoint needs it (codeGrantOf) with the code's issue and expiry
// times: the token endpoint opens the code and decides the client, the
// redirect URI, PKCE and the DPoP binding without a read, and its one
// write, the claim (storage.AuthRequests.ClaimAuthCodeFresh), makes the
// fresh checks (no revocation since the code, the member's stamp) in the
// same commit as the tokens. On PostgreSQL an exchange is one round trip
// instead of two.
//
// The stored code stays the authority: its key is the HMAC of the whole
// value, so a value changed in any byte finds no row, and the claim is
// what decides it is live (not consumed, not expired, its request still
// there). What the code carries is the request as it was stored with the
// code: SaveAuthCode refuses to store a code whose request is not, field
// for carried field, what the code carries, in the commit that marks the
// request answered (no later write changes an answered request).
//
// A replica of the previous version decrypts the value as op's code and
// reads the id's time prefix from what it decrypts, as before: the key
// it computes is this version's, and it exchanges the code from its row.
// Codes of that version, which decrypt to the id alone, are exchanged
// from their rows here, until they expire a minute later.
const (
	codeSealSep    = "\x00"
	codeSealFormat = 1
)

// sealedCode is what a code carries: the request as its view for the
// token endpoint (codeGrantOf) and the code's record but its key.
type sealedCode struct {
	r storage.AuthRequest
	c storage.AuthCode
}

// codeGrantOf is r with only what the token endpoint uses: what it checks
// the exchange against, what the tokens and the ID token are made of, and
// what the claim checks. The rest (state, hints, the UI's locales, the
// prompt, max_age, the browser, the request's own lifetime) was for the
// login and the answer, and may be long: state is the client's own.
func codeGrantOf(r storage.AuthRequest) storage.AuthRequest {
	return storage.AuthRequest{
		ID: r.ID, ClientID: r.ClientID, RedirectURI: r.RedirectURI, Nonce: r.Nonce, ResponseType: r.ResponseType,
		Scopes: r.Scopes, CodeChallenge: r.CodeChallenge, CodeChallengeMethod: r.CodeChallengeMethod, DPoPJKT: r.DPoPJKT,
		IDTokenClaims: r.IDTokenClaims, MemberID: r.MemberID, Done: r.Done, AuthTime: r.AuthTime, ACR: r.ACR, AMR: r.AMR,
		SessionID: r.SessionID, CodeIssued: r.CodeIssued, MemberStamp: r.MemberStamp,
	}
}

// appendCodeGrant appends codeGrantOf(r) but its ID (which the code
// has before it) and the code's times.
func appendCodeGrant(b []byte, r storage.AuthRequest, c storage.AuthCode) []byte {
	b = append(b, codeSealFormat)
	for _, s := range []string{r.ClientID, r.RedirectURI, r.Nonce, r.ResponseType, r.CodeChallenge, r.CodeChallengeMethod,
		r.DPoPJKT, r.MemberID, r.ACR, r.SessionID, r.MemberStamp} {
		b = appendString(b, s)
	}
	for _, l := range [][]string{r.Scopes, r.IDTokenClaims, r.AMR} {
		b = appendList(b, l)
	}
	for _, at := range []time.Time{r.AuthTime, c.CreatedAt, c.ExpiresAt} {
		b = binary.AppendVarint(b, unixNano(at))
	}
	var flags byte
	if r.Done {
		flags |= 1
	}
	if r.CodeIssued {
		flags |= 2
	}
	return append(b, flags)
}

// readCodeGrant reads what appendCodeGrant appended for request id.
func readCodeGrant(id string, b []byte) (sealedCode, error) {
	if len(b) == 0 || b[0] != codeSealFormat {
		return sealedCode{}, errors.New("code format not supported")
	}
	rd := &claimReader{b: b[1:]}
	s := sealedCode{r: storage.AuthRequest{ID: id}}
	r := &s.r
	for _, f := range []*string{&r.ClientID, &r.RedirectURI, &r.Nonce, &r.ResponseType, &r.CodeChallenge, &r.CodeChallengeMethod,
		&r.DPoPJKT, &r.MemberID, &r.ACR, &r.SessionID, &r.MemberStamp} {
		*f = rd.string()
	}
	for _, f := range []*[]string{&r.Scopes, &r.IDTokenClaims, &r.AMR} {
		*f = rd.list()
	}
	for _, f := range []*time.Time{&r.AuthTime, &s.c.CreatedAt, &s.c.ExpiresAt} {
		*f = fromUnixNano(rd.varint())
	}
	if len(rd.b) == 0 {
		rd.err = errors.New("truncated")
	}
	if rd.err == nil {
		flags := rd.b[0]
		rd.b = rd.b[1:]
		r.Done, r.CodeIssued = flags&1 != 0, flags&2 != 0
		if flags&^3 != 0 {
			rd.err = errors.New("unknown flags")
		}
	}
	if err := rd.end(); err != nil {
		return sealedCode{}, err
	}
	s.c.AuthRequestID = r.ID
	return s, nil
}

// sameCodeGrant reports whether a and b carry the same code grant, as a
// code would carry it (nil and empty lists alike, times to the
// nanosecond).
func sameCodeGrant(a, b storage.AuthRequest) bool {
	var none storage.AuthCode
	return a.ID == b.ID && string(appendCodeGrant(nil, codeGrantOf(a), none)) == string(appendCodeGrant(nil, codeGrantOf(b), none))
}

// codeSealer is op's Crypto for one answer: the code it makes for that
// answer's request carries the request (as it will be stored with the
// code: answered) and the code's times. Anything else it encrypts or
// decrypts as op's own.
type codeSealer struct {
	op.Crypto
	r       storage.AuthRequest
	created time.Time
	expires time.Time
	code    string // the code it made, for SaveAuthCode
}

// newCodeSealer returns the sealer for the answer to r.
func (p *Provider) newCodeSealer(ctx context.Context, r storage.AuthRequest) *codeSealer {
	now := p.now().UTC()
	r.CodeIssued = true
	return &codeSealer{Crypto: p.op.Crypto(), r: r, created: now, expires: now.Add(p.codeTTL(ctx, r.ClientID))}
}

func (s *codeSealer) Encrypt(id string) (string, error) {
	if id != s.r.ID || strings.Contains(id, codeSealSep) {
		return s.Crypto.Encrypt(id)
	}
	b := appendCodeGrant(append(make([]byte, 0, 512), id+codeSealSep...), codeGrantOf(s.r), storage.AuthCode{CreatedAt: s.created, ExpiresAt: s.expires})
	code, err := s.Crypto.Encrypt(string(b))
	if err == nil {
		s.code = code
	}
	return code, err
}

type sealerKey struct{}

// withCodeSealer carries s to SaveAuthCode, which op calls with the code
// s made, in the same HTTP request.
func withCodeSealer(ctx context.Context, s *codeSealer) context.Context {
	return context.WithValue(ctx, sealerKey{}, s)
}

// sealedOf is what code carries, from the sealer that made it in this
// HTTP request or else by opening it; ok is false for a code that carries
// no request.
func (p *Provider) sealedOf(ctx context.Context, code string) (sealedCode, bool) {
	if s, _ := ctx.Value(sealerKey{}).(*codeSealer); s != nil && s.code != "" && s.code == code {
		return sealedCode{r: codeGrantOf(s.r), c: storage.AuthCode{AuthRequestID: s.r.ID, CreatedAt: s.created, ExpiresAt: s.expires}}, true
	}
	_, sc, ok := p.openCode(code)
	return sc, ok
}

// openCode decrypts a code: its request's id, and what it carries (ok
// false for a code of op's own format, or one that does not decrypt,
// whose id is then "").
func (p *Provider) openCode(code string) (id string, sc sealedCode, ok bool) {
	plain, err := p.op.Crypto().Decrypt(code)
	if err != nil {
		return "", sealedCode{}, false
	}
	id, rest, sealed := strings.Cut(plain, codeSealSep)
	if !sealed {
		return id, sealedCode{}, false
	}
	sc, err = readCodeGrant(id, []byte(rest))
	if err != nil {
		// Made by a version that wrote another format: not one this
		// version can decide from, but its row still can.
		return id, sealedCode{}, false
	}
	return id, sc, true
}

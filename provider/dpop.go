package provider

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DPoP proofs (RFC 9449 §4): a client proves, request by request, that it
// holds the private key its tokens are bound to. checkProof checks what a
// proof says on its own (§4.3 steps 1 to 9 and 12): the checks a stranger
// can fail come first and need nothing but the header's key, so that no
// proof reaches the replay store (§4.3 step 11, dpopreplay.go) or the
// nonce check (step 10, dpopnonce.go) before it has verified:
//
//   - one DPoP header (the caller counts them), a compact JWS (never an
//     encrypted or JSON-serialised one) of one signature;
//   - typ dpop+jwt, so that no other JWT the client signed (a client
//     assertion, a request object) passes for a proof;
//   - alg one of the allowed asymmetric algorithms (never none, never an
//     HMAC), the algs of the endpoint's client when it is held to a profile;
//   - jwk a public key (go-jose refuses a private one at parse time, and
//     checkProof again), RSA of 2048 bits or more, that verifies the
//     signature;
//   - jti present (at most 256 characters), htm the request's method, htu
//     the request's URL without query and fragment, compared after the
//     normalisations of RFC 3986 §6.2.2 and §6.2.3 (scheme and host in
//     lower case, no default port);
//   - iat present and recent: at most Options.DPoPProofMaxAge old and at
//     most dpopFutureLeeway ahead (FAPI 2.0 wants 10 s of clock skew
//     tolerated); exp and nbf, when present, not past and not ahead;
//   - ath, when an access token comes with the proof, the base64url SHA-256
//     of that token (compared in constant time).
//
// The thumbprint of the key (RFC 7638, SHA-256) is what tokens are bound
// to: cnf.jkt (RFC 9449 §6).

const (
	dpopType         = "dpop+jwt"
	dpopFutureLeeway = 15 * time.Second
	maxProofLength   = 8 << 10
)

// dpopSigningAlgs are the algorithms of DPoP proofs (discovery's
// dpop_signing_alg_values_supported); fapi2Algs those of clients held to
// the FAPI 2.0 profile (fapi.go).
var dpopSigningAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256, jose.EdDSA}

// dpopProof is a proof whose signature and claims checked out.
type dpopProof struct {
	jkt   string // RFC 7638 SHA-256 thumbprint of the proof's key, base64url
	alg   string
	jti   string
	iat   time.Time
	nonce string
}

// proofWant is what the request a proof came with says: the proof must
// match it.
type proofWant struct {
	method string
	url    string // the endpoint's URL as the client calls it
	// accessToken is the token presented with the proof at a resource
	// ("" at the token and pushed request endpoints).
	accessToken string
	algs        []jose.SignatureAlgorithm
	maxAge      time.Duration
}

// proofClaims are a DPoP proof's claims (RFC 9449 §4.2).
type proofClaims struct {
	JTI       string           `json:"jti"`
	HTM       string           `json:"htm"`
	HTU       string           `json:"htu"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ATH       *string          `json:"ath"`
	Nonce     *string          `json:"nonce"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
}

// errProof is an invalid_dpop_proof (RFC 9449 §12.2) with its description.
type errProof string

func (e errProof) Error() string { return string(e) }

// checkProof checks raw, a DPoP header's value, against want at now.
func checkProof(raw string, want proofWant, now time.Time) (dpopProof, error) {
	if raw == "" || len(raw) > maxProofLength || strings.Count(raw, ".") != 2 {
		return dpopProof{}, errProof("the DPoP proof must be a signed JWT in compact form")
	}
	jws, err := jose.ParseSignedCompact(raw, want.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return dpopProof{}, errProof("the DPoP proof must be a JWT signed with one of: " + strings.Join(strs(want.algs), ", "))
	}
	h := jws.Signatures[0].Header
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, dpopType) {
		return dpopProof{}, errProof("the DPoP proof's typ must be dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return dpopProof{}, errProof("the DPoP proof's header must carry the public key (jwk) that signed it")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return dpopProof{}, errProof("the DPoP proof's RSA key must have 2048 bits or more")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return dpopProof{}, errProof("the DPoP proof's signature does not verify with its jwk")
	}
	var c proofClaims
	if json.Unmarshal(payload, &c) != nil {
		return dpopProof{}, errProof("the DPoP proof's claims are not a JSON object of the registered claim types")
	}
	if err := checkProofClaims(c, want, now); err != nil {
		return dpopProof{}, err
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return dpopProof{}, errProof("the DPoP proof's key has no thumbprint")
	}
	p := dpopProof{jkt: base64.RawURLEncoding.EncodeToString(sum), alg: h.Algorithm, jti: c.JTI, iat: c.IssuedAt.Time()}
	if c.Nonce != nil {
		p.nonce = *c.Nonce
	}
	return p, nil
}

// checkProofClaims checks a verified proof's claims against want.
func checkProofClaims(c proofClaims, want proofWant, now time.Time) error {
	switch {
	case c.JTI == "" || len(c.JTI) > maxJTILength:
		return errProof("the DPoP proof must have a jti (at most 256 characters)")
	case c.HTM != want.method:
		return errProof("the DPoP proof's htm must be the request's method, " + want.method)
	case !sameHTU(c.HTU, want.url):
		return errProof("the DPoP proof's htu must be the URL of this endpoint, " + want.url)
	case c.IssuedAt == nil:
		return errProof("the DPoP proof must have iat")
	case c.IssuedAt.Time().After(now.Add(dpopFutureLeeway)):
		return errProof("the DPoP proof's iat is in the future: check the client's clock")
	case c.IssuedAt.Time().Before(now.Add(-want.maxAge)):
		return errProof("the DPoP proof is too old: make a new proof for every request")
	case c.Expiry != nil && !now.Before(c.Expiry.Time().Add(dpopFutureLeeway)),
		c.NotBefore != nil && c.NotBefore.Time().After(now.Add(dpopFutureLeeway)):
		return errProof("the DPoP proof is expired or not valid yet (exp, nbf)")
	}
	if want.accessToken == "" {
		return nil
	}
	if c.ATH == nil {
		return errProof("the DPoP proof must have ath, the hash of the access token it comes with")
	}
	sum := sha256.Sum256([]byte(want.accessToken))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(ath)) != 1 {
		return errProof("the DPoP proof's ath is not the hash of this access token")
	}
	return nil
}

// sameHTU reports whether htu names the endpoint at want: the same
// scheme, host, port and path, whatever the query and fragment, after
// RFC 3986 §6.2.2 and §6.2.3 normalisation.
func sameHTU(htu, want string) bool {
	a, ok1 := normalHTU(htu)
	b, ok2 := normalHTU(want)
	return ok1 && ok2 && a == b
}

func normalHTU(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" {
		host = strings.Trim(host, "[]")
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

// proofHeader returns the request's one DPoP header ("" when it has none),
// or an error when it has more than one (RFC 9449 §4.3 step 1).
func proofHeader(r *http.Request) (string, error) {
	switch v := r.Header.Values("DPoP"); len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", errProof("send one DPoP header")
	}
}

// algsFor are the proof algorithms a client may use.
func algsFor(fapi bool) []jose.SignatureAlgorithm {
	if fapi {
		return fapi2Algs
	}
	return dpopSigningAlgs
}

package loadtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Credentials signed per request: client assertions (private_key_jwt) and
// DPoP proofs (RFC 9449, with --dpop). A partner's server signs one per
// request on its own CPU; here the load generator shares the server's
// machine, and every signature it makes inside the timed run is CPU taken
// from the server. With --presign N the command signs N of them before
// the clock starts (each with its own jti, as the server requires) and
// hands one out per request; when they run out it signs on demand and
// the report counts those (signed_inline). A pre-signed credential is
// dated when it was signed, so a run must end within the server's
// lifetime for it: 5 minutes for assertions, dpop.proof_max_age (60 s by
// default) for proofs.

// pool hands out pre-signed credentials, then signs on demand.
type pool struct {
	items  []string
	next   atomic.Int64
	inline atomic.Int64
	sign   func() (string, error)
}

// newPool signs n credentials with sign.
func newPool(n int, sign func() (string, error)) (*pool, error) {
	p := &pool{sign: sign, items: make([]string, n)}
	for i := range p.items {
		v, err := sign()
		if err != nil {
			return nil, err
		}
		p.items[i] = v
	}
	return p, nil
}

// take returns an unused credential.
func (p *pool) take() (string, error) {
	if i := p.next.Add(1) - 1; i < int64(len(p.items)) {
		v := p.items[i]
		p.items[i] = "" // used once: let it go
		return v, nil
	}
	p.inline.Add(1)
	return p.sign()
}

// dpopSigner signs the load's DPoP proofs, all with one P-256 key: its
// tokens are bound to that key.
type dpopSigner struct{ signer jose.Signer }

func newDPoPSigner() (*dpopSigner, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, fmt.Errorf("loadtest: DPoP key: %w", err)
	}
	return &dpopSigner{signer: s}, nil
}

// proofClaims are a DPoP proof's claims (RFC 9449 §4.2).
type proofClaims struct {
	JTI string `json:"jti"`
	HTM string `json:"htm"`
	HTU string `json:"htu"`
	IAT int64  `json:"iat"`
	ATH string `json:"ath,omitempty"`
}

// proof is a fresh proof for a request of method to htu, with the hash of
// accessToken when one goes with it.
func (d *dpopSigner) proof(method, htu, accessToken string) (string, error) {
	c := proofClaims{JTI: rand.Text(), HTM: method, HTU: htu, IAT: time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c.ATH = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return jwt.Signed(d.signer).Claims(c).Serialize()
}

// presign signs what the run's requests will present, before the clock
// starts: the client's assertions, and with --dpop the token requests'
// proofs (for the scenarios that time the token endpoint).
func (l *loader) presign() error {
	var err error
	if l.auth.signer != nil {
		if l.auth.assertions, err = newPool(l.o.Presign, l.auth.assertion); err != nil {
			return err
		}
	}
	if !l.o.DPoP {
		return nil
	}
	if l.dpop, err = newDPoPSigner(); err != nil {
		return err
	}
	n := 0
	if l.o.Scenario == "client-credentials" || l.o.Scenario == "refresh" {
		n = l.o.Presign
	}
	l.proofs, err = newPool(n, func() (string, error) { return l.dpop.proof("POST", l.ep.Token, "") })
	return err
}

// presignUserinfo gives the worker its share of pre-signed proofs for
// userinfo with its access token.
func (w *worker) presignUserinfo() error {
	l := w.l
	if l.dpop == nil {
		return nil
	}
	var err error
	w.proofs, err = newPool(l.o.Presign/max(l.o.Concurrency, 1), func() (string, error) {
		return l.dpop.proof("GET", l.ep.Userinfo, w.access)
	})
	return err
}

// signedInline is how many credentials were signed inside the timed run.
func (l *loader) signedInline(workers []*worker) int64 {
	var n int64
	for _, p := range []*pool{l.auth.assertions, l.proofs} {
		if p != nil {
			n += p.inline.Load()
		}
	}
	for _, w := range workers {
		if w.proofs != nil {
			n += w.proofs.inline.Load()
		}
	}
	return n
}

package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// partner checks the sections of partner-grade OAuth: pushed
// authorization requests and outbound requests.
func (v *checker) partner(par PARConfig, out OutboundConfig) {
	// The request_uri is a reference the browser carries within seconds
	// of the push (RFC 9126 §2.2); FAPI 2.0 wants under 600 s.
	if par.RequestURITTL < 5*time.Second || par.RequestURITTL > 5*time.Minute {
		v.add("par.request_uri_ttl", "must be from 5s to 5m (got %s)", par.RequestURITTL)
	}
	if out.Timeout < 100*time.Millisecond || out.Timeout > time.Minute {
		v.add("outbound.timeout", "must be from 100ms to 1m (got %s)", out.Timeout)
	}
	v.between("outbound.max_response_bytes", out.MaxResponseBytes, 1<<10, 16<<20)
}

// clientAuth checks how client cl (at path p) authenticates and the keys
// it signs with.
func (v *checker) clientAuth(p string, cl ClientConfig, hasSecret bool) {
	m := cl.TokenEndpointAuthMethod
	path := p + ".token_endpoint_auth_method"
	switch m {
	case "":
	case AuthMethodNone:
		if !cl.Public {
			v.add(path, "none is for public clients: set public: true, or choose a method that authenticates")
		}
	case AuthMethodBasic, AuthMethodPost:
		if cl.Public {
			v.add(path, "a public client has no secret: use none (or leave it empty)")
		}
	case AuthMethodPrivateKey:
		switch {
		case cl.Public:
			v.add(path, "a public client does not authenticate: use none (or leave it empty)")
		case hasSecret:
			v.add(p+".secret", "a private_key_jwt client authenticates with its keys: remove secret and secret_file")
		case cl.JWKS == "" && cl.JWKSURI == "":
			v.add(path, "private_key_jwt needs the client's public keys in jwks or jwks_uri")
		}
	default:
		v.add(path, "must be one of %s, %s, %s, %s (got %q)", AuthMethodBasic, AuthMethodPost, AuthMethodPrivateKey, AuthMethodNone, m)
	}
	if cl.JWKS != "" && cl.JWKSURI != "" {
		v.add(p+".jwks_uri", "give the keys in jwks or at jwks_uri, not both")
	}
	if cl.JWKS != "" {
		if err := CheckClientJWKS(cl.JWKS); err != nil {
			v.add(p+".jwks", "%v", err)
		}
	}
	if cl.JWKSURI != "" {
		v.webURL(p+".jwks_uri", cl.JWKSURI, true)
	}
}

// CheckClientJWKS reports what is wrong with a client's JWK Set: it must
// be a JWK Set (RFC 7517 §5) of public keys only, RSA of 2048 bits or more,
// EC or Ed25519, with at least one for signatures. The provider applies
// the same rules when it reads the keys.
func CheckClientJWKS(raw string) error {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return fmt.Errorf("must be a JWK Set as JSON, {\"keys\": [...]} (%v)", err)
	}
	signing := 0
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("keys[%d] (kid %q) is private or symmetric: give the public keys only", i, k.KeyID)
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() < 2048 {
				return fmt.Errorf("keys[%d] (kid %q): RSA keys need 2048 bits or more", i, k.KeyID)
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return fmt.Errorf("keys[%d] (kid %q): a key of type %T is not RSA, EC or Ed25519", i, k.KeyID, k.Key)
		}
		if k.Use != "enc" {
			signing++
		}
	}
	if signing == 0 {
		return fmt.Errorf("holds no key for signatures")
	}
	return nil
}

// dpop checks the dpop section.
func (v *checker) dpop(d DPoPConfig) {
	// A proof is made for one request, at once: minutes are plenty for
	// clock skew and retries, and every second more is kept in the replay
	// store.
	if d.ProofMaxAge < 5*time.Second || d.ProofMaxAge > 5*time.Minute {
		v.add("dpop.proof_max_age", "must be from 5s to 5m (got %s)", d.ProofMaxAge)
	}
	if d.RequireNonce && (d.NonceTTL < 10*time.Second || d.NonceTTL > time.Hour) {
		v.add("dpop.nonce_ttl", "must be from 10s to 1h when dpop.require_nonce is true (got %s)", d.NonceTTL)
	}
}

// clientProfile checks the security profile client cl (at path p) is
// held to: fapi2 wants a confidential client that authenticates with its
// keys and signs its ID tokens with ES256 or PS256.
func (v *checker) clientProfile(p string, cl ClientConfig) {
	switch cl.Profile {
	case "":
	case ProfileFAPI2:
		if cl.Public {
			v.add(p+".public", "the fapi2 profile is for confidential clients only")
		}
		if cl.TokenEndpointAuthMethod != AuthMethodPrivateKey {
			v.add(p+".token_endpoint_auth_method", "the fapi2 profile needs private_key_jwt (got %q)", cl.TokenEndpointAuthMethod)
		}
		if cl.IDTokenSignedResponseAlg != AlgES256 && cl.IDTokenSignedResponseAlg != AlgPS256 {
			v.add(p+".id_token_signed_response_alg", "the fapi2 profile allows ES256 or PS256 only (got %q)", cl.IDTokenSignedResponseAlg)
		}
	default:
		v.add(p+".profile", "must be empty or %s (got %q)", ProfileFAPI2, cl.Profile)
	}
}

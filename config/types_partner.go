package config

import "time"

// PARConfig governs pushed authorization requests (RFC 9126).
type PARConfig struct {
	// RequestURITTL is how long a pushed request's request_uri may be used
	// at /authorize (the answer's expires_in).
	RequestURITTL time.Duration `yaml:"request_uri_ttl"`
	// Required makes every client push its authorization requests;
	// discovery then says require_pushed_authorization_requests: true.
	Required bool `yaml:"required"`
}

// OutboundConfig governs requests to addresses clients register (a
// jwks_uri; later back-channel logout URIs and webhooks).
type OutboundConfig struct {
	// AllowPrivateNetworks lets such requests reach loopback, private,
	// link-local and other special-use addresses, which are refused
	// otherwise. For tests, and deployments whose partners are on a
	// private network.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// Timeout bounds one request, from connecting to the last byte.
	Timeout time.Duration `yaml:"timeout"`
	// MaxResponseBytes bounds the body read from an answer.
	MaxResponseBytes int `yaml:"max_response_bytes"`
}

// DPoPConfig governs DPoP proofs (RFC 9449).
type DPoPConfig struct {
	// ProofMaxAge is how old a proof's iat may be.
	ProofMaxAge time.Duration `yaml:"proof_max_age"`
	// RequireNonce makes every proof carry a nonce the server issued (the
	// DPoP-Nonce header), at most NonceTTL old.
	RequireNonce bool          `yaml:"require_nonce"`
	NonceTTL     time.Duration `yaml:"nonce_ttl"`
}

// ProfileFAPI2 is clients[].profile for the FAPI 2.0 Security Profile.
const ProfileFAPI2 = "fapi2"

// Client authentication methods (clients[].token_endpoint_auth_method).
const (
	AuthMethodBasic      = "client_secret_basic"
	AuthMethodPost       = "client_secret_post"
	AuthMethodPrivateKey = "private_key_jwt"
	AuthMethodNone       = "none"
)

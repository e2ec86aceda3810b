package storage

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// Client is a relying party stored in the database (clients from the config
// file are merged in by the provider and never stored).
type Client struct {
	ID                     string
	SecretHash             []byte // HMAC-SHA-256 of the secret; nil for public clients
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	ThirdParty             bool
	GrantTypes             []string
	Scopes                 []string
	IDTokenAlg             string // RS256 or ES256
	LogoURI                string
	PolicyURI              string
	// TokenEndpointAuthMethod is how the client authenticates (RFC 7591
	// §2): client_secret_basic, client_secret_post, private_key_jwt or
	// none. Empty, as for clients stored before it: none for a public
	// client, its secret by either method otherwise.
	TokenEndpointAuthMethod string
	// JWKS is the client's public keys as a JWK Set (JSON), for
	// private_key_jwt and signed request objects; JWKSURI is where the
	// client publishes them instead. At most one is set.
	JWKS    string
	JWKSURI string
	// RequirePAR: the client's authorization requests must come through
	// the pushed authorization request endpoint (RFC 9126 §6).
	RequirePAR bool
	CreatedAt  time.Time
	UpdatedAt  time.Time

	// DPoPBoundAccessTokens: the client's token requests must carry a DPoP
	// proof (RFC 9449 §5.2), so every token it gets is bound to its key.
	DPoPBoundAccessTokens bool
	// Profile is a security profile the client is held to: "" for none,
	// "fapi2" for the FAPI 2.0 Security Profile (pushed requests, PKCE,
	// DPoP-bound tokens, private_key_jwt, ES256 or PS256 only).
	Profile string

	// BackchannelLogoutURI is where the client takes logout tokens
	// (OpenID Connect Back-Channel Logout 1.0 §2.2); "" for none.
	// BackchannelLogoutSessionRequired: the client needs sid in its
	// logout tokens and ID tokens (§2.2).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
}

// LogValue keeps the secret hash out of logs.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.Bool("third_party", c.ThirdParty))
}

// Clients stores relying parties.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	ClientByID(ctx context.Context, id string) (Client, error)
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) error
	// DeleteClient deletes the client and, in the same commit, every
	// member's consent for it and every token it holds: the stored ones
	// are deleted and the revocation of the others recorded, as
	// DeleteTokens(TokenFilter{ClientID: id}) does. Nothing issued to the
	// client keeps working, and a client created later under the same id
	// inherits no consent. It returns what it deleted; ErrNotFound, writing
	// nothing, when there is no such client.
	DeleteClient(ctx context.Context, id string) (RemovedClient, error)
	ListClients(ctx context.Context) ([]Client, error)
}

// RemovedClient is what DeleteClient deleted with the client.
type RemovedClient struct {
	Tokens   int // stored tokens (refresh tokens, older access tokens)
	Consents int // members' consents
}

// AuthRequest is an authorization request between /authorize and the code
// exchange: what the relying party asked for, and what the login UI recorded.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              *int64 // seconds; nil when absent
	UILocales           []string
	LoginHint           string
	ACRValues           []string
	HintSubject         string // subject of a verified id_token_hint
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10): the JWK SHA-256
	// thumbprint of dpop_jkt, or of the proof sent with the pushed request.
	DPoPJKT string
	// IDTokenClaims are the claims the claims parameter (OpenID Connect
	// Core 1.0 §5.5) asked for in the ID token, by name.
	IDTokenClaims []string
	// DeviceGrant is the device grant (RFC 8628, DeviceGrant.ID) this login
	// approves: the login UI made the request for a user code entered at
	// /device, and answers it by approving that grant, never with a code.
	DeviceGrant string

	// Written by the login UI.
	BrowserSession string // the browser session the request is bound to
	MemberID       string
	Done           bool
	AuthTime       time.Time
	ACR            string
	AMR            []string
	SessionID      string // the SSO session (sid)
	CodeIssued     bool   // a code was minted; the callback cannot mint another
	// MemberStamp is the member's SecurityStamp the login was made under:
	// once a credential change replaces it, the code mints nothing.
	MemberStamp string

	CreatedAt time.Time
	ExpiresAt time.Time
}

// Clone returns r with its own copies of r's slices and pointer, so that
// a holder of one cannot change what the other holds; nil stays nil and
// empty stays empty, as through the stores' encodings.
func (r AuthRequest) Clone() AuthRequest {
	r.Scopes = slices.Clone(r.Scopes)
	r.Prompt = slices.Clone(r.Prompt)
	r.UILocales = slices.Clone(r.UILocales)
	r.ACRValues = slices.Clone(r.ACRValues)
	r.IDTokenClaims = slices.Clone(r.IDTokenClaims)
	r.AMR = slices.Clone(r.AMR)
	if r.MaxAge != nil {
		v := *r.MaxAge
		r.MaxAge = &v
	}
	return r
}

// Expired reports whether the request is past its lifetime.
func (r AuthRequest) Expired(now time.Time) bool { return !now.Before(r.ExpiresAt) }

// AuthCode is an issued authorization code, stored by its HMAC.
type AuthCode struct {
	Hash          string
	AuthRequestID string
	Consumed      bool
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// AuthRequests stores authorization requests and their codes. A request is
// durable once a code has been saved for it; before that a backend may keep
// it in memory only (a crash loses logins in progress, never a code), if
// it is the only process: a backend shared by several keeps every request
// where each of them finds it, since any of them may serve the next step.
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	AuthRequestByID(ctx context.Context, id string) (AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, fn func(AuthRequest) (AuthRequest, error)) error
	// DeleteAuthRequest removes the request but not its codes, which stay
	// (consumed) until they expire so that a replay is still recognised.
	DeleteAuthRequest(ctx context.Context, id string) error
	SaveAuthCode(ctx context.Context, c AuthCode) error
	// IssueAuthCode applies fn to c's request, as UpdateAuthRequest does,
	// and stores c, in one commit: both or neither. fn's error stores
	// nothing and is returned; a missing request is ErrNotFound, a code
	// whose key is taken ErrAlreadyExists. A request that may yield one
	// code only is marked by fn, and of concurrent issuers the second
	// sees the mark.
	IssueAuthCode(ctx context.Context, c AuthCode, fn func(AuthRequest) (AuthRequest, error)) error
	// PeekAuthCode returns the code and its request as ClaimAuthCode would,
	// with the same errors, without claiming anything.
	PeekAuthCode(ctx context.Context, hash string, now time.Time) (AuthCode, AuthRequest, error)
	// ClaimAuthCode atomically marks the code consumed, deletes its request,
	// creates tokens (as CreateTokens) and returns the code and request: all
	// of it in one commit, or nothing. A second claim returns the code (so
	// the caller can revoke what it minted by its AuthRequestID) and an error
	// wrapping ErrConsumed; an unknown or expired code ErrNotFound.
	ClaimAuthCode(ctx context.Context, hash string, now time.Time, tokens ...Token) (AuthCode, AuthRequest, error)
	// ClaimAuthCodeFresh is ClaimAuthCode for a caller that knows the
	// code's request already (a code that carries it:
	// provider/codeseal.go), with the code exchange's fresh checks in the
	// same commit: tokens are stored only if check finds nothing, and the
	// verdict says what it found. The checks read the revocations and the
	// member as the commit sees them, never a replica's cache. The code
	// is claimed and its request deleted either way: a code whose tokens
	// may not be minted is spent. Errors are ClaimAuthCode's (ErrConsumed
	// with the code, ErrNotFound), and on any error nothing changed. On
	// PostgreSQL it is one statement: the exchange's only round trip.
	ClaimAuthCodeFresh(ctx context.Context, hash string, now time.Time, check CodeCheck, tokens ...Token) (AuthCode, ClaimVerdict, error)
}

// TokenKind tells access tokens from refresh tokens.
type TokenKind string

// Token kinds.
const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Token is an issued access or refresh token. Access tokens are keyed by a
// random id carried inside the encrypted bearer value; refresh tokens by the
// HMAC of the opaque value handed to the client.
type Token struct {
	ID            string
	Kind          TokenKind
	ClientID      string
	MemberID      string // empty for client credentials
	Subject       string // the sub this client sees (pairwise for third parties)
	Audience      []string
	Scopes        []string
	AuthTime      time.Time
	ACR           string
	AMR           []string
	SessionID     string // SSO session the token descends from
	FamilyID      string // refresh-rotation family
	AuthRequestID string // the authorization request (code) that started the family
	Consumed      bool   // a refresh token that was rotated
	// JKT is the JWK SHA-256 thumbprint of the DPoP key the token is bound
	// to (RFC 9449 §6: cnf.jkt); "" for a token bound to no key.
	JKT string
	// IDTokenClaims are the claims the claims parameter asked for in ID
	// tokens: a refresh token carries them to the ID tokens it mints.
	IDTokenClaims []string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Expired reports whether the token is past its lifetime.
func (t Token) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// Tombstone is what a rotated refresh token keeps until its ExpiresAt, so
// that a replay of it is recognised and revokes its family: its key and
// kind, the consumed mark, its expiry, its family and its client (the
// replay's log line names it). Nothing else: not what the grant carried
// (subject, audience, scopes, authentication, DPoP key, claims), which the
// live token after it carries on, nor the member, session or
// authorization request. So a tombstone is no personal data (an HMAC, a
// random family id, a client id), and a revocation by member, session or
// authorization request (an erasure, a logout, a replayed code) leaves it
// alone: what it revokes is live, and a replay of the tombstone finds a
// family revoked already. It is found by its key, by its family and
// client, and by the janitor once expired.
func (t Token) Tombstone() Token {
	return Token{ID: t.ID, Kind: t.Kind, ClientID: t.ClientID, FamilyID: t.FamilyID, Consumed: true, ExpiresAt: t.ExpiresAt}
}

// TokenFilter selects tokens; every non-empty field must match and at least
// one must be set.
type TokenFilter struct {
	ID            string
	MemberID      string
	ClientID      string
	SessionID     string
	FamilyID      string
	AuthRequestID string
}

// Tokens stores access and refresh tokens.
type Tokens interface {
	// CreateTokens stores all or none.
	CreateTokens(ctx context.Context, ts ...Token) error
	// TokenByID returns the token, consumed refresh tokens (tombstones)
	// included.
	TokenByID(ctx context.Context, id string) (Token, error)
	// RotateRefreshToken atomically replaces the refresh token oldID by its
	// Tombstone (consumed) and stores next. It returns the tombstone;
	// ErrConsumed (with the tombstone, so the caller can revoke its
	// family) when it was already rotated, and ErrNotFound when it is
	// unknown, revoked or expired at now.
	RotateRefreshToken(ctx context.Context, oldID string, now time.Time, next ...Token) (Token, error)
	DeleteToken(ctx context.Context, id string) error
	// DeleteTokens revokes every token the filter selects: it removes the
	// stored ones and returns how many, and in the same write records the
	// revocation for tokens that are not stored (self-contained access
	// tokens), which TokenRevoked then reports.
	DeleteTokens(ctx context.Context, f TokenFilter) (int, error)
	// TokenRevoked reports whether a DeleteTokens call that selects t was
	// made at or after t.CreatedAt. t is typically decoded from a bearer
	// value rather than read from storage. Revocations are remembered at
	// least as long as the longest access-token lifetime.
	TokenRevoked(ctx context.Context, t Token) (bool, error)
	ListTokens(ctx context.Context, f TokenFilter) ([]Token, error)
}

// SigningKey is a token signing key. A key is published from CreatedAt,
// signs from ActiveAt until RetiredAt, and stays published until
// ExpiresAt, when no token it signed can still be valid. Publishing a key
// before it signs lets every replica, and every cache of the key set,
// hold it before the first token it signs is seen.
type SigningKey struct {
	ID         string // kid
	Algorithm  string // RS256 or ES256
	PrivateKey []byte // PKCS#8 DER
	CreatedAt  time.Time
	ActiveAt   time.Time // signs from then on; zero: from CreatedAt
	RetiredAt  time.Time // signs until then; zero while no successor is scheduled
	ExpiresAt  time.Time // zero while active
}

// LogValue keeps the private key out of logs.
func (k SigningKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.ID), slog.String("alg", k.Algorithm))
}

// Keys stores signing keys.
type Keys interface {
	CreateKey(ctx context.Context, k SigningKey) error
	ListKeys(ctx context.Context) ([]SigningKey, error)
	UpdateKey(ctx context.Context, id string, fn func(SigningKey) (SigningKey, error)) error
	DeleteKey(ctx context.Context, id string) error
}

// Secrets holds server secrets generated on first start (HMAC keys, cookie
// keys) so that a restart keeps sessions and tokens valid.
type Secrets interface {
	// Secret returns the secret called name, creating it with create (once,
	// even under concurrent callers) when absent.
	Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error)
}

package adminapi

import (
	"net/url"
	"time"
)

// Empty is the request or response of an operation that has none.
type Empty struct{}

// IDInput names a client.
type IDInput struct {
	ID string `json:"id"`
}

// ClientInput is a new relying party. Empty grant types, scopes and ID
// token algorithm take the same defaults as clients in the config file.
type ClientInput struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name,omitempty"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Public                 bool     `json:"public,omitempty"`
	ThirdParty             bool     `json:"third_party,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	IDTokenAlg             string   `json:"id_token_alg,omitempty"`
	LogoURI                string   `json:"logo_uri,omitempty"`
	PolicyURI              string   `json:"policy_uri,omitempty"`
	// TokenEndpointAuthMethod, JWKS (a JWK Set as JSON), JWKSURI and
	// RequirePAR are the partner settings of config's clients
	// (token_endpoint_auth_method, jwks, jwks_uri,
	// require_pushed_authorization_requests). A private_key_jwt client
	// gets no secret.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	JWKS                    string `json:"jwks,omitempty"`
	JWKSURI                 string `json:"jwks_uri,omitempty"`
	RequirePAR              bool   `json:"require_pushed_authorization_requests,omitempty"`

	// DPoPBoundAccessTokens and Profile are config's
	// dpop_bound_access_tokens and profile ("" or fapi2).
	DPoPBoundAccessTokens bool   `json:"dpop_bound_access_tokens,omitempty"`
	Profile               string `json:"profile,omitempty"`

	// BackchannelLogoutURI and BackchannelLogoutSessionRequired are
	// config's backchannel_logout_uri and
	// backchannel_logout_session_required (OpenID Connect Back-Channel
	// Logout 1.0).
	BackchannelLogoutURI             string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `json:"backchannel_logout_session_required,omitempty"`
}

// Where a client is defined (ClientView.Source).
const (
	SourceDatabase = "database"
	SourceConfig   = "config"
)

// ClientView is a client as shown to the operator: never its secret hash.
type ClientView struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	Source                 string   `json:"source"` // database or config
	Public                 bool     `json:"public"`
	ThirdParty             bool     `json:"third_party"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	IDTokenAlg             string   `json:"id_token_alg"`
	LogoURI                string   `json:"logo_uri,omitempty"`
	PolicyURI              string   `json:"policy_uri,omitempty"`
	// TokenEndpointAuthMethod is the registered method ("" for the
	// defaults: none when public, a secret by either method otherwise).
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// JWKS is the client's public key set, JWKSURI where it publishes one.
	JWKS       string    `json:"jwks,omitempty"`
	JWKSURI    string    `json:"jwks_uri,omitempty"`
	RequirePAR bool      `json:"require_pushed_authorization_requests,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`

	// DPoPBoundAccessTokens and Profile: see ClientInput.
	DPoPBoundAccessTokens bool   `json:"dpop_bound_access_tokens,omitempty"`
	Profile               string `json:"profile,omitempty"`

	// The back-channel logout settings: see ClientInput.
	BackchannelLogoutURI             string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `json:"backchannel_logout_session_required,omitempty"`
}

// ClientOutput answers add and rotate-secret. Secret is the only time the
// client secret is ever shown: only its HMAC is stored.
type ClientOutput struct {
	Client ClientView `json:"client"`
	Secret string     `json:"secret,omitempty"`
}

// RemovedClient is what removing a client ended: its stored tokens (its
// access tokens are revoked too, uncounted) and its members' consents.
type RemovedClient struct {
	ID              string `json:"id"`
	RevokedTokens   int    `json:"revoked_tokens"`
	RemovedConsents int    `json:"removed_consents"`
}

// NumberInput names a member by number, as typed (spaces, hyphens and
// full-width digits allowed).
type NumberInput struct {
	Number string `json:"number"`
}

// PasswordInput sets a member's password. A temporary one must be
// changed at the member's next login.
type PasswordInput struct {
	Number    string `json:"number"`
	Password  string `json:"password"`
	Temporary bool   `json:"temporary,omitempty"`
	// SupportSession is a support session verified for the member (see
	// SupportVerifyInput), which admin.support.require_verified_session
	// makes the HTTP API require.
	SupportSession string `json:"support_session,omitempty"`
}

// PasswordOutput is what setting a password ended: like every credential
// change it ends the member's sessions and revokes their tokens.
type PasswordOutput struct {
	EndedSessions int `json:"ended_sessions"`
	RevokedTokens int `json:"revoked_tokens"`
}

// MemberInput is a new member given by an operator.
type MemberInput struct {
	Number          string `json:"number"`
	Password        string `json:"password,omitempty"`
	PIN             string `json:"pin,omitempty"`
	FamilyName      string `json:"family_name,omitempty"`
	GivenName       string `json:"given_name,omitempty"`
	FamilyNameLatin string `json:"family_name_latin,omitempty"`
	GivenNameLatin  string `json:"given_name_latin,omitempty"`
	Email           string `json:"email,omitempty"`
	Phone           string `json:"phone,omitempty"`
	Country         string `json:"country,omitempty"`
	Locale          string `json:"locale,omitempty"`
}

// MemberView is a member as shown to the operator: whether credentials are
// set, never their hashes.
type MemberView struct {
	Number             string    `json:"number"`
	FamilyName         string    `json:"family_name,omitempty"`
	GivenName          string    `json:"given_name,omitempty"`
	FamilyNameLatin    string    `json:"family_name_latin,omitempty"`
	GivenNameLatin     string    `json:"given_name_latin,omitempty"`
	Email              string    `json:"email,omitempty"`
	EmailVerified      bool      `json:"email_verified"`
	Phone              string    `json:"phone,omitempty"`
	PhoneVerified      bool      `json:"phone_verified"`
	Country            string    `json:"country,omitempty"`
	Locale             string    `json:"locale,omitempty"`
	Status             string    `json:"status"`
	OTPChannel         string    `json:"otp_channel"`
	HasPassword        bool      `json:"has_password"`
	HasPIN             bool      `json:"has_pin"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// ID is the member's stable id: the sub of first-party tokens.
	ID string `json:"id"`
	// Locked says a login lockout holds the member (web or telephone):
	// unlock clears it.
	Locked bool `json:"locked"`
	// Version identifies this state of the member: the HTTP API's ETag,
	// which an update's If-Match must name.
	Version string `json:"version"`
	// Set by disable and by credential changes: what was ended so the
	// member is out everywhere.
	EndedSessions int `json:"ended_sessions,omitempty"`
	RevokedTokens int `json:"revoked_tokens,omitempty"`
	// Set by create and show when the phone cannot get SMS codes: why.
	SMSRefused string `json:"sms_refused,omitempty"`
}

// ETag is the member's version as the HTTP API's entity tag.
func (v MemberView) ETag() string { return v.Version }

// ImportInput are the options of a member import; the CSV file is the body.
type ImportInput struct {
	// ContactsVerified marks imported email addresses and phone numbers
	// as verified.
	ContactsVerified bool `json:"contacts_verified,omitempty"`
}

// Query is how ImportInput travels.
func (in ImportInput) Query() url.Values {
	if !in.ContactsVerified {
		return nil
	}
	return url.Values{"contacts_verified": {"true"}}
}

// ImportInputFrom reads ImportInput back from the query.
func ImportInputFrom(q url.Values) ImportInput {
	return ImportInput{ContactsVerified: q.Get("contacts_verified") == "true"}
}

// ImportResult sums up a member import.
type ImportResult struct {
	Rows    int `json:"rows"` // read so far (all of them once done)
	Created int `json:"created"`
	Skipped int `json:"skipped"` // numbers already taken: a re-run creates nothing twice
	Refused int `json:"refused"` // rows not imported, each in Errors (up to MaxImportErrors over HTTP)
	// Errors lists the refused rows; over the HTTP API the first
	// MaxImportErrors of them.
	Errors []ImportRowError `json:"errors"`
}

// MaxImportErrors bounds the refused rows a job's report lists.
const MaxImportErrors = 1000

// ImportRowError is a row an import refused.
type ImportRowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// DefaultEventsLimit is how many events events/list returns unless told.
const DefaultEventsLimit = 50

// MaxEventsLimit bounds a page of events.
const MaxEventsLimit = 500

// EventsInput asks for a member's audit events: the newest, or with
// Cursor (an EventsOutput's Next) the page after the one it ended.
type EventsInput struct {
	Number string `json:"number"`
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

// EventView is an audit event as the admin API returns it, secrets in its
// detail redacted.
type EventView struct {
	ID        string            `json:"id"`
	Time      time.Time         `json:"time"`
	Type      string            `json:"type"`
	Success   bool              `json:"success"`
	Reason    string            `json:"reason,omitempty"`
	Method    string            `json:"method,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	DeviceID  string            `json:"device_id,omitempty"`
	IP        string            `json:"ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// EventsOutput is a member's events, newest first. Next, when set, is the
// cursor of the next (older) page; it is opaque and signed, and good for
// this member only.
type EventsOutput struct {
	Number string      `json:"number"`
	Events []EventView `json:"events"`
	Next   string      `json:"next,omitempty"`
}

// KeyView is a signing key as shown to the operator: never the private key.
type KeyView struct {
	ID        string    `json:"kid"`
	Algorithm string    `json:"alg"`
	Status    string    `json:"status"` // pending (published, not signing yet), active, retired (still published) or expired
	CreatedAt time.Time `json:"created_at"`
	ActiveAt  time.Time `json:"active_at,omitzero"` // signs from then; zero: from CreatedAt
	RetiredAt time.Time `json:"retired_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// BackupBegun names a running hot backup.
type BackupBegun struct {
	ID string `json:"id"`
}

// BackupIDInput names a running hot backup.
type BackupIDInput struct {
	ID string `json:"id"`
}

// BackupChunk is the next part of a hot backup; the last says Done, with
// the total size.
type BackupChunk struct {
	Data []byte `json:"data"`
	Done bool   `json:"done,omitempty"`
	Size int64  `json:"size,omitempty"` // total bytes, with Done
}

// WebhookInput subscribes a receiver: URL (https; special-use addresses
// as for back-channel logout) and the audit event types it gets.
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// WebhookView is a subscription as shown to the operator: never its secret.
type WebhookView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// WebhookOutput is a new subscription and its signing secret
// (whsec_…, Standard Webhooks), shown this once.
type WebhookOutput struct {
	Webhook WebhookView `json:"webhook"`
	Secret  string      `json:"secret"`
}

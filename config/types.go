package config

import "time"

// Config is the whole configuration of one Tsubasa process. The yaml tags are
// the contract with operators: every key can also be set through an
// environment variable (see EnvNames), so renaming a tag is a breaking change.
//
// Fields tagged secret:"true" are redacted by Redacted and LogValue. A field
// whose comment says "empty = derived" keeps the operator's value only; read
// the effective value through the method named in the comment.
type Config struct {
	// Issuer is the OpenID issuer URL, e.g. https://id.example.com.
	Issuer string `yaml:"issuer"`
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// Dev turns on development mode: dev outbox for mail and SMS, plain http.
	Dev bool `yaml:"dev"`
	// Secret is the master secret (at least 32 bytes) from which token, OTP
	// and cookie keys are derived. Empty = generated and kept in the database.
	Secret     string `yaml:"secret" secret:"true"`
	SecretFile string `yaml:"secret_file"`
	// TrustedProxies are the reverse proxies and load balancers in front of
	// the server, each a CIDR or a single IP. Only on a connection from one
	// of them is the client address read from ProxyHeader (see
	// TrustedProxyPrefixes). Empty: the TCP peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ProxyHeader is the forwarding header the trusted proxies write:
	// x-forwarded-for or forwarded (RFC 7239). The other is never read.
	ProxyHeader string `yaml:"proxy_header"`

	Log       LogConfig       `yaml:"log"`
	Storage   StorageConfig   `yaml:"storage"`
	Admin     AdminConfig     `yaml:"admin"`
	Brand     BrandConfig     `yaml:"brand"`
	UI        UIConfig        `yaml:"ui"`
	Clients   []ClientConfig  `yaml:"clients"`
	Tokens    TokensConfig    `yaml:"tokens"`
	Keys      KeysConfig      `yaml:"keys"`
	Session   SessionConfig   `yaml:"session"`
	Password  PasswordConfig  `yaml:"password"`
	Lockout   LockoutConfig   `yaml:"lockout"`
	LegacyPIN LegacyPINConfig `yaml:"legacy_pin"`
	OTP       OTPConfig       `yaml:"otp"`
	Mail      MailConfig      `yaml:"mail"`
	SMS       SMSConfig       `yaml:"sms"`
	Alerts    AlertsConfig    `yaml:"alerts"`
	Passkeys  PasskeysConfig  `yaml:"passkeys"`
	GeoIP     GeoIPConfig     `yaml:"geoip"`    // types_experience.go
	Contacts  ContactsConfig  `yaml:"contacts"` // types_experience.go
	Telephone TelephoneConfig `yaml:"telephone"`
	Metrics   MetricsConfig   `yaml:"metrics"`
	Runtime   RuntimeConfig   `yaml:"runtime"`
	Loadtest  LoadtestConfig  `yaml:"loadtest"`
	PAR       PARConfig       `yaml:"par"`
	Outbound  OutboundConfig  `yaml:"outbound"`
	DPoP      DPoPConfig      `yaml:"dpop"`
	Device    DeviceConfig    `yaml:"device"` // types_device.go
	Limits    LimitsConfig    `yaml:"limits"` // types_limits.go
	Audit     AuditConfig     `yaml:"audit"`  // types_audit.go
}

// LogConfig shapes the single slog logger built in cmd.
type LogConfig struct {
	Level     string `yaml:"level"`      // debug|info|warn|error
	Format    string `yaml:"format"`     // json|text
	AuditJSON bool   `yaml:"audit_json"` // audit events as JSON lines as well
}

// StorageConfig selects the storage backend: the embedded bbolt file, or
// PostgreSQL for several replicas when postgres.url is set. Load gives
// bolt.path its default only when postgres.url is empty, so a Config
// that has both was given both, which Validate refuses.
type StorageConfig struct {
	Bolt     BoltConfig     `yaml:"bolt"`
	Postgres PostgresConfig `yaml:"postgres"`
}

// BoltConfig is the embedded bbolt database.
type BoltConfig struct {
	Path string `yaml:"path"`
}

// PostgresConfig is the shared database of several replicas.
type PostgresConfig struct {
	// URL is postgres://user:password@host:port/database; empty = bbolt.
	URL     string `yaml:"url" secret:"true"`
	URLFile string `yaml:"url_file"`
	// MaxConns is the size of each replica's connection pool.
	MaxConns int `yaml:"max_conns"`
	// StatementTimeout bounds every statement (PostgreSQL's statement_timeout).
	StatementTimeout time.Duration `yaml:"statement_timeout"`
	// SSLMode is disable, require, verify-ca or verify-full.
	SSLMode string `yaml:"sslmode"`
	// SSLRootCert is the CA file for verify-ca and verify-full; empty = the system's.
	SSLRootCert string `yaml:"sslrootcert"`
	// RevocationDelay bounds how long a revocation (or a member change)
	// made on one replica may go unseen by another.
	RevocationDelay time.Duration `yaml:"revocation_delay"`
	// AutoMigrate applies pending schema migrations at start; off, a
	// replica refuses to start until they are applied.
	AutoMigrate bool `yaml:"auto_migrate"`
}

// AdminConfig is the administration of the server: the local socket used
// by the CLI, and the HTTP admin API (types_admin.go).
type AdminConfig struct {
	// Socket path. Empty = derived: see Config.AdminSocket.
	Socket string `yaml:"socket"`
	// API is the HTTP admin API under /admin/v1/.
	API AdminAPIConfig `yaml:"api"`
	// Support is the member support sessions (types_support.go).
	Support AdminSupportConfig `yaml:"support"`
}

// BrandConfig is what the hosted pages show.
type BrandConfig struct {
	Name         string `yaml:"name"`
	LogoURL      string `yaml:"logo_url"`
	PrimaryColor string `yaml:"primary_color"` // #rgb or #rrggbb
	ThemeDir     string `yaml:"theme_dir"`     // overrides for templates/static
	SupportURL   string `yaml:"support_url"`
	// PrivacyURL and TermsURL are the programme's privacy notice and terms
	// of use, linked with SupportURL at the foot of every page and mail.
	PrivacyURL string `yaml:"privacy_url"`
	TermsURL   string `yaml:"terms_url"`
}

// UIConfig is what members see of the service as a whole.
type UIConfig struct {
	// Languages the pages and mails speak, as BCP 47 tags with shipped
	// catalogs (ja, en, zh-Hans, zh-Hant, ko); the first is the fallback
	// for a member or browser that prefers none of them.
	Languages []string `yaml:"languages"`
}

// ClientConfig is a relying party declared in the configuration file.
// Load fills GrantTypes, Scopes and IDTokenSignedResponseAlg when empty; for
// clients built in code use WithDefaults.
type ClientConfig struct {
	ID                       string   `yaml:"id"`
	Secret                   string   `yaml:"secret" secret:"true"`
	SecretFile               string   `yaml:"secret_file"`
	Name                     string   `yaml:"name"`
	RedirectURIs             []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs   []string `yaml:"post_logout_redirect_uris"`
	Public                   bool     `yaml:"public"`      // no secret; PKCE required
	ThirdParty               bool     `yaml:"third_party"` // consent is asked
	GrantTypes               []string `yaml:"grant_types"`
	Scopes                   []string `yaml:"scopes"` // scopes the client may ask for
	IDTokenSignedResponseAlg string   `yaml:"id_token_signed_response_alg"`
	LogoURI                  string   `yaml:"logo_uri"`
	PolicyURI                string   `yaml:"policy_uri"`
	// TokenEndpointAuthMethod is how the client authenticates at the token,
	// pushed request, revocation and introspection endpoints:
	// client_secret_basic, client_secret_post, private_key_jwt or none.
	// Empty: none for a public client, its secret by either method
	// otherwise.
	TokenEndpointAuthMethod string `yaml:"token_endpoint_auth_method"`
	// JWKS is the client's public keys, a JWK Set as JSON text, for
	// private_key_jwt and signed request objects; JWKSURI is where the
	// client publishes them instead (fetched through outbound).
	JWKS    string `yaml:"jwks"`
	JWKSURI string `yaml:"jwks_uri"`
	// RequirePushedAuthorizationRequests: the client's authorization
	// requests must come through the pushed authorization request
	// endpoint (RFC 9126).
	RequirePushedAuthorizationRequests bool `yaml:"require_pushed_authorization_requests"`

	DPoPBoundAccessTokens bool   `yaml:"dpop_bound_access_tokens"` // a DPoP proof with every token request
	Profile               string `yaml:"profile"`                  // "" or fapi2 (types_partner.go)

	// BackchannelLogoutURI is where the client takes logout tokens when a
	// session it was given a code from ends (OpenID Connect Back-Channel
	// Logout 1.0); BackchannelLogoutSessionRequired says it needs sid in
	// them, which Tsubasa always sends.
	BackchannelLogoutURI             string `yaml:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired bool   `yaml:"backchannel_logout_session_required"`
}

// TokensConfig holds the lifetimes of what the provider issues.
type TokensConfig struct {
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl"`
	IDTokenTTL      time.Duration `yaml:"id_token_ttl"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	CodeTTL         time.Duration `yaml:"code_ttl"`
	AuthRequestTTL  time.Duration `yaml:"auth_request_ttl"`
}

// KeysConfig governs the signing keys.
type KeysConfig struct {
	// Algorithm is the default ID token algorithm: RS256 or ES256.
	Algorithm string `yaml:"algorithm"`
	// RotationPeriod between automatic rotations; 0 = manual only.
	RotationPeriod time.Duration `yaml:"rotation_period"`
	RSABits        int           `yaml:"rsa_bits"`
}

// SessionConfig is the browser SSO session.
type SessionConfig struct {
	TTL     time.Duration `yaml:"ttl"`      // absolute lifetime
	IdleTTL time.Duration `yaml:"idle_ttl"` // ends after this long unused
	// KeepCurrentOnCredentialChange keeps the browser a member changes a
	// credential in logged in (under a new session id); every other
	// session ends either way.
	KeepCurrentOnCredentialChange bool `yaml:"keep_current_on_credential_change"`
}

// PasswordConfig is the password policy and hashing cost.
type PasswordConfig struct {
	MinLength    int               `yaml:"min_length"`
	MaxLength    int               `yaml:"max_length"`
	MinClasses   int               `yaml:"min_classes"` // of lower, upper, digit, other
	RejectCommon bool              `yaml:"reject_common"`
	BreachCheck  BreachCheckConfig `yaml:"breach_check"`
	Argon2       Argon2Config      `yaml:"argon2"`
	// MaxConcurrentHashes bounds parallel argon2 work; 0 = number of CPUs.
	MaxConcurrentHashes int `yaml:"max_concurrent_hashes"`
	// HashQueue is how many logins may wait for a hash beyond those
	// hashing; beyond it login answers 503.
	HashQueue int `yaml:"hash_queue"`
}

// BreachCheckConfig is an optional k-anonymity breached-password service
// (a range API in the style of Pwned Passwords). Empty URL = off.
type BreachCheckConfig struct {
	URL     string        `yaml:"url"`
	Timeout time.Duration `yaml:"timeout"`
}

// Argon2Config is the argon2id cost for new hashes; older hashes are
// rehashed at the next successful login.
type Argon2Config struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  uint32 `yaml:"iterations"`
	Parallelism uint8  `yaml:"parallelism"`
}

// LockoutConfig is the per-account and per-address failure throttle.
type LockoutConfig struct {
	MaxFailures      int           `yaml:"max_failures"`
	Window           time.Duration `yaml:"window"`
	BaseDelay        time.Duration `yaml:"base_delay"`
	MaxDelay         time.Duration `yaml:"max_delay"`
	PerIPMaxFailures int           `yaml:"per_ip_max_failures"`
	// KnownDeviceMaxFailures is the budget of failures within Window of a
	// device that has logged in as the member before (its device cookie),
	// counted apart from the member's: it keeps logging in while others'
	// failures lock the member. 0 = no such budget.
	KnownDeviceMaxFailures int `yaml:"known_device_max_failures"`
}

// LegacyPINConfig governs the old numeric PIN during the migration to
// passwords. For the web cut-over instant use Config.PINCutover.
type LegacyPINConfig struct {
	// WebLoginUntil is the last day (YYYY-MM-DD, in alerts.time_zone) on
	// which the PIN is accepted on the web; empty = never.
	WebLoginUntil        string        `yaml:"web_login_until"`
	TelephoneMaxFailures int           `yaml:"telephone_max_failures"`
	TelephoneLockout     time.Duration `yaml:"telephone_lockout"`
}

// OTPConfig governs one-time passwords by mail and SMS.
type OTPConfig struct {
	TTL            time.Duration `yaml:"ttl"`
	MaxAttempts    int           `yaml:"max_attempts"`
	ResendInterval time.Duration `yaml:"resend_interval"`
	ResendPerHour  int           `yaml:"resend_per_hour"`
	OnLogin        string        `yaml:"on_login"` // always|new_device|never
	StepUpMaxAge   time.Duration `yaml:"step_up_max_age"`
	// SMSCountries are the ISO 3166 alpha-2 codes SMS may be sent to.
	SMSCountries []string `yaml:"sms_countries"`
	// Formats maps a purpose (Purpose* constants) to digits or pictogram.
	// Keys given in YAML or the environment are merged over the defaults.
	Formats         map[string]string `yaml:"formats"`
	PictogramLength int               `yaml:"pictogram_length"`
}

// AlertsConfig governs new-device login alerts. TimeZone is also the
// service's local zone (see Config.PINCutover).
type AlertsConfig struct {
	Enabled   bool   `yaml:"enabled"`
	TimeZone  string `yaml:"time_zone"`  // IANA name
	ZoneLabel string `yaml:"zone_label"` // shown next to times in alerts
}

// PasskeysConfig is the WebAuthn relying party. Empty fields are derived:
// read them through Config.PasskeyRPID, PasskeyRPDisplayName and
// PasskeyOrigins, which follow the issuer even when it is changed later.
type PasskeysConfig struct {
	RPID          string   `yaml:"rp_id"`
	RPDisplayName string   `yaml:"rp_display_name"`
	Origins       []string `yaml:"origins"`
	// RegistrationRequires is the one-time password a member must pass
	// before adding a passkey: sms or any_otp.
	RegistrationRequires string `yaml:"registration_requires"`

	Apps              PasskeyAppsConfig `yaml:"apps"`               // types_experience.go
	OfferAfterLogin   bool              `yaml:"offer_after_login"`  // see types_experience.go
	ConditionalCreate bool              `yaml:"conditional_create"` // see types_experience.go
}

// TelephoneConfig is the call-centre PIN verification API.
type TelephoneConfig struct {
	Enabled bool `yaml:"enabled"`
}

// MetricsConfig is the Prometheus endpoint.
type MetricsConfig struct {
	Enabled bool `yaml:"enabled"`
	// Listen is the management listener's address, apart from the public
	// one: /metrics has no authentication.
	Listen string `yaml:"listen"`
	// Pprof serves Go's profiles (/debug/pprof/) on the management
	// listener, for an operator measuring a replica under load. Off by
	// default; it needs metrics.enabled and a loopback metrics.listen,
	// because a profile shows the process's code paths and costs CPU.
	Pprof bool `yaml:"pprof"`
}

// RuntimeConfig tunes the Go runtime of `serve`: its garbage collector and
// scheduler. The GOGC, GOMEMLIMIT and GOMAXPROCS environment variables, when
// set, take precedence.
type RuntimeConfig struct {
	// GCPercent is GOGC: how far the heap grows past what the last
	// collection kept before the next one starts, in percent.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMiB is GOMEMLIMIT, a soft limit on the memory the Go
	// runtime holds: near it, collections come sooner whatever GCPercent
	// says. 0 derives it: 128 MiB plus twice what the hash limiter lets
	// argon2id hold at once.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	// MaxProcs is GOMAXPROCS, the goroutines running Go code at once. 0
	// is one more than the runtime's own choice (the CPUs available): the
	// store's fsync holds a scheduler slot while the disk works, and the
	// extra slot keeps every CPU busy meanwhile.
	MaxProcs int `yaml:"max_procs"`
}

// LoadtestConfig marks a deployment as one the load generator may set up.
type LoadtestConfig struct {
	// AllowSetup lets `tsubasa loadtest --setup` create its client and its
	// members, whose password is fixed and published. Never on a server
	// that real members use.
	AllowSetup bool `yaml:"allow_setup"`
}

// Enumerated values, so that consumers do not spell them again.
const (
	LogLevelDebug = "debug"
	LogLevelInfo  = "info"
	LogLevelWarn  = "warn"
	LogLevelError = "error"
	LogFormatJSON = "json"
	LogFormatText = "text"

	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code" // RFC 8628

	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgPS256 = "PS256"

	OTPOnLoginAlways    = "always"
	OTPOnLoginNewDevice = "new_device"
	OTPOnLoginNever     = "never"

	OTPFormatDigits    = "digits"
	OTPFormatPictogram = "pictogram"

	PurposeLogin   = "login"
	PurposeStepUp  = "step_up"
	PurposeContact = "contact"
	PurposePasskey = "passkey"
	PurposeReset   = "reset"

	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"

	SMSDriverOutbox  = "outbox"
	SMSDriverWebhook = "webhook"
	SMSDriverTwilio  = "twilio"

	PasskeyRegistrationSMS    = "sms"
	PasskeyRegistrationAnyOTP = "any_otp"
)

// Purposes lists the OTP purposes accepted as keys of OTPConfig.Formats.
func Purposes() []string {
	return []string{PurposeLogin, PurposeStepUp, PurposeContact, PurposePasskey, PurposeReset}
}

// KnownScopes lists the scopes a client may be allowed.
func KnownScopes() []string {
	return append([]string{"openid", "profile", "email", "phone", "membership", "offline_access", "telephone"}, AdminScopes()...)
}

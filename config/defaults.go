package config

import (
	"net/url"
	"slices"
	"sync"
	"time"

	// The alerts time zone must load on machines without a zoneinfo
	// database (distroless images, CI); this embeds one as a fallback.
	_ "time/tzdata"
)

const (
	defaultIssuer = "http://localhost:8080"
	defaultListen = ":8080"
	defaultDBPath = "./tsubasa-data/tsubasa.db"
)

// Default returns a Config with every default filled in and Dev off. Derived
// values (passkey RP, admin socket) stay empty and are read through methods.
// A default Config is valid only in dev mode: outside it the SMS driver and
// SMTP host must be chosen.
func Default() Config {
	return Config{
		Issuer: defaultIssuer,
		Listen: defaultListen,
		Log:    LogConfig{Level: LogLevelInfo, Format: LogFormatText},
		Storage: StorageConfig{
			Bolt:     BoltConfig{Path: defaultDBPath},
			Postgres: defaultPostgres(),
		},
		Brand: BrandConfig{Name: "Tsubasa", PrimaryColor: "#0b3d91"},
		UI:    UIConfig{Languages: []string{"ja", "en", "zh-Hans", "zh-Hant", "ko"}},
		Tokens: TokensConfig{
			AccessTokenTTL:  15 * time.Minute,
			IDTokenTTL:      time.Hour,
			RefreshTokenTTL: 720 * time.Hour,
			CodeTTL:         time.Minute,
			AuthRequestTTL:  30 * time.Minute,
		},
		Keys: KeysConfig{
			Algorithm:      AlgRS256,
			RotationPeriod: 2160 * time.Hour,
			RSABits:        2048,
		},
		Session: SessionConfig{TTL: 12 * time.Hour, IdleTTL: 2 * time.Hour,
			KeepCurrentOnCredentialChange: true},
		Password: PasswordConfig{
			MinLength:    8,
			MaxLength:    128,
			MinClasses:   2,
			RejectCommon: true,
			BreachCheck:  BreachCheckConfig{Timeout: 2 * time.Second},
			// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
			Argon2:    Argon2Config{MemoryKiB: 19456, Iterations: 2, Parallelism: 1},
			HashQueue: 64,
		},
		Lockout: LockoutConfig{
			MaxFailures:      5,
			Window:           15 * time.Minute,
			BaseDelay:        30 * time.Second,
			MaxDelay:         time.Hour,
			PerIPMaxFailures: 50,
			// Below max_failures: the member's own browser, not a stranger.
			KnownDeviceMaxFailures: 3,
		},
		LegacyPIN: LegacyPINConfig{
			TelephoneMaxFailures: 5,
			TelephoneLockout:     30 * time.Minute,
		},
		OTP: OTPConfig{
			TTL:             10 * time.Minute,
			MaxAttempts:     5,
			ResendInterval:  time.Minute,
			ResendPerHour:   10,
			OnLogin:         OTPOnLoginNewDevice,
			StepUpMaxAge:    10 * time.Minute,
			SMSCountries:    []string{"JP"},
			Formats:         defaultFormats(),
			PictogramLength: 4,
		},
		Mail: MailConfig{
			From: "Tsubasa <no-reply@localhost>",
			SMTP: defaultSMTP(),
		},
		SMS: SMSConfig{
			Driver:  SMSDriverOutbox,
			Webhook: WebhookConfig{Timeout: 5 * time.Second},
			Twilio:  TwilioConfig{BaseURL: "https://api.twilio.com"},
			// A ceiling, not a quota: size it at about twice the busiest
			// hour's one-time passwords by SMS.
			MaxPerHour: 1000,
		},
		Alerts:    AlertsConfig{Enabled: true, TimeZone: "Asia/Tokyo", ZoneLabel: "JST"},
		Passkeys:  PasskeysConfig{RegistrationRequires: PasskeyRegistrationSMS, OfferAfterLogin: true},
		Telephone: TelephoneConfig{Enabled: true},
		Metrics:   MetricsConfig{Enabled: true, Listen: defaultMetricsListen},
		Runtime:   RuntimeConfig{GCPercent: 400},
		// Off: --setup creates members with a published password.
		Loadtest: LoadtestConfig{AllowSetup: false},
		PAR:      PARConfig{RequestURITTL: 60 * time.Second},
		Admin: AdminConfig{API: AdminAPIConfig{Enabled: true, RateLimit: 50, Burst: 100, MaxBodyBytes: 64 << 10,
			MaxImportBytes: 1 << 30, IdempotencyTTL: 24 * time.Hour, JobTTL: 7 * 24 * time.Hour},
			Support: defaultAdminSupport()},
		Outbound: OutboundConfig{Timeout: 5 * time.Second, MaxResponseBytes: 256 << 10},
		DPoP:     DPoPConfig{ProofMaxAge: time.Minute, NonceTTL: 2 * time.Minute},
		Device: DeviceConfig{CodeTTL: 10 * time.Minute, Interval: 5 * time.Second, MaxEntriesPerAddress: 10,
			MaxEntriesGlobal: 1000, EntryWindow: 10 * time.Minute, MaxEntriesPerCode: 5, MaxAuthorizationsPerAddress: 120},
		// A year's statements and the disputes that follow them.
		Audit: AuditConfig{Retention: 400 * 24 * time.Hour},

		// No database, no places; a replaced file is read within a minute.
		GeoIP: GeoIPConfig{CheckEvery: time.Minute},
		// No reminder until the operator says how long a confirmation lasts.
		Contacts: ContactsConfig{TestInterval: time.Minute, TestsPerDay: 5, LinkTTL: 72 * time.Hour},

		// Nobody's forwarding headers are believed until proxies are listed.
		TrustedProxies: []string{},
		ProxyHeader:    ProxyHeaderXForwardedFor,
		// An IPv6 subscriber holds at least a /64 (RFC 6177).
		Limits: LimitsConfig{IPv6Prefix: 64},
	}
}

// defaultPostgres is unused until url is set. TLS verifies the server's
// name: a database reached over a network is authenticated by default.
func defaultPostgres() PostgresConfig {
	return PostgresConfig{MaxConns: 10, StatementTimeout: 5 * time.Second, SSLMode: SSLModeVerifyFull,
		RevocationDelay: time.Second, AutoMigrate: true}
}

func defaultSMTP() SMTPConfig {
	return SMTPConfig{Port: 587, TLS: TLSStartTLS}
}

func defaultFormats() map[string]string {
	m := make(map[string]string)
	for _, p := range Purposes() {
		m[p] = OTPFormatDigits
	}
	return m
}

// newDefaultSMTP is what mail.otp_smtp starts from when it first appears,
// in YAML or in the environment: the same defaults as mail.smtp.
func newDefaultSMTP() *SMTPConfig {
	s := defaultSMTP()
	return &s
}

// DevDefaults fills what dev mode needs when it is absent. It does not set
// Dev: the caller decides that, so calling this outside dev mode is harmless.
func DevDefaults(c *Config) {
	if c.Issuer == "" {
		c.Issuer = defaultIssuer
	}
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if c.Storage.Bolt.Path == "" && c.Storage.Postgres.URL == "" {
		c.Storage.Bolt.Path = defaultDBPath
	}
}

// WithDefaults returns the client with empty grant types, scopes and ID token
// algorithm filled in: authorization_code and refresh_token when it has
// redirect URIs, otherwise client_credentials; the standard scope set; and
// defaultAlg (normally Config.Keys.Algorithm). Load applies it to every
// client; code that builds clients itself should call it too.
func (cl ClientConfig) WithDefaults(defaultAlg string) ClientConfig {
	if len(cl.GrantTypes) == 0 {
		if len(cl.RedirectURIs) > 0 {
			cl.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		} else {
			cl.GrantTypes = []string{GrantClientCredentials}
		}
	}
	if len(cl.Scopes) == 0 {
		cl.Scopes = []string{"openid", "profile", "email", "phone", "membership", "offline_access"}
	}
	if cl.IDTokenSignedResponseAlg == "" {
		cl.IDTokenSignedResponseAlg = defaultAlg
		if defaultAlg == "" {
			cl.IDTokenSignedResponseAlg = AlgRS256
		}
		// FAPI 2.0 allows no RS256: its clients default to ES256.
		if cl.Profile == ProfileFAPI2 && cl.IDTokenSignedResponseAlg == AlgRS256 {
			cl.IDTokenSignedResponseAlg = AlgES256
		}
	}
	return cl
}

// PasskeyRPID is passkeys.rp_id, or the issuer's host name when empty.
func (c Config) PasskeyRPID() string {
	if c.Passkeys.RPID != "" {
		return c.Passkeys.RPID
	}
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// PasskeyRPDisplayName is passkeys.rp_display_name, or brand.name.
func (c Config) PasskeyRPDisplayName() string {
	if c.Passkeys.RPDisplayName != "" {
		return c.Passkeys.RPDisplayName
	}
	return c.Brand.Name
}

// PasskeyOrigins is passkeys.origins, or the issuer's origin alone.
func (c Config) PasskeyOrigins() []string {
	if len(c.Passkeys.Origins) > 0 {
		return slices.Clone(c.Passkeys.Origins)
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// AdminSocket is admin.socket, or the database path with ".sock" appended.
// With PostgreSQL it is empty: there is no admin socket, since the CLI
// opens the shared database itself (Validate refuses admin.socket there).
func (c Config) AdminSocket() string {
	if c.UsesPostgres() {
		return ""
	}
	if c.Admin.Socket != "" {
		return c.Admin.Socket
	}
	return c.Storage.Bolt.Path + ".sock"
}

// UsesPostgres reports whether storage.postgres.url chooses PostgreSQL.
func (c Config) UsesPostgres() bool { return c.Storage.Postgres.URL != "" }

// ForOTP is the SMTP server for one-time-password mail: OTPSMTP when set,
// otherwise SMTP. An empty From on the result means MailConfig.From.
func (m MailConfig) ForOTP() SMTPConfig {
	if m.OTPSMTP != nil {
		return *m.OTPSMTP
	}
	return m.SMTP
}

// Location loads the alerts time zone (an embedded database is the
// fallback, so this works on machines without zoneinfo files).
func (a AlertsConfig) Location() (*time.Location, error) {
	return loadZone(a.TimeZone)
}

// PINCutover is the instant from which the legacy PIN is no longer accepted
// on the web: the start of the day after legacy_pin.web_login_until, in
// alerts.time_zone. ok is false when no date is set, and also when the date
// or zone is invalid (Validate reports those), so the PIN is then refused:
// accept it only if ok && now.Before(cutover).
func (c Config) PINCutover() (cutover time.Time, ok bool) {
	if c.LegacyPIN.WebLoginUntil == "" {
		return time.Time{}, false
	}
	loc, err := loadZone(c.Alerts.TimeZone)
	if err != nil {
		return time.Time{}, false
	}
	day, err := time.ParseInLocation(time.DateOnly, c.LegacyPIN.WebLoginUntil, loc)
	if err != nil {
		return time.Time{}, false
	}
	// AddDate goes through time.Date, so a DST change cannot shift midnight.
	return day.AddDate(0, 0, 1), true
}

// zones caches time.LoadLocation, which reads a file each time; the result
// for a name never changes during the life of the process.
var zones sync.Map // string → *time.Location

func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		// "" would silently mean UTC and "Local" the machine's zone: neither
		// says what the operator meant, so both are refused.
		return nil, errZoneName
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

var errZoneName = zoneError("must name an IANA time zone such as Asia/Tokyo or UTC")

type zoneError string

func (e zoneError) Error() string { return string(e) }

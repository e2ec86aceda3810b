package config

import (
	"maps"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func (v *checker) brand(b BrandConfig) {
	v.nonEmpty("brand.name", b.Name)
	if b.LogoURL != "" && !strings.HasPrefix(b.LogoURL, "/") {
		v.webURL("brand.logo_url", b.LogoURL, false)
	}
	if !validColor(b.PrimaryColor) {
		v.add("brand.primary_color", "must be a colour written #rgb or #rrggbb (got %q)", b.PrimaryColor)
	} else if c := contrastWithWhite(b.PrimaryColor); c < 4.5 {
		// The header and primary buttons put white text on this colour.
		v.add("brand.primary_color", "%s is too light for the white text on it (contrast %.1f:1, WCAG needs 4.5:1)", b.PrimaryColor, c)
	}
	if b.SupportURL != "" && !strings.HasPrefix(b.SupportURL, "mailto:") {
		v.webURL("brand.support_url", b.SupportURL, false)
	}
	v.optionalURL("brand.privacy_url", b.PrivacyURL)
	v.optionalURL("brand.terms_url", b.TermsURL)
}

func (v *checker) clients(cs []ClientConfig, defaultAlg string) {
	seen := make(map[string]int)
	for i, raw := range cs {
		cl := raw.WithDefaults(defaultAlg)
		p := "clients[" + strconv.Itoa(i) + "]"
		switch {
		case cl.ID == "":
			v.add(p+".id", "must not be empty")
		case strings.ContainsFunc(cl.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			v.add(p+".id", "must not contain spaces or control characters")
		}
		if j, dup := seen[cl.ID]; dup && cl.ID != "" {
			v.add(p+".id", "%q is already the id of clients[%d]", cl.ID, j)
		} else {
			seen[cl.ID] = i
		}
		hasSecret := cl.Secret != "" || cl.SecretFile != ""
		switch {
		case cl.Public && hasSecret:
			v.add(p+".secret", "public clients must not have a secret or secret_file")
		case !cl.Public && !hasSecret && cl.TokenEndpointAuthMethod != AuthMethodPrivateKey:
			v.add(p+".secret", "confidential clients need secret or secret_file (or set public: true, or token_endpoint_auth_method: private_key_jwt with keys)")
		}
		v.clientAuth(p, cl, hasSecret)
		v.clientProfile(p, cl)
		v.clientRedirects(p, cl) // validate_apps.go: the web's rules, and native apps'
		for j, g := range cl.GrantTypes {
			gp := p + ".grant_types[" + strconv.Itoa(j) + "]"
			switch g {
			case GrantAuthorizationCode:
				if len(cl.RedirectURIs) == 0 {
					v.add(gp, "authorization_code needs at least one entry in redirect_uris")
				}
			case GrantRefreshToken:
			case GrantClientCredentials:
				if cl.Public {
					v.add(gp, "public clients cannot use client_credentials (a public client needs redirect_uris)")
				}
			case GrantDeviceCode: // public clients too: a television cannot keep a secret
			default:
				v.add(gp, "must be one of %s, %s, %s, %s (got %q)",
					GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantDeviceCode, g)
			}
		}
		for j, s := range cl.Scopes {
			if !slices.Contains(KnownScopes(), s) {
				v.add(p+".scopes["+strconv.Itoa(j)+"]", "must be one of %s (got %q)",
					strings.Join(KnownScopes(), ", "), s)
			}
			if s == scopeTelephone {
				v.telephoneScope(p, j, cl)
			}
			if isAdminScope(s) {
				v.adminScope(p, j, s, cl)
			}
		}
		v.oneOf(p+".id_token_signed_response_alg", cl.IDTokenSignedResponseAlg, AlgRS256, AlgES256, AlgPS256)
		v.optionalURL(p+".logo_uri", cl.LogoURI)
		v.optionalURL(p+".policy_uri", cl.PolicyURI)
	}
	v.appRedirectsUnique(cs)
}

// scopeTelephone is the scope of the call centre's PIN API.
const scopeTelephone = "telephone"

// telephoneScope refuses the PIN API's scope on a client that can act for
// a member: its tokens would let whoever holds a member's token check PINs.
// Only a confidential client using client_credentials for itself may have it.
func (v *checker) telephoneScope(p string, j int, cl ClientConfig) {
	path := p + ".scopes[" + strconv.Itoa(j) + "]"
	switch {
	case cl.Public:
		v.add(path, "telephone is only for a confidential client_credentials client (the call centre's own); a public client cannot have it")
	case slices.Contains(cl.GrantTypes, GrantAuthorizationCode):
		v.add(path, "telephone is only for a client_credentials client (the call centre's own): remove authorization_code from grant_types, or telephone from scopes")
	}
}

func (v *checker) tokens(t TokensConfig) {
	v.positive("tokens.access_token_ttl", t.AccessTokenTTL)
	v.positive("tokens.id_token_ttl", t.IDTokenTTL)
	v.positive("tokens.refresh_token_ttl", t.RefreshTokenTTL)
	v.positive("tokens.code_ttl", t.CodeTTL)
	v.positive("tokens.auth_request_ttl", t.AuthRequestTTL)
}

func (v *checker) keys(k KeysConfig) {
	v.oneOf("keys.algorithm", k.Algorithm, AlgRS256, AlgES256, AlgPS256)
	if k.RotationPeriod < 0 {
		v.add("keys.rotation_period", "must not be negative (0 = rotate manually only)")
	}
	// Below 2048 bits RSA is deprecated (NIST SP 800-131A); above 8192
	// generating a key takes minutes.
	v.between("keys.rsa_bits", k.RSABits, 2048, 8192)
}

func (v *checker) password(p PasswordConfig) {
	// 8 is the floor NIST SP 800-63B sets for memorized secrets.
	v.between("password.min_length", p.MinLength, 8, 1024)
	if p.MaxLength < p.MinLength || p.MaxLength > 1024 {
		v.add("password.max_length", "must be from password.min_length (%d) to 1024", p.MinLength)
	}
	v.between("password.min_classes", p.MinClasses, 1, 4)
	if p.BreachCheck.URL != "" {
		v.webURL("password.breach_check.url", p.BreachCheck.URL, true)
	}
	v.positive("password.breach_check.timeout", p.BreachCheck.Timeout)
	a := p.Argon2
	if a.Iterations < 1 {
		v.add("password.argon2.iterations", "must be at least 1")
	}
	if a.Parallelism < 1 {
		v.add("password.argon2.parallelism", "must be at least 1")
	}
	// argon2 needs 8 KiB per lane; below 8 MiB the hash is too cheap to
	// slow an offline attack.
	if a.MemoryKiB < 8192 || a.MemoryKiB < 8*uint32(a.Parallelism) {
		v.add("password.argon2.memory_kib", "must be at least 8192 and 8 per unit of parallelism")
	}
	v.atLeast("password.max_concurrent_hashes", p.MaxConcurrentHashes, 0)
	v.atLeast("password.hash_queue", p.HashQueue, 0)
}

func (v *checker) lockout(l LockoutConfig) {
	v.atLeast("lockout.max_failures", l.MaxFailures, 1)
	v.positive("lockout.window", l.Window)
	v.positive("lockout.base_delay", l.BaseDelay)
	if l.MaxDelay < l.BaseDelay {
		v.add("lockout.max_delay", "must be at least lockout.base_delay")
	}
	v.atLeast("lockout.per_ip_max_failures", l.PerIPMaxFailures, 1)
	v.atLeast("lockout.known_device_max_failures", l.KnownDeviceMaxFailures, 0)
}

func (v *checker) legacyPIN(l LegacyPINConfig) {
	if l.WebLoginUntil != "" {
		if _, err := time.Parse(time.DateOnly, l.WebLoginUntil); err != nil {
			v.add("legacy_pin.web_login_until", "must be a date written YYYY-MM-DD, or empty (got %q)", l.WebLoginUntil)
		}
	}
	v.atLeast("legacy_pin.telephone_max_failures", l.TelephoneMaxFailures, 1)
	v.positive("legacy_pin.telephone_lockout", l.TelephoneLockout)
}

func (v *checker) otp(o OTPConfig) {
	v.positive("otp.ttl", o.TTL)
	v.atLeast("otp.max_attempts", o.MaxAttempts, 1)
	v.positive("otp.resend_interval", o.ResendInterval)
	v.atLeast("otp.resend_per_hour", o.ResendPerHour, 1)
	v.oneOf("otp.on_login", o.OnLogin, OTPOnLoginAlways, OTPOnLoginNewDevice, OTPOnLoginNever)
	v.positive("otp.step_up_max_age", o.StepUpMaxAge)
	for i, cc := range o.SMSCountries {
		if !validCountry(cc) {
			v.add("otp.sms_countries["+strconv.Itoa(i)+"]",
				"must be an ISO 3166 alpha-2 code in capitals such as JP (got %q)", cc)
		}
	}
	for _, purpose := range slices.Sorted(maps.Keys(o.Formats)) {
		p := "otp.formats." + purpose
		if !slices.Contains(Purposes(), purpose) {
			v.add(p, "unknown purpose; use %s", strings.Join(Purposes(), ", "))
			continue
		}
		v.oneOf(p, o.Formats[purpose], OTPFormatDigits, OTPFormatPictogram)
	}
	v.between("otp.pictogram_length", o.PictogramLength, 4, 8)
}

func (v *checker) mail(m MailConfig) {
	if _, err := mail.ParseAddress(m.From); err != nil {
		v.add("mail.from", "must be a mail address such as \"Tsubasa <no-reply@example.com>\" (got %q)", m.From)
	}
	v.smtp("mail.smtp", m.SMTP)
	if m.OTPSMTP != nil {
		v.smtp("mail.otp_smtp", *m.OTPSMTP)
	}
}

func (v *checker) smtp(path string, s SMTPConfig) {
	if s.Host == "" && !v.dev {
		v.add(path+".host", "must be set outside dev mode: without SMTP no mail can be sent")
	}
	v.between(path+".port", s.Port, 1, 65535)
	v.oneOf(path+".tls", s.TLS, TLSNone, TLSStartTLS, TLSImplicit)
	if s.From != "" {
		if _, err := mail.ParseAddress(s.From); err != nil {
			v.add(path+".from", "must be a mail address, or empty to use mail.from (got %q)", s.From)
		}
	}
}

func (v *checker) sms(s SMSConfig) {
	v.oneOf("sms.driver", s.Driver, SMSDriverOutbox, SMSDriverWebhook, SMSDriverTwilio)
	v.atLeast("sms.max_per_hour", s.MaxPerHour, 1)
	if s.Driver == SMSDriverOutbox && !v.dev {
		v.add("sms.driver", "outbox only stores messages for the dev pages: choose webhook or twilio, or set dev: true")
	}
	if s.Driver == SMSDriverWebhook {
		if s.Webhook.URL == "" {
			v.add("sms.webhook.url", "must be set when sms.driver is webhook")
		} else {
			v.webURL("sms.webhook.url", s.Webhook.URL, true)
		}
	}
	v.positive("sms.webhook.timeout", s.Webhook.Timeout)
	v.webURL("sms.twilio.base_url", s.Twilio.BaseURL, true)
	if s.Driver == SMSDriverTwilio {
		tw := s.Twilio
		if tw.AccountSID == "" {
			v.add("sms.twilio.account_sid", "must be set when sms.driver is twilio")
		}
		if tw.AuthToken == "" && tw.AuthTokenFile == "" {
			v.add("sms.twilio.auth_token", "auth_token or auth_token_file must be set when sms.driver is twilio")
		}
		if tw.From == "" {
			v.add("sms.twilio.from", "must be set when sms.driver is twilio")
		}
	}
}

func (v *checker) alerts(a AlertsConfig) {
	if _, err := loadZone(a.TimeZone); err != nil {
		if err == errZoneName {
			v.add("alerts.time_zone", "%v", err)
		} else {
			v.add("alerts.time_zone", "unknown time zone %q: use an IANA name such as Asia/Tokyo", a.TimeZone)
		}
	}
	v.nonEmpty("alerts.zone_label", a.ZoneLabel)
}

// passkeys checks the WebAuthn relying party: browsers accept an RP ID only
// if it is the origin's host or a registrable suffix of it, and never an IP.
func (v *checker) passkeys(c Config) {
	p := c.Passkeys
	v.oneOf("passkeys.registration_requires", p.RegistrationRequires, PasskeyRegistrationSMS, PasskeyRegistrationAnyOTP)
	rpID := c.PasskeyRPID()
	rpOK := true
	if p.RPID != "" {
		switch {
		case strings.ContainsAny(p.RPID, ":/ ") || strings.Trim(p.RPID, ".") != p.RPID:
			v.add("passkeys.rp_id", "must be a bare host name such as example.com (no scheme, port or path)")
			rpOK = false
		case net.ParseIP(p.RPID) != nil:
			v.add("passkeys.rp_id", "must be a domain name: browsers refuse passkeys for IP addresses (use localhost)")
			rpOK = false
		default:
			if u, err := url.Parse(c.Issuer); err == nil && u.Hostname() != "" && !underDomain(u.Hostname(), rpID) {
				v.add("passkeys.rp_id", "must be the issuer's host %q or a parent domain of it", u.Hostname())
			}
		}
	}
	for i, o := range p.Origins {
		path := "passkeys.origins[" + strconv.Itoa(i) + "]"
		u, ok := v.webURL(path, o, true)
		if !ok {
			continue
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery {
			v.add(path, "must be an origin: scheme://host[:port] without path or query")
			continue
		}
		// An origin outside rpID is a related origin (WebAuthn Level 3
		// §5.11): /.well-known/webauthn lists it (validate_experience.go).
		_ = rpOK
	}
}

func underDomain(host, domain string) bool {
	host, domain = strings.ToLower(host), strings.ToLower(domain)
	return host == domain || strings.HasSuffix(host, "."+domain)
}

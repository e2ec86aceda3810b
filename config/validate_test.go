package config

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// prodConfig is a valid production configuration to break one key at a time.
func prodConfig() Config {
	c := Default()
	c.Issuer = "https://id.example.com"
	c.Mail.SMTP.Host = "smtp.example.com"
	c.SMS.Driver = SMSDriverWebhook
	c.SMS.Webhook.URL = "https://sms.example.com/send"
	c.Clients = []ClientConfig{
		{ID: "shop", Secret: "s3cret", RedirectURIs: []string{"https://shop.example.com/cb"}},
		{ID: "app", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]:8000/cb"}},
		{ID: "call-centre", SecretFile: "/run/secrets/cc", Scopes: []string{"telephone"}},
	}
	return c
}

func TestValidateGood(t *testing.T) {
	dev := Default()
	dev.Dev = true
	good := map[string]Config{
		"default in dev": dev,
		"production":     prodConfig(),
	}
	p := prodConfig()
	p.Secret = strings.Repeat("s", 32)
	p.SMS = SMSConfig{Driver: SMSDriverTwilio, Webhook: WebhookConfig{Timeout: time.Second},
		Twilio:     TwilioConfig{BaseURL: "https://api.twilio.com", AccountSID: "AC1", AuthTokenFile: "/t", From: "+815012345678"},
		MaxPerHour: 1}
	p.Passkeys = PasskeysConfig{RPID: "example.com", Origins: []string{"https://id.example.com", "https://www.example.com"},
		RegistrationRequires: PasskeyRegistrationAnyOTP}
	p.LegacyPIN.WebLoginUntil = "2026-03-31"
	p.Keys.RotationPeriod = 0
	p.Mail.OTPSMTP = &SMTPConfig{Host: "otp.example.com", Port: 465, TLS: TLSImplicit, From: "OTP <otp@example.com>"}
	p.Brand.LogoURL, p.Brand.SupportURL = "/static/logo.svg", "mailto:help@example.com"
	good["production, everything set"] = p
	for name, c := range good {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Errorf("Validate:\n%v", err)
			}
		})
	}
}

func TestValidateDefaultOutsideDev(t *testing.T) {
	var ve *ValidationError
	if !errors.As(Default().Validate(), &ve) {
		t.Fatal("Default() without dev validated")
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
	}
	if want := []string{"mail.smtp.host", "sms.driver"}; !slices.Equal(paths, want) {
		t.Errorf("problems at %v, want only %v", paths, want)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		path   string
		msg    string
	}{
		{"issuer http", func(c *Config) { c.Issuer = "http://id.example.com" }, "issuer", "must use https"},
		{"issuer relative", func(c *Config) { c.Issuer = "/x" }, "issuer", badURL},
		{"issuer query", func(c *Config) { c.Issuer = "https://id.example.com?a=1" }, "issuer", "query"},
		{"issuer fragment", func(c *Config) { c.Issuer = "https://id.example.com#x" }, "issuer", badURL},
		{"issuer slash", func(c *Config) { c.Issuer = "https://id.example.com/" }, "issuer", "must not end with /"},
		{"listen", func(c *Config) { c.Listen = "8080" }, "listen", "host:port"},
		{"listen port", func(c *Config) { c.Listen = ":99999" }, "listen", "0 to 65535"},
		{"short secret", func(c *Config) { c.Secret = "short" }, "secret", "32 bytes"},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, "log.level", "must be one of"},
		{"colour", func(c *Config) { c.Brand.PrimaryColor = "blue" }, "brand.primary_color", "#rgb"},
		{"colour too light for white text", func(c *Config) { c.Brand.PrimaryColor = "#ffd700" }, "brand.primary_color", "4.5:1"},
		{"no client id", func(c *Config) { c.Clients[0].ID = "" }, "clients[0].id", "must not be empty"},
		{"dup client id", func(c *Config) { c.Clients[1].ID = "shop" }, "clients[1].id", "clients[0]"},
		{"no secret", func(c *Config) { c.Clients[0].Secret = "" }, "clients[0].secret", "need secret"},
		{"public secret", func(c *Config) { c.Clients[1].Secret = "x" }, "clients[1].secret", "must not have"},
		{"public cc", func(c *Config) { c.Clients[1].GrantTypes = []string{GrantClientCredentials} },
			"clients[1].grant_types[0]", "public clients cannot"},
		{"code without redirect", func(c *Config) { c.Clients[2].GrantTypes = []string{GrantAuthorizationCode} },
			"clients[2].grant_types[0]", "redirect_uris"},
		{"bad grant", func(c *Config) { c.Clients[0].GrantTypes = []string{"implicit"} }, "clients[0].grant_types[0]", "implicit"},
		{"redirect http", func(c *Config) { c.Clients[0].RedirectURIs = []string{"http://shop.example.com/cb"} },
			"clients[0].redirect_uris[0]", "must use https"},
		{"redirect fragment", func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://a.example.com/cb#x"} },
			"clients[0].redirect_uris[0]", badURL},
		{"redirect custom scheme", func(c *Config) { c.Clients[0].RedirectURIs = []string{"com.example.app:/cb"} },
			"clients[0].redirect_uris[0]", "public: true"},
		{"redirect wildcard", func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://*.example.com/cb"} },
			"clients[0].redirect_uris[0]", "wildcards"},
		{"post logout", func(c *Config) { c.Clients[0].PostLogoutRedirectURIs = []string{"x"} },
			"clients[0].post_logout_redirect_uris[0]", badURL},
		{"scope", func(c *Config) { c.Clients[0].Scopes = []string{"openid", "admin"} }, "clients[0].scopes[1]", "admin"},
		{"client alg", func(c *Config) { c.Clients[0].IDTokenSignedResponseAlg = "HS256" },
			"clients[0].id_token_signed_response_alg", "RS256, ES256"},
		{"policy uri", func(c *Config) { c.Clients[0].PolicyURI = "ftp://x" }, "clients[0].policy_uri", badURL},
		{"ttl", func(c *Config) { c.Tokens.CodeTTL = 0 }, "tokens.code_ttl", "positive"},
		{"key alg", func(c *Config) { c.Keys.Algorithm = "EdDSA" }, "keys.algorithm", "must be one of"},
		{"rotation", func(c *Config) { c.Keys.RotationPeriod = -time.Hour }, "keys.rotation_period", "negative"},
		{"rsa bits", func(c *Config) { c.Keys.RSABits = 1024 }, "keys.rsa_bits", "2048"},
		{"idle > ttl", func(c *Config) { c.Session.IdleTTL = 24 * time.Hour }, "session.idle_ttl", "session.ttl"},
		{"min length", func(c *Config) { c.Password.MinLength = 4 }, "password.min_length", "8"},
		{"max < min", func(c *Config) { c.Password.MaxLength = 7 }, "password.max_length", "min_length"},
		{"classes", func(c *Config) { c.Password.MinClasses = 5 }, "password.min_classes", "1 to 4"},
		{"breach url", func(c *Config) { c.Password.BreachCheck.URL = "http://pwned.example.com" },
			"password.breach_check.url", "https"},
		{"argon2 memory", func(c *Config) { c.Password.Argon2.MemoryKiB = 64 }, "password.argon2.memory_kib", "8192"},
		{"argon2 lanes", func(c *Config) { c.Password.Argon2.Parallelism = 0 }, "password.argon2.parallelism", "at least 1"},
		{"hash queue", func(c *Config) { c.Password.HashQueue = -1 }, "password.hash_queue", "at least 0"},
		{"max delay", func(c *Config) { c.Lockout.MaxDelay = time.Second }, "lockout.max_delay", "base_delay"},
		{"pin date", func(c *Config) { c.LegacyPIN.WebLoginUntil = "31/03/2026" }, "legacy_pin.web_login_until", "YYYY-MM-DD"},
		{"on login", func(c *Config) { c.OTP.OnLogin = "sometimes" }, "otp.on_login", "new_device"},
		{"country", func(c *Config) { c.OTP.SMSCountries = []string{"JP", "jp"} }, "otp.sms_countries[1]", "ISO 3166"},
		{"format", func(c *Config) { c.OTP.Formats["login"] = "emoji" }, "otp.formats.login", "pictogram"},
		{"purpose", func(c *Config) { c.OTP.Formats["logout"] = "digits" }, "otp.formats.logout", "unknown purpose"},
		{"pictogram length", func(c *Config) { c.OTP.PictogramLength = 3 }, "otp.pictogram_length", "4 to 8"},
		{"mail from", func(c *Config) { c.Mail.From = "nobody" }, "mail.from", "mail address"},
		{"smtp tls", func(c *Config) { c.Mail.SMTP.TLS = "ssl" }, "mail.smtp.tls", "starttls"},
		{"smtp port", func(c *Config) { c.Mail.SMTP.Port = 0 }, "mail.smtp.port", "1 to 65535"},
		{"otp smtp", func(c *Config) { c.Mail.OTPSMTP = &SMTPConfig{Port: 25, TLS: TLSNone} }, "mail.otp_smtp.host", "outside dev"},
		{"sms driver", func(c *Config) { c.SMS.Driver = "carrier-pigeon" }, "sms.driver", "must be one of"},
		{"sms outbox", func(c *Config) { c.SMS.Driver = SMSDriverOutbox }, "sms.driver", "dev"},
		{"webhook url", func(c *Config) { c.SMS.Webhook.URL = "" }, "sms.webhook.url", "must be set"},
		{"twilio", func(c *Config) { c.SMS.Driver = SMSDriverTwilio }, "sms.twilio.account_sid", "must be set"},
		{"sms budget", func(c *Config) { c.SMS.MaxPerHour = 0 }, "sms.max_per_hour", "at least 1"},
		{"telephone for member logins", func(c *Config) { c.Clients[0].Scopes = []string{"openid", "telephone"} },
			"clients[0].scopes[1]", "remove authorization_code from grant_types"},
		{"telephone with code and credentials", func(c *Config) {
			c.Clients[2].GrantTypes = []string{GrantClientCredentials, GrantAuthorizationCode}
			c.Clients[2].RedirectURIs = []string{"https://cc.example.com/cb"}
		}, "clients[2].scopes[0]", "only for a client_credentials client"},
		{"telephone for a public client", func(c *Config) {
			c.Clients[1].Scopes = []string{"telephone"}
			c.Clients[1].GrantTypes = []string{GrantRefreshToken}
		}, "clients[1].scopes[0]", "public client cannot have it"},
		{"zone", func(c *Config) { c.Alerts.TimeZone = "Mars/Olympus" }, "alerts.time_zone", "unknown time zone"},
		{"zone local", func(c *Config) { c.Alerts.TimeZone = "Local" }, "alerts.time_zone", "IANA"},
		{"rp id foreign", func(c *Config) { c.Passkeys.RPID = "other.com" }, "passkeys.rp_id", "issuer's host"},
		{"rp id ip", func(c *Config) { c.Passkeys.RPID = "127.0.0.1" }, "passkeys.rp_id", "IP"},
		{"rp id url", func(c *Config) { c.Passkeys.RPID = "https://example.com" }, "passkeys.rp_id", "bare host"},
		{"origin path", func(c *Config) { c.Passkeys.Origins = []string{"https://id.example.com/login"} },
			"passkeys.origins[0]", "origin"},
		{"origins without the issuer's", func(c *Config) { c.Passkeys.Origins = []string{"https://evil.example.org"} },
			"passkeys.origins", "issuer's origin"},
		{"registration", func(c *Config) { c.Passkeys.RegistrationRequires = "none" }, "passkeys.registration_requires", "any_otp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := prodConfig()
			tc.change(&c)
			var ve *ValidationError
			if !errors.As(c.Validate(), &ve) {
				t.Fatal("validated")
			}
			for _, p := range ve.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q in:\n%v", tc.path, tc.msg, ve)
		})
	}
}

func TestValidateDevRelaxesHTTPS(t *testing.T) {
	c := prodConfig()
	c.Dev = true
	c.Issuer = "http://tsubasa.test:8080"
	c.Clients[0].RedirectURIs = []string{"http://shop.test/cb"}
	if err := c.Validate(); err != nil {
		t.Errorf("dev mode: %v", err)
	}
}

// TestValidateAllAtOnce breaks many keys and expects every problem, each at
// a path that names a real key: paths are written by hand in the rules, so
// this catches a rule that drifts from the yaml tags.
func TestValidateAllAtOnce(t *testing.T) {
	c := prodConfig()
	c.Issuer = "ftp://x"
	c.Listen = ""
	c.Clients[1].RedirectURIs[0] = "https://a.example.com/#frag"
	c.Tokens = TokensConfig{}
	c.Lockout = LockoutConfig{MaxDelay: -1}
	c.OTP = OTPConfig{Formats: map[string]string{"x": "y"}}
	c.Password = PasswordConfig{MaxConcurrentHashes: -1, HashQueue: -1}
	c.LegacyPIN = LegacyPINConfig{WebLoginUntil: "soon"}
	c.Mail = MailConfig{OTPSMTP: &SMTPConfig{}}
	c.SMS = SMSConfig{Driver: SMSDriverTwilio}
	c.Alerts = AlertsConfig{}
	c.Passkeys = PasskeysConfig{RPID: "a b", Origins: []string{"x"}}
	c.Brand = BrandConfig{LogoURL: "x", SupportURL: "y"}
	c.Keys = KeysConfig{RotationPeriod: -1}
	c.Session = SessionConfig{}
	c.Log = LogConfig{}
	c.Storage.Bolt.Path = ""
	c.Secret = "x"

	var ve *ValidationError
	if !errors.As(c.Validate(), &ve) {
		t.Fatal("validated")
	}
	if len(ve.Problems) < 50 {
		t.Errorf("only %d problems:\n%v", len(ve.Problems), ve)
	}
	if want := "clients[1].redirect_uris[0]: must be an absolute http(s) URL without fragment"; !strings.Contains(ve.Error(), want) {
		t.Errorf("error lacks %q", want)
	}
	if got := strings.Count(ve.Error(), "\n") + 1; got != len(ve.Problems) {
		t.Errorf("Error() has %d lines for %d problems", got, len(ve.Problems))
	}
	keys := leafKeys(reflect.TypeFor[Config](), "")
	index := regexp.MustCompile(`\[\d+\]`)
	for _, p := range ve.Problems {
		k := index.ReplaceAllString(p.Path, "")
		if strings.HasPrefix(k, "otp.formats.") {
			k = "otp.formats"
		}
		if !slices.Contains(keys, k) {
			t.Errorf("problem path %q names no key", p.Path)
		}
	}
}

func TestValidateNilWhenGood(t *testing.T) {
	// A typed nil in an error interface would make err != nil true.
	if err := prodConfig().Validate(); err != nil {
		t.Fatalf("Validate() = %#v", err)
	}
}

package config

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPINCutover(t *testing.T) {
	tests := []struct {
		until, zone string
		want        string // RFC 3339, "" = not ok
	}{
		{"", "Asia/Tokyo", ""},
		{"2026-03-31", "Asia/Tokyo", "2026-04-01T00:00:00+09:00"},
		{"2026-12-31", "UTC", "2027-01-01T00:00:00Z"},
		// The day after a spring-forward night still starts at midnight.
		{"2026-03-07", "America/New_York", "2026-03-08T00:00:00-05:00"},
		{"2026-03-08", "America/New_York", "2026-03-09T00:00:00-04:00"},
		{"2026-02-30", "Asia/Tokyo", ""},
		{"2026-03-31", "Nowhere/Else", ""},
		{"2026-03-31", "", ""},
	}
	for _, tc := range tests {
		c := Default()
		c.LegacyPIN.WebLoginUntil, c.Alerts.TimeZone = tc.until, tc.zone
		got, ok := c.PINCutover()
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s %s: got %v, want not ok", tc.until, tc.zone, got)
		case tc.want != "" && (!ok || got.Format(time.RFC3339) != tc.want):
			t.Errorf("%s %s: got %v %v, want %s", tc.until, tc.zone, got.Format(time.RFC3339), ok, tc.want)
		}
	}
}

func TestDerivedValues(t *testing.T) {
	c := Default()
	if got := c.PasskeyRPID(); got != "localhost" {
		t.Errorf("rp id = %q", got)
	}
	// Changing the issuer after Default must not leave derived values stale.
	c.Issuer = "http://localhost:43210"
	if got := c.PasskeyOrigins(); !reflect.DeepEqual(got, []string{"http://localhost:43210"}) {
		t.Errorf("origins = %v", got)
	}
	if got := c.PasskeyRPDisplayName(); got != "Tsubasa" {
		t.Errorf("display name = %q", got)
	}
	c.Passkeys = PasskeysConfig{RPID: "example.com", RPDisplayName: "X", Origins: []string{"https://a.example.com"}}
	if c.PasskeyRPID() != "example.com" || c.PasskeyRPDisplayName() != "X" || c.PasskeyOrigins()[0] != "https://a.example.com" {
		t.Error("explicit passkey values not used")
	}
	if got := c.AdminSocket(); got != defaultDBPath+".sock" {
		t.Errorf("admin socket = %q", got)
	}
	if got := c.Mail.ForOTP(); got.Host != "" || got.Port != 587 {
		t.Errorf("ForOTP without otp_smtp = %+v", got)
	}
	c.Mail.OTPSMTP = &SMTPConfig{Host: "otp"}
	if c.Mail.ForOTP().Host != "otp" {
		t.Error("ForOTP ignores otp_smtp")
	}
	if loc, err := c.Alerts.Location(); err != nil || loc.String() != "Asia/Tokyo" {
		t.Errorf("Location = %v, %v", loc, err)
	}
}

func TestDevDefaults(t *testing.T) {
	var c Config
	DevDefaults(&c)
	if c.Issuer != "http://localhost:8080" || c.Listen != ":8080" || c.Storage.Bolt.Path != "./tsubasa-data/tsubasa.db" || c.Dev {
		t.Errorf("DevDefaults gave %+v", c)
	}
	c = Config{Issuer: "https://x.example.com", Listen: ":1", Storage: StorageConfig{Bolt: BoltConfig{Path: "/db"}}}
	want := c
	DevDefaults(&c)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("DevDefaults overwrote set values: %+v", c)
	}
}

func TestClientWithDefaults(t *testing.T) {
	cl := ClientConfig{ID: "a", RedirectURIs: []string{"https://a/cb"}}.WithDefaults(AlgES256)
	if !reflect.DeepEqual(cl.GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}) ||
		cl.IDTokenSignedResponseAlg != AlgES256 || len(cl.Scopes) != 6 {
		t.Errorf("got %+v", cl)
	}
	set := ClientConfig{GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"telephone"}, IDTokenSignedResponseAlg: AlgRS256}
	if got := set.WithDefaults(AlgES256); !reflect.DeepEqual(got, set) {
		t.Errorf("WithDefaults changed set values: %+v", got)
	}
}

func TestRedaction(t *testing.T) {
	c := prodConfig()
	c.Secret = strings.Repeat("m", 32)
	c.Mail.SMTP.Password = "smtp-pass"
	c.Mail.OTPSMTP = &SMTPConfig{Password: "otp-pass"}
	c.SMS.Webhook.Token = "hook-token"
	c.SMS.Twilio.AuthToken = "twilio-token"
	secrets := []string{c.Secret, "s3cret", "smtp-pass", "otp-pass", "hook-token", "twilio-token"}

	r := c.Redacted()
	if r.Secret != redactedValue || r.Clients[0].Secret != redactedValue || r.Clients[1].Secret != "" ||
		r.Mail.OTPSMTP.Password != redactedValue || r.SMS.Twilio.AuthToken != redactedValue {
		t.Errorf("Redacted left secrets: %+v", r)
	}
	if c.Clients[0].Secret != "s3cret" || c.Mail.OTPSMTP.Password != "otp-pass" {
		t.Error("Redacted modified the original")
	}

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("start", "config", c, "client", c.Clients[0], "smtp", c.Mail.SMTP,
		"webhook", c.SMS.Webhook, "twilio", c.SMS.Twilio)
	out := buf.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log output contains secret %q", s)
		}
	}
	for _, want := range []string{`"access_token_ttl":900000000000`, `"redirect_uris":["https://shop.example.com/cb"]`, `"secret_file":"/run/secrets/cc"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %s:\n%s", want, out)
		}
	}
}

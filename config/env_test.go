package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	tests := []struct {
		env  string
		got  func(Config) any
		want any
	}{
		{"TSUBASA_ISSUER=https://id.example.com", func(c Config) any { return c.Issuer }, "https://id.example.com"},
		{"TSUBASA_STORAGE_BOLT_PATH=/var/lib/t.db", func(c Config) any { return c.Storage.Bolt.Path }, "/var/lib/t.db"},
		{"TSUBASA_MAIL_SMTP_HOST=smtp.example.com", func(c Config) any { return c.Mail.SMTP.Host }, "smtp.example.com"},
		{"TSUBASA_LEGACY_PIN_WEB_LOGIN_UNTIL=2026-03-31", func(c Config) any { return c.LegacyPIN.WebLoginUntil }, "2026-03-31"},
		{"TSUBASA_DEV=true", func(c Config) any { return c.Dev }, true},
		{"TSUBASA_ALERTS_ENABLED=0", func(c Config) any { return c.Alerts.Enabled }, false},
		{"TSUBASA_KEYS_RSA_BITS=4096", func(c Config) any { return c.Keys.RSABits }, 4096},
		{"TSUBASA_PASSWORD_MIN_LENGTH=010", func(c Config) any { return c.Password.MinLength }, 10},
		{"TSUBASA_PASSWORD_ARGON2_PARALLELISM=2", func(c Config) any { return c.Password.Argon2.Parallelism }, uint8(2)},
		{"TSUBASA_TOKENS_ACCESS_TOKEN_TTL=5m", func(c Config) any { return c.Tokens.AccessTokenTTL }, 5 * time.Minute},
		{"TSUBASA_OTP_SMS_COUNTRIES=JP, US,,", func(c Config) any { return c.OTP.SMSCountries }, []string{"JP", "US"}},
		{"TSUBASA_OTP_SMS_COUNTRIES=", func(c Config) any { return c.OTP.SMSCountries }, []string{}},
		{"TSUBASA_OTP_FORMATS_LOGIN=pictogram", func(c Config) any { return c.OTP.Formats["login"] }, "pictogram"},
		{"TSUBASA_OTP_FORMATS_STEP_UP=pictogram", func(c Config) any { return c.OTP.Formats["step_up"] }, "pictogram"},
		{"TSUBASA_OTP_FORMATS_STEP_UP=pictogram", func(c Config) any { return c.OTP.Formats["reset"] }, "digits"},
		{"TSUBASA_MAIL_OTP_SMTP_HOST=otp.example.com", func(c Config) any { return *c.Mail.OTPSMTP },
			SMTPConfig{Host: "otp.example.com", Port: 587, TLS: TLSStartTLS}},
		{"TSUBASA_SMS_TWILIO_AUTH_TOKEN=tok", func(c Config) any { return c.SMS.Twilio.AuthToken }, "tok"},
		{"TSUBASA_CONFIG=/etc/tsubasa.yaml", func(c Config) any { return c.Issuer }, defaultIssuer},
		{"TSUBASA_REQUIRE_BROWSER=1", func(c Config) any { return c.Issuer }, defaultIssuer},
		{"tsubasa_issuer=ignored", func(c Config) any { return c.Issuer }, defaultIssuer},
		{"HOME=/root", func(c Config) any { return c.Issuer }, defaultIssuer},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			c, err := Load("", []string{tc.env})
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.got(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	c, err := loadYAML(t, "issuer: https://file.example.com\nlog: {level: warn}\n",
		"TSUBASA_ISSUER=https://env.example.com", "TSUBASA_LOG_LEVEL=debug", "TSUBASA_LOG_LEVEL=error")
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://env.example.com" || c.Log.Level != "error" {
		t.Errorf("issuer %q level %q: the environment must win, the last duplicate first", c.Issuer, c.Log.Level)
	}
}

func TestEnvClients(t *testing.T) {
	json := `[{"id": "shop", "secret": "x", "redirect_uris": ["https://shop.example.com/cb"]}]`
	c, err := loadYAML(t, "clients:\n  - id: old\n    secret: y\n", "TSUBASA_CLIENTS="+json)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clients) != 1 || c.Clients[0].ID != "shop" || len(c.Clients[0].GrantTypes) != 2 {
		t.Errorf("clients = %+v", c.Clients)
	}
	c, err = Load("", []string{"TSUBASA_CLIENTS="})
	if err != nil || len(c.Clients) != 0 {
		t.Errorf("empty TSUBASA_CLIENTS: %+v, %v", c.Clients, err)
	}
	_, err = Load("", []string{"TSUBASA_CLIENTS=- id: a\n  secrett: x\n"})
	if err == nil || !strings.Contains(err.Error(), "TSUBASA_CLIENTS (line 2): clients[0].secrett: unknown key") {
		t.Errorf("err = %v", err)
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		env  string
		want []string
	}{
		{"TSUBASA_ISUER=x", []string{"TSUBASA_ISUER: no such setting", "did you mean TSUBASA_ISSUER?"}},
		{"TSUBASA_NOTHING_LIKE_THIS=x", []string{"TSUBASA_NOTHING_LIKE_THIS: no such setting"}},
		{"TSUBASA_CLIENTS_0_ID=x", []string{"TSUBASA_CLIENTS_0_ID: no such setting"}},
		{"TSUBASA_DEV=maybe", []string{"TSUBASA_DEV (dev): want true or false", `"maybe"`}},
		{"TSUBASA_DEV=", []string{"TSUBASA_DEV (dev): want true or false"}},
		{"TSUBASA_SESSION_TTL=12", []string{"TSUBASA_SESSION_TTL (session.ttl): want a duration"}},
		{"TSUBASA_MAIL_SMTP_PORT=smtp", []string{"TSUBASA_MAIL_SMTP_PORT (mail.smtp.port): want a whole number"}},
		{"TSUBASA_PASSWORD_ARGON2_PARALLELISM=256", []string{"TSUBASA_PASSWORD_ARGON2_PARALLELISM", "0 to 255"}},
		{"TSUBASA_OTP_FORMATS_=digits", []string{"TSUBASA_OTP_FORMATS_ (otp.formats): name the entry"}},
		{"TSUBASA_OTP_FORMATS=digits", []string{"TSUBASA_OTP_FORMATS: no such setting"}},
		{"TSUBASA_CLIENTS=[", []string{"TSUBASA_CLIENTS"}},
		{"TSUBASA_CLIENTS={id: a}", []string{"TSUBASA_CLIENTS (line 1): clients: want a list"}},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			_, err := Load("", []string{tc.env})
			wantError(t, err, tc.want...)
		})
	}
}

// TestEnvNames guards the reflection that names variables: every key gets
// exactly one name, no two keys collide, and the documented examples hold.
func TestEnvNames(t *testing.T) {
	names := EnvNames()
	if len(names) != len(slices.Compact(slices.Clone(names))) {
		t.Errorf("duplicate variable names in %v", names)
	}
	for _, want := range []string{
		"TSUBASA_ISSUER", "TSUBASA_STORAGE_BOLT_PATH", "TSUBASA_MAIL_SMTP_HOST",
		"TSUBASA_LEGACY_PIN_WEB_LOGIN_UNTIL", "TSUBASA_OTP_SMS_COUNTRIES", "TSUBASA_OTP_FORMATS_*",
		"TSUBASA_MAIL_OTP_SMTP_PASSWORD_FILE", "TSUBASA_CLIENTS", "TSUBASA_SECRET_FILE",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("EnvNames lacks %s", want)
		}
	}
	// A plain name must not also be read as a map entry.
	for _, e := range envTable() {
		if e.isMap {
			continue
		}
		if ev, _, _ := lookupEnv(e.name); ev.name != e.name {
			t.Errorf("%s resolves to %s", e.name, ev.name)
		}
	}
	leaves := leafKeys(reflect.TypeFor[Config](), "")
	var keys []string
	for _, e := range envTable() {
		keys = append(keys, e.key)
	}
	for _, k := range leaves {
		// A list of sections has one variable for the whole list.
		inList := slices.ContainsFunc(keys, func(l string) bool { return strings.HasPrefix(k, l+".") })
		if !strings.HasPrefix(k, "clients.") && !inList && !slices.Contains(keys, k) {
			t.Errorf("key %s has no environment variable", k)
		}
	}
}

// leafKeys lists every key that holds a value, as dotted paths; list items
// of sections appear without an index (clients.id).
func leafKeys(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range fieldsOf(t) {
		ft := t.Field(f.index).Type
		p := joinPath(prefix, f.key)
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, leafKeys(ft, p)...)
		case ft.Kind() == reflect.Pointer || (ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct):
			out = append(out, leafKeys(ft.Elem(), p)...)
		default:
			out = append(out, p)
		}
	}
	return out
}

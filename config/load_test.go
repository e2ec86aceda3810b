package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantError fails unless err is an error whose text contains every want.
func wantError(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// loadYAML writes doc to a file and loads it with the given environment.
func loadYAML(t *testing.T, doc string, environ ...string) (Config, error) {
	t.Helper()
	return Load(writeFile(t, "tsubasa.yaml", doc), environ)
}

func TestLoadEmptyIsDefault(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":         "",
		"comments only": "# nothing here\n",
		"null document": "~\n",
		"empty section": "log:\n  # level: debug\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := loadYAML(t, doc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, Default()) {
				t.Errorf("got %+v\nwant %+v", got, Default())
			}
		})
	}
	got, err := Load("", nil)
	if err != nil || !reflect.DeepEqual(got, Default()) {
		t.Errorf(`Load("", nil) = %+v, %v; want Default()`, got, err)
	}
}

func TestLoadValues(t *testing.T) {
	doc := `
issuer: https://id.example.com
dev: true
password:
  argon2: {memory_kib: 65536, parallelism: 4}
tokens:
  code_ttl: 30s
keys:
  rotation_period: 0
otp:
  sms_countries: [JP, US]
  formats: {login: pictogram}
mail:
  otp_smtp:
    host: otp.example.com
clients:
  - id: shop
    secret: s3cret
    redirect_uris: [https://shop.example.com/cb]
  - id: batch
    secret: s3cret
`
	c, err := loadYAML(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"issuer", c.Issuer, "https://id.example.com"},
		{"dev", c.Dev, true},
		{"argon2 memory", c.Password.Argon2.MemoryKiB, uint32(65536)},
		{"argon2 parallelism", c.Password.Argon2.Parallelism, uint8(4)},
		{"argon2 iterations keeps default", c.Password.Argon2.Iterations, uint32(2)},
		{"code ttl", c.Tokens.CodeTTL, 30 * time.Second},
		{"rotation 0", c.Keys.RotationPeriod, time.Duration(0)},
		{"countries replace", c.OTP.SMSCountries, []string{"JP", "US"}},
		{"formats merged", c.OTP.Formats["login"] + "," + c.OTP.Formats["reset"], "pictogram,digits"},
		{"otp smtp host", c.Mail.OTPSMTP.Host, "otp.example.com"},
		{"otp smtp port default", c.Mail.OTPSMTP.Port, 587},
		{"otp smtp tls default", c.Mail.OTPSMTP.TLS, TLSStartTLS},
		{"client grants with redirect", c.Clients[0].GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}},
		{"client grants without redirect", c.Clients[1].GrantTypes, []string{GrantClientCredentials}},
		{"client alg", c.Clients[0].IDTokenSignedResponseAlg, AlgRS256},
		{"client scopes", len(c.Clients[0].Scopes), 6},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	if Default().OTP.Formats["login"] != OTPFormatDigits {
		t.Error("loading changed the defaults' formats map")
	}
}

func TestLoadStrictErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		{"unknown top key", "issuer: http://localhost:8080\nissuerr: x\n",
			[]string{"tsubasa.yaml:2:", "issuerr: unknown key", `did you mean "issuer"`}},
		{"unknown nested key", "log:\n  levle: debug\n",
			[]string{"tsubasa.yaml:2:", "log.levle: unknown key", `"level"`}},
		{"unknown key no suggestion", "log:\n  zzzzzzzzzz: 1\n",
			[]string{"log.zzzzzzzzzz", "expected one of: level, format, audit_json"}},
		{"unknown client key", "clients:\n  - id: a\n    redirect_uri: x\n",
			[]string{"tsubasa.yaml:3:", "clients[0].redirect_uri: unknown key", `"redirect_uris"`}},
		{"duplicate key", "listen: :1\nlisten: :2\n",
			[]string{"tsubasa.yaml:2:", "listen: duplicate key (first set on line 1)"}},
		{"bad bool", "dev: yes\n", []string{"tsubasa.yaml:1:", "dev: want true or false", `"yes"`}},
		{"bad duration", "tokens:\n  code_ttl: 30\n",
			[]string{"tsubasa.yaml:2:", "tokens.code_ttl: want a duration"}},
		{"bad int", "keys:\n  rsa_bits: big\n", []string{"keys.rsa_bits: want a whole number"}},
		{"uint8 overflow", "password:\n  argon2:\n    parallelism: 300\n",
			[]string{"tsubasa.yaml:3:", "password.argon2.parallelism: want a whole number from 0 to 255"}},
		{"null scalar", "brand:\n  primary_color: #0b3d91\n",
			[]string{"tsubasa.yaml:2:", "brand.primary_color: no value", "quote"}},
		{"scalar for section", "log: debug\n", []string{"log: want a mapping"}},
		{"list for string", "issuer: [a]\n", []string{"issuer: want a string"}},
		{"string for list", "otp:\n  sms_countries: JP\n", []string{"otp.sms_countries: want a list"}},
		{"map in list", "otp:\n  sms_countries: [{a: b}]\n", []string{"otp.sms_countries[0]: want a string"}},
		{"bad map value", "otp:\n  formats: {login: [x]}\n", []string{"otp.formats.login: want a string"}},
		{"syntax", "log:\n  level: [\n", []string{"tsubasa.yaml:"}},
		{"two documents", "dev: true\n---\ndev: false\n", []string{"tsubasa.yaml:2:", "only one YAML document"}},
		{"merge key", "base: &b {level: debug}\nlog:\n  <<: *b\n", []string{"base: unknown key", "merge keys"}},
		{"top level list", "- a\n", []string{"tsubasa.yaml:1:", "want a mapping"}},
		{"null client", "clients:\n  -\n", []string{"clients[0]: empty list item"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, tc.doc)
			wantError(t, err, tc.want...)
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := loadYAML(t, "a: 1\nb: 2\nlog:\n  c: 3\n", "TSUBASA_NOPE=1")
	wantError(t, err, "tsubasa.yaml:1: a:", "tsubasa.yaml:2: b:", "tsubasa.yaml:4: log.c:", "TSUBASA_NOPE")
}

func TestLoadCapsProblems(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "unknown_%d: x\n", i)
	}
	_, err := loadYAML(t, b.String())
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxReported+1 || lines[maxReported] != "… and 200 more problems" {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestLoadManyClients(t *testing.T) {
	// Large but honest files stay within the alias budget.
	var b strings.Builder
	b.WriteString("clients:\n")
	for i := range 12000 {
		fmt.Fprintf(&b, "  - {id: c%d, secret: s, redirect_uris: [a, b, c, d, e, f, g]}\n", i)
	}
	c, err := loadYAML(t, b.String())
	if err != nil || len(c.Clients) != 12000 {
		t.Fatalf("%d clients, %v", len(c.Clients), err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadAliases(t *testing.T) {
	doc := `
uris: &uris [https://a.example.com/cb]
`
	if _, err := loadYAML(t, doc); err == nil {
		t.Error("anchor on an unknown key accepted")
	}
	doc = `
clients:
  - id: a
    secret: x
    redirect_uris: &uris [https://a.example.com/cb]
  - id: b
    secret: y
    redirect_uris: *uris
`
	c, err := loadYAML(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Clients[1].RedirectURIs; len(got) != 1 || got[0] != "https://a.example.com/cb" {
		t.Errorf("alias gave %v", got)
	}
	// A cycle must end in an error, not a hang.
	if _, err := loadYAML(t, "storage: &s {bolt: *s}\n"); err == nil {
		t.Error("alias cycle accepted")
	}
}

func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [" + strings.Repeat("x,", 999) + "x]\n")
	b.WriteString("clients:\n")
	b.WriteString("  - &c {id: c, redirect_uris: *a, post_logout_redirect_uris: *a, scopes: *a}\n")
	for range 2000 {
		b.WriteString("  - *c\n")
	}
	_, err := loadYAML(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	master := write("master", strings.Repeat("k", 40)+"\r\n")
	client := write("client", "client-secret\n")
	smtp := write("smtp", "smtp-pass\n\n")
	twilio := write("twilio", "tw")
	empty := write("empty", "\n")
	doc := "secret_file: " + master + `
clients:
  - id: shop
    secret_file: ` + client + `
mail:
  smtp: {password_file: ` + smtp + `}
  otp_smtp: {password_file: ` + smtp + `}
`
	c, err := loadYAML(t, doc, "TSUBASA_SMS_TWILIO_AUTH_TOKEN_FILE="+twilio)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][2]string{
		"secret":        {c.Secret, strings.Repeat("k", 40)},
		"client":        {c.Clients[0].Secret, "client-secret"},
		"smtp":          {c.Mail.SMTP.Password, "smtp-pass"},
		"otp smtp":      {c.Mail.OTPSMTP.Password, "smtp-pass"},
		"twilio (env)":  {c.SMS.Twilio.AuthToken, "tw"},
		"file key kept": {c.SecretFile, master},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", name, got[0], got[1])
		}
	}

	errTests := []struct {
		name, doc string
		want      []string
	}{
		{"missing", "clients:\n  - id: a\n    secret_file: " + filepath.Join(dir, "nope") + "\n",
			[]string{"clients[0].secret_file:", "no such file"}},
		{"empty", "sms:\n  webhook:\n    token_file: " + empty + "\n", []string{"sms.webhook.token_file:", "is empty"}},
		{"directory", "secret_file: " + dir + "\n", []string{"secret_file:", "not a regular file"}},
		{"both", "secret: abc\nsecret_file: " + master + "\n", []string{"secret and secret_file are both set"}},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, tc.doc)
			wantError(t, err, tc.want...)
		})
	}

	big := write("big", strings.Repeat("x", maxSecretFile+1))
	if _, err := Load("", []string{"TSUBASA_SECRET_FILE=" + big}); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("oversized secret file: err = %v", err)
	}
}

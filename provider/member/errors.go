package member

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"tsubasa/provider/notify"
)

// Sentinel errors. Test with errors.Is; wrapped errors keep them.
var (
	// ErrInvalidCredentials is the one answer for every failed login: unknown
	// member, wrong secret, malformed number, disabled account.
	ErrInvalidCredentials = errors.New("member: invalid credentials")
	// ErrPINExpired: a 6-digit secret was submitted on the web after the PIN
	// cutover and it is not the member's password. Returned whether or not the
	// member exists, so it reveals nothing more than ErrInvalidCredentials.
	ErrPINExpired = errors.New("member: the 6-digit PIN no longer works on the web")
	// ErrBusy: every hashing slot is taken and the waiting line is full.
	// Answer 503 with Retry-After.
	ErrBusy = errors.New("member: too many logins in progress")
	// ErrSamePassword: the new password equals the current one.
	ErrSamePassword = errors.New("member: new password equals the current one")
	// ErrHashFormat: a stored or imported hash is not a supported PHC string.
	ErrHashFormat = errors.New("member: unsupported or malformed password hash")

	ErrNumberFormat         = errors.New("member: member number must be 7 or 9 digits")
	ErrEmailSyntax          = errors.New("member: malformed email address")
	ErrEmailLeadingDot      = errors.New("member: email address starts with a dot")
	ErrEmailConsecutiveDots = errors.New("member: email address has consecutive dots")
	ErrEmailDotBeforeAt     = errors.New("member: email address has a dot right before @")
	ErrPhoneFormat          = errors.New("member: not a valid phone number")
	ErrPINFormat            = errors.New("member: PIN must be exactly 6 digits")
	ErrNameRequired         = errors.New("member: a name is required")
	ErrNameFormat           = errors.New("member: name has invalid characters or is too long")
	ErrNameLatin            = errors.New("member: passport name must use Latin letters")
	ErrCountry              = errors.New("member: country must be an ISO 3166-1 alpha-2 code")
	ErrLocale               = errors.New("member: locale must name one of the languages " + strings.Join(notify.Languages(), ", "))
	ErrPasswordAndHash      = errors.New("member: give either a password or a password hash, not both")
	ErrPasswordPolicy       = errors.New("member: password does not meet the policy")
	ErrStatus               = errors.New("member: unknown member status")
)

// catalogKeys maps errors shown next to a form field to stable message
// catalog keys of the login UI. A slice, so CatalogKey is deterministic.
var catalogKeys = []struct {
	err error
	key string
}{
	{ErrInvalidCredentials, "login.error.invalid_credentials"},
	{ErrPINExpired, "login.error.pin_expired"},
	{ErrBusy, "login.error.busy"},
	{ErrSamePassword, "password.error.same"},
	{ErrCredentialsChanged, "error.credentials_changed"},
	{ErrHashFormat, "member.error.hash_format"},
	{ErrNumberFormat, "member.error.number_format"},
	{ErrEmailSyntax, "member.error.email_syntax"},
	{ErrEmailLeadingDot, "member.error.email_leading_dot"},
	{ErrEmailConsecutiveDots, "member.error.email_consecutive_dots"},
	{ErrEmailDotBeforeAt, "member.error.email_dot_before_at"},
	{ErrPhoneFormat, "member.error.phone_format"},
	{ErrPINFormat, "member.error.pin_format"},
	{ErrNameRequired, "member.error.name_required"},
	{ErrNameFormat, "member.error.name_format"},
	{ErrNameLatin, "member.error.name_latin"},
	{ErrCountry, "member.error.country"},
	{ErrLocale, "member.error.locale"},
	{ErrPasswordAndHash, "member.error.password_and_hash"},
	{ErrPasswordPolicy, "member.error.password_policy"},
	{ErrStatus, "member.error.status"},
}

// KeyNumberTaken is the catalog key CreateMember puts on the number field
// when the number belongs to another member.
const KeyNumberTaken = "member.error.number_taken"

// CatalogKey returns the message catalog key for one of this package's
// errors (found with errors.Is), or "" for any other error.
func CatalogKey(err error) string {
	if err == nil {
		return ""
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		return "login.error.throttled"
	}
	for _, c := range catalogKeys {
		if errors.Is(err, c.err) {
			return c.key
		}
	}
	return ""
}

// ThrottledError says a login was refused without checking the secret,
// because of too many recent failures for the member number or the address.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("member: too many failed logins, retry after %s", e.RetryAfter.Round(time.Second))
}

// PolicyError lists the password rules a new password breaks.
type PolicyError struct {
	Violations []Violation
}

func (e *PolicyError) Error() string {
	rules := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		rules[i] = v.Rule
	}
	return "member: password breaks " + strings.Join(rules, ", ")
}

// Is lets errors.Is(err, ErrPasswordPolicy) match.
func (e *PolicyError) Is(target error) bool { return target == ErrPasswordPolicy }

// FieldErrors collects what is wrong with a new member, per form field.
type FieldErrors struct {
	// Fields maps a field (number, password, pin, password_hash, family_name,
	// given_name, family_name_latin, given_name_latin, email, phone, country,
	// locale) to a catalog key.
	Fields map[string]string
	// Violations holds the password policy violations when Fields["password"]
	// is the policy key.
	Violations []Violation

	errs map[string]error // for Error(): readable text per field
}

func (e *FieldErrors) add(field string, err error) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
		e.errs = map[string]error{}
	}
	if _, dup := e.Fields[field]; dup {
		return // first problem of a field wins
	}
	key := CatalogKey(err)
	if key == "" {
		key = "member.error.invalid"
	}
	e.Fields[field] = key
	e.errs[field] = err
}

func (e *FieldErrors) empty() bool { return e == nil || len(e.Fields) == 0 }

func (e *FieldErrors) Error() string { return "member: invalid fields: " + e.describe() }

// describe lists the problems as "field: message; …", sorted by field.
func (e *FieldErrors) describe() string {
	fields := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	parts := make([]string, len(fields))
	for i, f := range fields {
		msg := e.Fields[f]
		if err := e.errs[f]; err != nil {
			msg = strings.TrimPrefix(err.Error(), "member: ")
		}
		parts[i] = f + ": " + msg
	}
	return strings.Join(parts, "; ")
}

// Unwrap exposes the per-field errors to errors.Is (e.g. ErrAlreadyExists
// for a taken number).
func (e *FieldErrors) Unwrap() []error {
	out := make([]error, 0, len(e.errs))
	for _, err := range e.errs {
		out = append(out, err)
	}
	return out
}

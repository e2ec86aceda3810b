package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"tsubasa/provider"
	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/provider/member"
	"tsubasa/provider/notify"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// Store is what the operations need from storage.
type Store interface {
	storage.Clients
	storage.Members
	storage.Tokens
	storage.Sessions
	storage.Keys
	storage.Events
	storage.EventPages
	storage.Passkeys
	storage.Devices
	storage.Consents
	storage.Jobs
	storage.SupportSessions
	storage.Throttles
	storage.Webhooks
	storage.Erasure
	storage.MemberContacts
}

// Options configure a Service. The composition root builds them from
// config, for the running server or for the CLI's direct mode.
type Options struct {
	Store   Store
	Members *member.Service
	// Clients is the provider's client registry: clients change only
	// through it, so the running provider sees a change at once. The
	// config file's clients are listed and shown, never changed.
	Clients *provider.ClientRegistry
	// CheckClient applies the config file's defaults and rules to a new
	// client, so that a client added here is exactly as valid as one
	// written in the file. It returns the client with its defaults, or an
	// *adminapi.Error naming the fields at fault.
	CheckClient func(adminapi.ClientInput) (adminapi.ClientInput, error)
	// RotateKeys rotates the signing keys. The server passes the running
	// provider's, so it signs with the new keys at once.
	RotateKeys func(ctx context.Context) ([]storage.SigningKey, error)
	// SMSCountries is otp.sms_countries: a member's phone outside them
	// never gets an SMS code, which create and show say.
	SMSCountries []string
	// Progress receives import progress in direct mode (the operator's
	// terminal); nil on the server.
	Progress io.Writer
	// CursorKey signs the cursors of event pages (32 bytes); every
	// process serving the API must have the same.
	CursorKey []byte
	// JobTTL is how long a finished job stays readable [7 days].
	JobTTL time.Duration
	// OTP sends support sessions' codes (otp.PurposeSupport); nil: support
	// sessions are not offered.
	OTP *otp.Service
	// Support is admin.support.
	Support SupportOptions
	// Audit records the events of operators' acts; nil: to Store, with
	// no SIEM output.
	Audit *audit.Logger
	// WebhookKey derives each webhook subscription's signing secret
	// (webhook.SecretFor); CheckWebhookURL applies the config's rules for
	// addresses Tsubasa calls (https, no special-use address unless
	// outbound.allow_private_networks) to a subscription's URL. Without
	// both, subscriptions cannot be added.
	WebhookKey      []byte
	CheckWebhookURL func(string) error
	// SSFIssuer names the issuer in Shared Signals streams' configurations;
	// SSFKey seals the Authorization header each stream's receiver wants
	// (provider/ssf). Without SSFKey (and CheckWebhookURL), streams cannot
	// be created.
	SSFIssuer string
	SSFKey    []byte
	// Logouts queues the back-channel logouts of the sessions an operator
	// ends, before they end; nil queues none.
	Logouts *notify.Logouts
	Logger  *slog.Logger // [slog.Default()]
	Now     func() time.Time
}

// Service runs the admin operations over one open store.
type Service struct {
	store     Store
	members   *member.Service
	clients   *provider.ClientRegistry
	check     func(adminapi.ClientInput) (adminapi.ClientInput, error)
	rotate    func(ctx context.Context) ([]storage.SigningKey, error)
	sms       notify.SMSPolicy
	countries []string
	progress  io.Writer
	cursorKey []byte
	jobTTL    time.Duration
	audit     *audit.Logger
	logouts   *notify.Logouts
	whKey     []byte
	whCheck   func(string) error
	ssfIssuer string
	ssfKey    []byte
	log       *slog.Logger
	now       func() time.Time
	backups   *backups
	otp       *otp.Service
	support   SupportOptions
}

// New builds the operations.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Members == nil || o.Clients == nil || o.CheckClient == nil || o.RotateKeys == nil {
		return nil, errors.New("admin: Store, Members, Clients, CheckClient and RotateKeys are required")
	}
	if len(o.CursorKey) < 32 {
		return nil, errors.New("admin: CursorKey must be at least 32 bytes")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.JobTTL <= 0 {
		o.JobTTL = 7 * 24 * time.Hour
	}
	if o.Audit == nil {
		o.Audit = audit.New(o.Store, nil)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Service{
		store: o.Store, members: o.Members, clients: o.Clients,
		check: o.CheckClient, rotate: o.RotateKeys,
		sms: notify.NewSMSPolicy(o.SMSCountries), countries: o.SMSCountries,
		progress: o.Progress, cursorKey: o.CursorKey, jobTTL: o.JobTTL, audit: o.Audit, logouts: o.Logouts,
		whKey: o.WebhookKey, whCheck: o.CheckWebhookURL, log: o.Logger,
		ssfIssuer: o.SSFIssuer, ssfKey: o.SSFKey,
		now: o.Now, backups: newBackups(), otp: o.OTP, support: o.Support.withDefaults(),
	}
	return s, nil
}

// Handle runs the operation named op. Its error is an *adminapi.Error,
// worded for the operator, or an internal failure whose detail belongs in
// the server log only.
func (s *Service) Handle(ctx context.Context, op string, req adminapi.Request) (any, error) {
	run, ok := operations[op]
	if !ok {
		return nil, adminapi.NotFound("unknown operation %q", op)
	}
	out, err := run(ctx, s, req)
	if err != nil {
		if ae := classify(err); ae != nil {
			return nil, ae
		}
		return nil, err
	}
	return out, nil
}

// classify words err for the operator; nil means an internal failure.
func classify(err error) *adminapi.Error {
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		return ae
	}
	var fe *member.FieldErrors
	if errors.As(err, &fe) {
		ae := adminapi.Invalid(firstField(fe), "%s", memberFieldsMessage(fe))
		if errors.Is(err, storage.ErrAlreadyExists) {
			ae = adminapi.Conflict(ae.Field, "%s", ae.Message)
		}
		return ae
	}
	var pe *member.PolicyError
	if errors.As(err, &pe) {
		return adminapi.Invalid("password", "password: %s", policyMessage(pe.Violations))
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return adminapi.NotFound("not found")
	case errors.Is(err, storage.ErrAlreadyExists):
		return adminapi.Conflict("", "already exists")
	case errors.Is(err, member.ErrSamePassword):
		return adminapi.Invalid("password", "password: the new password equals the current one")
	case errors.Is(err, member.ErrBusy):
		return adminapi.Busy
	case errors.Is(err, member.ErrPrecondition):
		return adminapi.PreconditionFailed("the member changed since it was read; read it again")
	}
	return nil
}

// firstField is the alphabetically first field of fe, for the API's field.
func firstField(fe *member.FieldErrors) string {
	fields := make([]string, 0, len(fe.Fields))
	for f := range fe.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// memberFieldsMessage words fe for the operator, spelling out password
// rules, which FieldErrors names only by catalog key.
func memberFieldsMessage(fe *member.FieldErrors) string {
	parts := strings.Split(strings.TrimPrefix(fe.Error(), "member: invalid fields: "), "; ")
	for i, p := range parts {
		if strings.HasPrefix(p, "password: ") && len(fe.Violations) > 0 {
			parts[i] = "password: " + policyMessage(fe.Violations)
		}
	}
	return "invalid member: " + strings.Join(parts, "; ")
}

func policyMessage(vs []member.Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		switch v.Rule {
		case member.RuleLength:
			parts[i] = fmt.Sprintf("must be %d to %d characters", v.Min, v.Max)
		case member.RuleClasses:
			parts[i] = fmt.Sprintf("must mix at least %d of upper case, lower case, digits and symbols", v.Min)
		case member.RuleMemberNumber:
			parts[i] = "must not contain the member number"
		case member.RuleName:
			parts[i] = "must not contain the member's name"
		case member.RuleCommon:
			parts[i] = "must not be a well-known password"
		case member.RuleBreached:
			parts[i] = "must not appear in known data breaches"
		default:
			parts[i] = v.Rule
		}
	}
	return strings.Join(parts, ", ")
}

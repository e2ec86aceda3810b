package member

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tsubasa/storage"
)

// maxSecretBytes bounds a submitted secret; longer ones cannot be a valid
// password (MaxLength is at most a few hundred characters) and are refused
// after a dummy hash, like any wrong secret.
const maxSecretBytes = 4096

// LoginInput is one web login attempt.
type LoginInput struct {
	Number    string // as typed
	Secret    string // password, or the legacy PIN while the web cutover is ahead
	IP        string
	UserAgent string
	// DeviceID is the stored id of the browser's device cookie
	// (risk.Engine.DeviceID), "" without one: a device recorded for the
	// member counts the attempt against its own budget (see budget).
	DeviceID string
}

// LoginResult is a successful login.
type LoginResult struct {
	Member storage.Member
	Method string // MethodPassword or MethodPIN
	// MustSetPassword: the member logged in with the PIN, or must change the
	// password; the UI has them set a policy-compliant password (SetPassword)
	// before the login completes.
	MustSetPassword bool
}

// errThrottled aborts the reservation update of a locked member.
var errThrottled = errors.New("member: throttled")

// Authenticate checks a web login. See the package documentation for the
// state machine. Errors: ErrInvalidCredentials, ErrPINExpired,
// *ThrottledError, ErrBusy, or a storage failure.
//
// What an attempt holds is released in one place each: the hashing
// admission by close (early, before any padding, by failed and throttled),
// and the budget's count in flight by leave. A failed or throttled answer
// adds itself to its address's window before it is padded.
func (s *Service) Authenticate(ctx context.Context, in LoginInput) (LoginResult, error) {
	a := &attempt{s: s, in: in, start: time.Now(), now: s.now(), pinShape: isPINShape(in.Secret)}
	a.pinOpen = s.pinWebOpen(a.now)
	// The address first, and alone: a refused address looks nothing up,
	// so its quick, unpadded answer tells nothing about the number.
	retry, err := s.addressWait(ctx, in.IP, a.now)
	if err != nil {
		return LoginResult{}, fmt.Errorf("member: reading the address's failures: %w", err)
	}
	if retry > 0 {
		return LoginResult{}, a.throttled(ctx, budget{}, retry, "address")
	}
	// Be admitted to hashing before recording anything: ErrBusy must cost
	// the member no failure. A slot is then held only while a hash runs,
	// not across the store's writes.
	adm, err := s.hasher.admit(false)
	if err != nil {
		return LoginResult{}, err
	}
	a.adm = adm
	defer adm.close()

	number, nerr := ParseNumber(in.Number)
	if nerr != nil || len(in.Secret) > maxSecretBytes {
		return LoginResult{}, a.unknown(ctx, in.Secret[:min(len(in.Secret), maxSecretBytes)])
	}
	m, err := s.store.MemberByNumber(ctx, number)
	if errors.Is(err, storage.ErrNotFound) {
		retry, err := s.reserveUnknown(storage.Direct(ctx), number, a.now)
		switch {
		case err != nil:
			return LoginResult{}, fmt.Errorf("member: counting the attempt: %w", err)
		case retry > 0:
			return LoginResult{}, a.throttled(ctx, budget{}, retry, "number")
		}
		return LoginResult{}, a.unknown(ctx, in.Secret)
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("member: looking up number: %w", err)
	}
	// Count the attempt in flight before checking the secret (see
	// enter), against the member's budget or a known device's.
	r, retry, err := s.enter(ctx, m.ID, in.DeviceID, a.now)
	switch {
	case err != nil:
		return LoginResult{}, fmt.Errorf("member: reading lock state: %w", err)
	case retry > 0:
		return LoginResult{}, a.throttled(ctx, r.budget, retry, r.budget.scope())
	}
	defer s.leave(ctx, r.budget)
	return a.check(ctx, r)
}

// unknown answers a number that is malformed or belongs to no member,
// after the dummy work a real check would do.
func (a *attempt) unknown(ctx context.Context, secret string) error {
	if err := a.adm.dummy(ctx, secret); err != nil {
		return err
	}
	return a.failed(ctx, budget{}, ReasonBadCredentials, false)
}

// check verifies the secret of the member r admitted. A member with a
// password logs in with it; only a member without one, while the web
// cutover is ahead, may use the 6-digit PIN. One hash per attempt either
// way, so timing tells nothing about which applied; with neither, the
// check is a dummy verify of what was typed.
func (a *attempt) check(ctx context.Context, r reservation) (LoginResult, error) {
	m := r.member
	hash, method, secret := "", "", a.in.Secret
	switch {
	case m.PasswordHash != "":
		hash, method, secret = m.PasswordHash, MethodPassword, normalizePassword(a.in.Secret)
	case a.pinShape && a.pinOpen && m.PINHash != "":
		hash, method = m.PINHash, MethodPIN
	}
	ok, newHash, err := a.adm.check(ctx, hash, secret)
	switch {
	case errors.Is(err, ErrHashFormat):
		a.s.log.ErrorContext(ctx, "stored hash unreadable", "member_id", m.ID, "method", method, "error", err)
	case err != nil:
		// The request ended while waiting for a slot: the secret was not
		// checked, so there is nothing to count.
		return LoginResult{}, err
	}
	a.adm.close()
	switch {
	case m.Status != storage.MemberActive:
		return LoginResult{}, a.failed(ctx, r.budget, ReasonDisabled, true)
	case !ok:
		return LoginResult{}, a.failed(ctx, r.budget, ReasonBadCredentials, true)
	}
	return a.s.succeeded(ctx, a.in, r, method, hash, newHash)
}

// succeeded records a right secret: its event, the count of its budget
// cleared, a hash with old parameters replaced. A known device clears its
// own count and leaves the member's alone, so that a member's login does
// not hand whoever guesses from elsewhere a fresh budget.
func (s *Service) succeeded(ctx context.Context, in LoginInput, r reservation, method, hash, newHash string) (LoginResult, error) {
	m := r.member
	verified := storage.Event{Type: EventPasswordVerified, MemberID: m.ID, DeviceID: r.budget.device,
		IP: in.IP, UserAgent: in.UserAgent, Method: method, Success: true}
	memberClear := r.budget.device != "" || r.clear
	if r.budget.device != "" && !r.clear {
		if err := s.clearDevice(ctx, r.budget); err != nil {
			return LoginResult{}, fmt.Errorf("member: recording login: %w", err)
		}
	}
	if newHash == "" && memberClear {
		// Nothing in the record to change (the usual case): the event alone.
		if err := s.record(ctx, verified); err != nil {
			return LoginResult{}, fmt.Errorf("member: recording login: %w", err)
		}
		return LoginResult{Member: m, Method: method, MustSetPassword: method == MethodPIN || m.MustChangePassword}, nil
	}
	err := s.updateWithEvent(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
		if r.budget.device == "" {
			old = lockState{}.applyTo(old)
		}
		// Replace the hash only if it is still the one just verified: a
		// concurrent password change wins.
		if newHash != "" && method == MethodPassword && old.PasswordHash == hash {
			old.PasswordHash = newHash
		}
		if newHash != "" && method == MethodPIN && old.PINHash == hash {
			old.PINHash = newHash
		}
		m = old
		return old, nil
	}, verified)
	if err != nil {
		return LoginResult{}, fmt.Errorf("member: recording login: %w", err)
	}
	return LoginResult{Member: m, Method: method, MustSetPassword: method == MethodPIN || m.MustChangePassword}, nil
}

// attempt is one login in progress.
type attempt struct {
	s        *Service
	in       LoginInput
	start    time.Time // wall clock, for the padding of failed answers
	now      time.Time // the service's clock, for windows and events
	pinShape bool
	pinOpen  bool
	adm      *admission // nil until admitted to hashing
}

// answered lets go of the attempt's hashing admission before its answer is
// padded.
func (a *attempt) answered() {
	if a.adm != nil {
		a.adm.close()
	}
}

// failed records a failed attempt and returns the error to show. A 6-digit
// secret after the cutover gets ErrPINExpired whether or not the number
// exists, so the two errors reveal nothing more than one would. b is the
// budget it counts against (no member: an unknown number); known says the
// member exists (its duration feeds the timing padding).
func (a *attempt) failed(ctx context.Context, b budget, reason string, known bool) error {
	a.answered()
	err := ErrInvalidCredentials
	if a.pinShape && !a.pinOpen {
		err = ErrPINExpired
		if reason == ReasonBadCredentials {
			reason = ReasonPINExpired
		}
	}
	e := storage.Event{Type: EventLoginFailed, MemberID: b.member, DeviceID: b.device, IP: a.in.IP,
		UserAgent: a.in.UserAgent, Reason: reason, Time: a.now}
	if b.member == "" {
		e.Detail = map[string]string{"number": printableNumber(a.in.Number)}
		a.s.event(ctx, e)
	} else if werr := a.s.countFailure(ctx, b, a.now, e); werr != nil {
		// The failure is counted before it is answered; if that cannot
		// be written, neither is the answer.
		return fmt.Errorf("member: recording failure: %w", werr)
	}
	if werr := a.s.addressFailed(ctx, a.in.IP, a.now); werr != nil {
		return fmt.Errorf("member: recording failure: %w", werr)
	}
	if known {
		a.s.timing.observe(time.Since(a.start))
	}
	a.s.timing.pad(ctx, a.start)
	return err
}

// throttled records a refused attempt. Its answer is padded like failures:
// checking a member's lock touches the store, an unknown number's does not.
func (a *attempt) throttled(ctx context.Context, b budget, retry time.Duration, scope string) error {
	a.answered()
	e := storage.Event{Type: EventLoginFailed, MemberID: b.member, DeviceID: b.device, IP: a.in.IP, UserAgent: a.in.UserAgent,
		Reason: ReasonThrottled, Time: a.now, Detail: map[string]string{"scope": scope}}
	if b.member == "" {
		e.Detail["number"] = printableNumber(a.in.Number)
	}
	a.s.event(ctx, e)
	if scope != "address" {
		// A refused guess still counts against its address, as a failure.
		if err := a.s.addressFailed(ctx, a.in.IP, a.now); err != nil {
			a.s.log.ErrorContext(ctx, "throttled attempt not counted against its address", "error", err)
		}
	}
	if b.member != "" {
		a.s.throttleTiming.observe(time.Since(a.start))
	}
	if scope != "address" {
		a.s.throttleTiming.pad(ctx, a.start)
	}
	return &ThrottledError{RetryAfter: retry}
}

// printableNumber is what the audit log keeps of a number that matched no
// member: the canonical form, or a bounded prefix of what was typed.
func printableNumber(s string) string {
	if n, err := ParseNumber(s); err == nil {
		return n
	}
	r := []rune(s)
	return fmt.Sprintf("%q", string(r[:min(len(r), 16)]))
}

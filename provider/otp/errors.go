package otp

import (
	"errors"
	"fmt"
	"time"

	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// Sentinel errors. Test with errors.Is; wrapped errors keep them.
var (
	// ErrNoChallenge: nothing was issued for this member and purpose, or it
	// was replaced and removed meanwhile. Offer to send a code.
	ErrNoChallenge = errors.New("otp: no challenge outstanding")
	// ErrExpired: the challenge is past its lifetime. Offer a new code.
	ErrExpired = errors.New("otp: challenge expired")
	// ErrConsumed: the code was already used. It also matches
	// storage.ErrConsumed.
	ErrConsumed = fmt.Errorf("otp: challenge already used: %w", storage.ErrConsumed)
	// ErrTooManyAttempts: MaxAttempts wrong entries ended the challenge.
	// Only a new code helps.
	ErrTooManyAttempts = errors.New("otp: too many wrong entries; the challenge has ended")
	// ErrNoDestination: the member has no address or number for the
	// channel, or the override destination is malformed.
	ErrNoDestination = errors.New("otp: no address or number to send to")
	// ErrChannelNotAllowed: the channel is not open to this member (an
	// unverified address or number, SMS outside Options.SMSCountries, no
	// SMS driver, or a destination override outside PurposeContact).
	ErrChannelNotAllowed = errors.New("otp: channel not allowed for this member")
	// ErrSMSDestination: SMS may not go to this number: its country is not
	// one of Options.SMSCountries, or it is not a mobile number
	// (premium-rate, shared-cost, VoIP, landline …). It matches
	// ErrChannelNotAllowed too; the error also holds a
	// *notify.SMSDestinationError with the reason.
	ErrSMSDestination = fmt.Errorf("%w: SMS to this number refused", ErrChannelNotAllowed)
	// ErrSMSUnavailable: the service's hourly SMS budget is spent (it is
	// notify.ErrSMSBudget). It comes inside a *DeliveryError; offer email.
	ErrSMSUnavailable = notify.ErrSMSBudget
	// ErrUnknownPurpose: a programming error: not one of the Purpose constants.
	ErrUnknownPurpose = errors.New("otp: unknown purpose")
	// ErrInvalidInput: ParsePictogramInput found no pictogram sequence. The
	// error never repeats the input.
	ErrInvalidInput = errors.New("otp: input is not a pictogram sequence")
)

// InvalidCodeError: the code entered is wrong (and was counted), or
// malformed (and was not). The challenge is still open.
type InvalidCodeError struct {
	Remaining int  // wrong entries left before the challenge ends
	Malformed bool // not a code of the challenge's format; not counted
}

func (e *InvalidCodeError) Error() string {
	if e.Malformed {
		return fmt.Sprintf("otp: malformed code (%d attempts left)", e.Remaining)
	}
	return fmt.Sprintf("otp: wrong code (%d attempts left)", e.Remaining)
}

// ResendWaitError: Issue was throttled; a new code can be sent after
// RetryAfter. Show the wait to the member.
type ResendWaitError struct {
	RetryAfter time.Duration
}

func (e *ResendWaitError) Error() string {
	return fmt.Sprintf("otp: resend throttled; retry in %s", e.RetryAfter.Round(time.Second))
}

// DeliveryError: the code could not be handed to the mail server or SMS
// gateway. The challenge stays stored (a late delivery still works); tell
// the member and let them retry or choose the other channel. Permanent
// means retrying the same destination is pointless (a rejected recipient).
type DeliveryError struct {
	Channel   string // storage.ChannelEmail or storage.ChannelSMS
	Err       error
	Permanent bool
}

func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("otp: %s delivery by %s failed: %v", kind, e.Channel, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// catalogKeys maps errors to stable message catalog keys of the login UI.
var catalogKeys = []struct {
	err error
	key string
}{
	{ErrNoChallenge, "otp.error.no_challenge"},
	{ErrExpired, "otp.error.expired"},
	{ErrConsumed, "otp.error.consumed"},
	{ErrTooManyAttempts, "otp.error.too_many_attempts"},
	{ErrNoDestination, "otp.error.no_destination"},
	{ErrChannelNotAllowed, "otp.error.channel_not_allowed"},
	{ErrInvalidInput, "otp.error.malformed"},
}

// CatalogKey returns the message catalog key for one of this package's
// errors, or "" for any other error. The typed errors map to
// otp.error.invalid_code, otp.error.malformed, otp.error.resend_wait
// (with the wait as a parameter) and otp.error.delivery; a refused SMS
// number to otp.error.sms_country or
// otp.error.sms_number_type, wherever it was refused; a spent SMS budget
// to otp.error.sms_unavailable.
func CatalogKey(err error) string {
	if err == nil {
		return ""
	}
	var ice *InvalidCodeError
	var rwe *ResendWaitError
	var de *DeliveryError
	var sde *notify.SMSDestinationError
	switch {
	case errors.As(err, &sde):
		if sde.CountryRefused() {
			return "otp.error.sms_country"
		}
		return "otp.error.sms_number_type"
	case errors.Is(err, ErrSMSUnavailable):
		return "otp.error.sms_unavailable"
	case errors.As(err, &ice):
		if ice.Malformed {
			return "otp.error.malformed"
		}
		return "otp.error.invalid_code"
	case errors.As(err, &rwe):
		return "otp.error.resend_wait"
	case errors.As(err, &de):
		return "otp.error.delivery"
	}
	for _, c := range catalogKeys {
		if errors.Is(err, c.err) {
			return c.key
		}
	}
	return ""
}

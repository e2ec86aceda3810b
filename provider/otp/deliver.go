package otp

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"tsubasa/provider/notify"
	"tsubasa/storage"
)

// message renders the mail or SMS for a challenge and returns the send,
// so rendering can fail before anything is stored.
func (s *Service) message(o storage.OTP, c code, locale string) (func(context.Context) error, error) {
	minutes := validMinutes(s.o.TTL)
	if o.Channel == ChannelSMS {
		sms := notify.SMS{To: o.Destination, Body: s.smsBody(o.Purpose, c, locale, minutes), Purpose: "otp", Locale: locale}
		return func(ctx context.Context) error { return s.sms.SendSMS(ctx, sms) }, nil
	}
	var (
		kind, purpose = notify.KindOTP, "otp"
		data          any
	)
	switch {
	case o.Purpose == PurposeSupport:
		kind, purpose = notify.KindSupportCode, "support"
		data = notify.SupportCodeData{Brand: s.o.Brand, Code: c.digits, ValidMinutes: minutes}
	case o.Purpose == PurposeContact && c.pics == nil:
		kind, purpose = notify.KindContactVerify, "contact"
		data = notify.ContactVerifyData{Brand: s.o.Brand, Code: c.digits, ValidMinutes: minutes, Address: o.Destination}
	default:
		d := notify.OTPData{Brand: s.o.Brand, Code: c.digits, ValidMinutes: minutes, Purpose: mailPurpose(o.Purpose)}
		for _, p := range c.pics {
			d.Pictograms = append(d.Pictograms, notify.Pictogram{Symbol: pictograms[p].symbol, Label: label(p, locale)})
		}
		data = d
	}
	msg, err := s.render.RenderMessage(kind, locale, o.Destination, purpose, data)
	if err != nil {
		// Render errors name the template and field, never the values.
		return nil, fmt.Errorf("otp: render mail: %w", err)
	}
	return func(ctx context.Context) error { return s.mail.Send(ctx, msg) }, nil
}

// mailPurpose maps a purpose to the reason the OTP mail gives.
func mailPurpose(p string) string {
	switch p {
	case PurposeLogin:
		return "login"
	case PurposePasskey:
		return "passkey_register"
	case PurposeContact:
		return "account_change"
	case PurposeReset:
		return "password_reset"
	}
	return "" // step-up reads as a plain identity check
}

// smsBody is a short text in the member's language (notify's catalogs). Pictograms go as
// symbol and word, "🍎(りんご)", which the text fallback also accepts.
func (s *Service) smsBody(purpose string, c code, locale string, minutes int) string {
	val := c.digits
	if c.pics != nil {
		parts := make([]string, len(c.pics))
		for i, p := range c.pics {
			parts[i] = pictograms[p].symbol + "(" + label(p, locale) + ")"
		}
		val = strings.Join(parts, " ")
	}
	key := "sms.otp"
	switch purpose {
	case PurposeContact:
		key = "sms.contact"
	case PurposeSupport:
		key = "sms.support"
	}
	return s.render.SMSText(locale, key, s.o.Brand, val, minutes)
}

// validMinutes is the lifetime as the mail states it, rounded up.
func validMinutes(ttl time.Duration) int {
	return max(1, int((ttl+time.Minute-1)/time.Minute))
}

// MaskDestination shows enough of an address or number for the member to
// recognise it and no more: "h***@example.com", "+81 90-****-5678".
func MaskDestination(channel, dest string) string {
	if dest == "" {
		return ""
	}
	if channel == ChannelSMS {
		return maskPhone(dest)
	}
	local, domain, ok := strings.Cut(dest, "@")
	if !ok {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(local)
	if local == "" {
		return "***@" + domain
	}
	return string(first) + "***@" + domain
}

func maskPhone(p string) string {
	digits := strings.TrimPrefix(p, "+")
	if len(digits) <= 4 || !isDigits(digits) {
		return "****"
	}
	last := digits[len(digits)-4:]
	if national, ok := strings.CutPrefix(digits, "81"); ok && len(national) >= 9 {
		// Japanese mobile numbers read 090-1234-5678; the prefix (70, 80,
		// 90) tells the member which phone without giving the number away.
		return "+81 " + national[:2] + "-****-" + last
	}
	return "+" + strings.Repeat("*", len(digits)-4) + last
}

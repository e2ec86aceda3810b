package app

import (
	"net/mail"

	loginui "tsubasa/login-ui"
	"tsubasa/provider/otp"
)

// wireOTP builds the one-time-password feature of the login UI from
// config: the login's second step (otp.on_login, and acr_values asking for
// urn:tsubasa:acr:otp), step-up for the account pages, the contacts pages,
// the password reset and the gate in front of passkey registration. Codes
// go by the OTP mailer (mail.otp_smtp when set) and the SMS driver, never
// through the durable outbox.
func (s *server) wireOTP() (loginui.Feature, error) {
	cfg := s.deps.Config
	o := cfg.OTP
	svc, err := otp.NewService(s.deps.Store, s.msg.otpMail, s.msg.sms, s.msg.renderer, otp.Options{
		TTL:             o.TTL,
		MaxAttempts:     o.MaxAttempts,
		ResendInterval:  o.ResendInterval,
		ResendPerHour:   o.ResendPerHour,
		Formats:         o.Formats,
		PictogramLength: o.PictogramLength,
		SMSCountries:    append([]string{}, o.SMSCountries...), // non-nil: an empty list turns SMS off
		HMACKey:         deriveKey(s.deps.HMACKey, "otp"),
		Brand:           cfg.Brand.Name,
		Logger:          s.deps.Log,
	})
	if err != nil {
		return nil, err
	}
	from := cfg.Mail.ForOTP().From
	if from == "" {
		from = cfg.Mail.From
	}
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address // members look for the address, not the display name
	}
	sender := cfg.SMS.Sender
	if sender == "" {
		sender = cfg.SMS.Twilio.From
	}
	return loginui.OTP(loginui.OTPOptions{
		Service:      svc,
		OnLogin:      o.OnLogin,
		MailFrom:     from,
		SMSSender:    sender,
		SMSCountries: o.SMSCountries,
		TTL:          o.TTL,
	}), nil
}

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
	svc, err := otpService(s.deps, s.msg)
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

// otpService is the one-time-password service of config over d's store,
// sending through m. Every instance (the login UI's, the admin
// operations' for support sessions) keeps its state in the store alone,
// so several in one process, or in several replicas, agree.
func otpService(d *Deps, m *messaging) (*otp.Service, error) {
	cfg := d.Config
	o := cfg.OTP
	return otp.NewService(d.Store, m.otpMail, m.sms, m.renderer, otp.Options{
		TTL:             o.TTL,
		MaxAttempts:     o.MaxAttempts,
		ResendInterval:  o.ResendInterval,
		ResendPerHour:   o.ResendPerHour,
		IPv6Prefix:      cfg.Limits.IPv6Prefix,
		Formats:         o.Formats,
		PictogramLength: o.PictogramLength,
		SMSCountries:    append([]string{}, o.SMSCountries...), // non-nil: an empty list turns SMS off
		HMACKey:         deriveKey(d.HMACKey, "otp"),
		Brand:           cfg.Brand.Name,
		Logger:          d.Log,
	})
}

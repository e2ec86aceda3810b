package app

import (
	"fmt"

	loginui "tsubasa/login-ui"
	"tsubasa/provider/contactcheck"
)

// wireContactChecks builds the contacts' test message from config: sent
// by the one-time passwords' mailer (mail.otp_smtp when set: the path a
// code takes is the one worth checking) and SMS guard, throttled per
// member (contacts.test_interval, tests_per_day), with "received it" links
// that work for contacts.link_ttl, and the reminder after login
// (contacts.confirm_every). It must come after wireOTP in features.
func (s *server) wireContactChecks() (loginui.Feature, error) {
	cfg := s.deps.Config
	svc, err := contactcheck.New(s.deps.Store, contactcheck.Options{
		Key:          deriveKey(s.deps.HMACKey, "contact-check-link"),
		BaseURL:      cfg.Issuer,
		Brand:        cfg.Brand.Name,
		LinkTTL:      cfg.Contacts.LinkTTL,
		TestInterval: cfg.Contacts.TestInterval,
		TestsPerDay:  cfg.Contacts.TestsPerDay,
		Mailer:       s.msg.otpMail,
		SMS:          s.msg.sms,
		Renderer:     s.msg.renderer,
		Logger:       s.deps.Log,
	})
	if err != nil {
		return nil, err
	}
	loc, err := cfg.Alerts.Location()
	if err != nil {
		return nil, fmt.Errorf("alerts.time_zone: %w", err)
	}
	return loginui.ContactChecks(loginui.ContactCheckOptions{
		Service:      svc,
		ConfirmEvery: cfg.Contacts.ConfirmEvery,
		Location:     loc,
	}), nil
}

package app

import (
	"fmt"
	"net"

	"tsubasa/config"
	loginui "tsubasa/login-ui"
	"tsubasa/provider/otp"
	"tsubasa/provider/passkey"
)

// wirePasskeys builds the passkeys feature of the login UI from config:
// the relying party (passkeys.rp_id, rp_display_name and origins, which
// follow the issuer unless set) and the one-time password that adding a
// passkey takes (passkeys.registration_requires: an SMS code, or a code by
// any channel). It must come after wireOTP in features.
//
// Browsers refuse passkeys for an IP address, so with an issuer such as
// http://127.0.0.1:8080 and no passkeys.rp_id the feature is off, with a
// warning, rather than failing start-up.
func (s *server) wirePasskeys() (loginui.Feature, error) {
	cfg := s.deps.Config
	if net.ParseIP(cfg.PasskeyRPID()) != nil {
		s.deps.Log.Warn("passkeys are off: the issuer's host is an IP address, for which browsers refuse passkeys; use a host name (localhost in development) or set passkeys.rp_id",
			"rp_id", cfg.PasskeyRPID())
		return nil, nil
	}
	svc, err := passkey.New(s.deps.Store, passkey.Options{
		RPID:          cfg.PasskeyRPID(),
		RPDisplayName: cfg.PasskeyRPDisplayName(),
		Origins:       cfg.PasskeyOrigins(),
		Apps:          passkeyApps(cfg.Passkeys.Apps),
		// The state lives in the server-side session anyway; sealing it
		// keeps the challenge unreadable in the database too.
		StateKey: deriveKey(s.deps.HMACKey, "passkey-ceremony-state"),
		Logger:   s.deps.Log,
	})
	if err != nil {
		return nil, err
	}
	if s.wellKnown, err = svc.WellKnown(); err != nil {
		return nil, fmt.Errorf("passkeys.origins: %w", err)
	}
	loc, err := cfg.Alerts.Location()
	if err != nil {
		return nil, fmt.Errorf("alerts.time_zone: %w", err)
	}
	channels := []string{otp.ChannelSMS}
	if cfg.Passkeys.RegistrationRequires == config.PasskeyRegistrationAnyOTP {
		channels = append(channels, otp.ChannelEmail)
	}
	return loginui.Passkeys(loginui.PasskeyOptions{
		Service:              svc,
		RegistrationChannels: channels,
		Location:             loc,
		ZoneLabel:            cfg.Alerts.ZoneLabel,
		OfferAfterLogin:      cfg.Passkeys.OfferAfterLogin,
		ConditionalCreate:    cfg.Passkeys.ConditionalCreate,
	}), nil
}

// passkeyApps is passkeys.apps for the passkey service.
func passkeyApps(c config.PasskeyAppsConfig) passkey.Apps {
	apps := passkey.Apps{IOS: c.IOS}
	for _, a := range c.Android {
		apps.Android = append(apps.Android, passkey.AndroidApp{Package: a.Package, Fingerprints: a.SHA256CertFingerprints})
	}
	return apps
}

package app

import (
	"log/slog"
	"os"

	loginui "tsubasa/login-ui"
	"tsubasa/provider/audit"
)

// wireDevice builds the login UI's device pages (/device: the user codes
// of the device grant, RFC 8628). The provider reads the user code (its
// HMAC key stays there); the limits come from config device.*.
func (s *server) wireDevice() (loginui.Feature, error) {
	cfg := s.deps.Config
	var siem *slog.Logger
	if cfg.Log.AuditJSON {
		siem = newSIEMLogger(os.Stderr)
	}
	return loginui.Device(loginui.DeviceOptions{
		Store:                s.deps.Store,
		UserCode:             s.provider.DeviceUserCode,
		RequestTTL:           cfg.Tokens.AuthRequestTTL,
		MaxEntriesPerAddress: cfg.Device.MaxEntriesPerAddress,
		MaxEntriesGlobal:     cfg.Device.MaxEntriesGlobal,
		EntryWindow:          cfg.Device.EntryWindow,
		MaxEntriesPerCode:    cfg.Device.MaxEntriesPerCode,
		IPv6Prefix:           cfg.Limits.IPv6Prefix,
		Audit:                audit.New(s.deps.Store, siem),
	}), nil
}

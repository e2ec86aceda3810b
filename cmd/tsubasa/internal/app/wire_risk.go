package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"tsubasa/config"
	loginui "tsubasa/login-ui"
	"tsubasa/provider/audit"
	"tsubasa/provider/geoip"
	"tsubasa/provider/risk"
	"tsubasa/storage"
)

// wireRisk builds the risk feature of the login UI from config: device
// recognition on every login, login alerts through the durable outbox
// (alerts.enabled), the member's history and devices pages, and the audit
// logger, which writes every event it records as a JSON line on stderr too
// when log.audit_json is set (for a SIEM).
func (s *server) wireRisk() (loginui.Feature, error) {
	cfg := s.deps.Config
	loc, err := cfg.Alerts.Location()
	if err != nil {
		return nil, fmt.Errorf("alerts.time_zone: %w", err)
	}
	auditLog := audit.New(s.deps.Store, siemLogger(cfg))
	// The database lives as long as the process (it is memory-mapped and
	// let go of when the reader is collected); nil without geoip.city_db.
	places, err := geoip.Open(geoip.Options{Path: cfg.GeoIP.CityDB, Languages: cfg.UI.Languages,
		CheckEvery: cfg.GeoIP.CheckEvery, Logger: s.deps.Log})
	if err != nil {
		return nil, fmt.Errorf("geoip.city_db: %w", err)
	}
	engine := risk.New(s.deps.Store, s.msg.renderer, risk.Options{
		HMACKey:       deriveKey(s.deps.HMACKey, "device-cookie"),
		Brand:         cfg.Brand.Name,
		Location:      loc,
		ZoneLabel:     cfg.Alerts.ZoneLabel,
		BaseURL:       cfg.Issuer,
		AlertsEnabled: cfg.Alerts.Enabled,
		Audit:         auditLog,
		Kick:          s.msg.worker.Kick,
		Locate:        places.Locate,
		Logger:        s.deps.Log,
	})
	return loginui.Risk(loginui.RiskOptions{
		Engine:    engine,
		Store:     s.deps.Store,
		Audit:     auditLog,
		Secure:    strings.HasPrefix(cfg.Issuer, "https://"),
		Location:  loc,
		ZoneLabel: cfg.Alerts.ZoneLabel,
	}), nil
}

// siemLogger is the SIEM output of log.audit_json, or nil when it is off.
func siemLogger(cfg config.Config) *slog.Logger {
	if !cfg.Log.AuditJSON {
		return nil
	}
	return newSIEMLogger(os.Stderr)
}

// siemEmit is the member service's hook for the SIEM (the service stores
// its events itself), or nil when log.audit_json is off.
func siemEmit(cfg config.Config) func(ctx context.Context, e storage.Event) {
	siem := siemLogger(cfg)
	if siem == nil {
		return nil
	}
	return audit.New(nil, siem).Emit
}

// newSIEMLogger writes audit events as JSON lines (message "audit"), each
// with the request_id of the request that caused it.
func newSIEMLogger(w io.Writer) *slog.Logger {
	return slog.New(requestIDHandler{slog.NewJSONHandler(w, nil)})
}

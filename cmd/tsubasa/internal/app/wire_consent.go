package app

import (
	"context"
	"log/slog"
	"os"

	loginui "tsubasa/login-ui"
	"tsubasa/provider/audit"
)

// wireConsent builds the consent feature of the login UI: the consent page
// for third-party clients and the member's linked-apps page. It is always
// on, since without it third-party clients would get no consent page.
func (s *server) wireConsent() (loginui.Feature, error) {
	loc, err := s.deps.Config.Alerts.Location()
	if err != nil {
		return nil, err
	}
	var siem *slog.Logger
	if s.deps.Config.Log.AuditJSON {
		siem = newSIEMLogger(os.Stderr)
	}
	p := s.provider
	return loginui.Consent(loginui.ConsentOptions{
		Client: func(ctx context.Context, id string) (loginui.ConsentClient, error) {
			c, err := p.ClientInfo(ctx, id)
			if err != nil {
				return loginui.ConsentClient{}, err
			}
			return loginui.ConsentClient{
				ID: c.ID, Name: c.Name, ThirdParty: c.ThirdParty,
				LogoURI: c.LogoURI, PolicyURI: c.PolicyURI, Scopes: c.Scopes,
			}, nil
		},
		Revoke:   p.RevokeClientGrants,
		Store:    s.deps.Store,
		Audit:    audit.New(s.deps.Store, siem),
		Location: loc,
	}), nil
}

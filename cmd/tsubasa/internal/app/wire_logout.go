package app

import (
	"net/http"

	loginui "tsubasa/login-ui"
	"tsubasa/provider"
)

// logoutPages carries RP-initiated logout from the provider, which
// validates /end_session, to the login UI, which owns the browser session,
// the question to the member and the redirect. The UI is built after the
// provider (it takes the provider's answer functions), so ui is set once
// both exist, before the server serves.
type logoutPages struct{ ui *loginui.UI }

func (l *logoutPages) endSession(w http.ResponseWriter, r *http.Request, req provider.LogoutRequest) {
	l.ui.EndSession(w, r, loginui.Logout{
		ClientID: req.ClientID, RedirectURI: req.RedirectURI, SessionID: req.SessionID, UILocales: req.UILocales,
	})
}

func (l *logoutPages) refused(w http.ResponseWriter, r *http.Request, ref provider.LogoutRefusal) {
	l.ui.LogoutRefused(w, r, logoutReason(ref.Reason), ref.Status, ref.UILocales)
}

// logoutReason maps the provider's refusal reasons to the page's.
func logoutReason(r provider.LogoutReason) loginui.LogoutReason {
	switch r {
	case provider.LogoutUnknownClient:
		return loginui.LogoutUnknownClient
	case provider.LogoutBadHint:
		return loginui.LogoutBadHint
	case provider.LogoutClientMismatch:
		return loginui.LogoutClientMismatch
	case provider.LogoutBadRedirect:
		return loginui.LogoutBadRedirect
	case provider.LogoutRedirectWithoutClient:
		return loginui.LogoutRedirectWithoutClient
	case provider.LogoutUnavailable:
		return loginui.LogoutUnavailable
	default:
		return loginui.LogoutMalformed
	}
}

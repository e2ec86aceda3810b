package loginui

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// linkedApp is one entry of the linked-apps page.
type linkedApp struct {
	ClientID  string
	Name      string
	LogoURI   string
	PolicyURI string
	Since     string // date of the first consent, in the page's language
	Scopes    []scopeView
}

type appsPage struct {
	page
	Apps   []linkedApp
	Notice string // catalog key of a success message
}

// showApps lists the apps the member has linked, newest first, with what
// each may see and since when.
func (f *consentFeature) showApps(w http.ResponseWriter, r *http.Request) {
	u := f.u
	ctx := r.Context()
	_, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	consents, err := f.Store.ListConsents(ctx, m.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	slices.SortFunc(consents, func(a, b storage.Consent) int { return b.CreatedAt.Compare(a.CreatedAt) })
	p := appsPage{page: u.newPage(r, u.memberLang(r, m), "account.apps.title"), Notice: noticeKey(r)}
	for _, c := range consents {
		info, err := f.Client(ctx, c.ClientID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			// The operator removed the app (and its tokens); the member
			// may still clear the consent.
			info = ConsentClient{ID: c.ClientID, Name: c.ClientID}
		case err != nil:
			u.serverError(w, r, err)
			return
		}
		info = safeClient(info)
		p.Apps = append(p.Apps, linkedApp{
			ClientID:  c.ClientID,
			Name:      info.Name,
			LogoURI:   info.LogoURI,
			PolicyURI: info.PolicyURI,
			Since:     p.cat.formatTime(p.Lang, c.CreatedAt, f.Location, true),
			Scopes:    scopeViews(p.page, c.Scopes, nil),
		})
	}
	u.render(w, r, http.StatusOK, "account_apps", p)
}

// unlink forgets the member's consent to an app, revokes every refresh and
// access token the app holds for the member, and records app.unlinked. The
// next login to the app asks for consent again (and is a new link).
func (f *consentFeature) unlink(w http.ResponseWriter, r *http.Request) {
	u := f.u
	ctx := r.Context()
	_, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	clientID := r.PostFormValue("client_id")
	c, err := f.Store.ConsentByID(ctx, m.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) || clientID == "" {
		// Already unlinked (a second click, another tab): nothing to do.
		http.Redirect(w, r, appsPath, http.StatusSeeOther)
		return
	}
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	// Consent first: from here no new login skips the consent page, and
	// no token minted before this point survives the revocation below.
	if err := f.Store.DeleteConsent(ctx, m.ID, clientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		u.serverError(w, r, err)
		return
	}
	n, err := f.Revoke(ctx, m.ID, clientID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	name := clientID
	if info, err := f.Client(ctx, clientID); err == nil && info.Name != "" {
		name = info.Name
	}
	ev := storage.Event{
		Type: audit.EventAppUnlinked, MemberID: m.ID, ClientID: clientID,
		IP: clientIP(r), UserAgent: boundedUA(r.UserAgent()), Success: true,
		Detail: map[string]string{
			"app":     name,
			"scopes":  strings.Join(c.Scopes, " "),
			"revoked": strconv.Itoa(n),
		},
	}
	if err := f.Audit.Record(ctx, ev); err != nil {
		// The app is unlinked already: say so, and leave the miss in the log.
		u.log.ErrorContext(ctx, "audit event not written", "type", ev.Type, "member_id", m.ID, "client_id", clientID, "err", err)
	}
	http.Redirect(w, r, appsPath+"?done=unlinked", http.StatusSeeOther)
}

// boundedUA bounds the User-Agent kept in an audit event.
func boundedUA(ua string) string {
	const maxUA = 512
	if len(ua) <= maxUA {
		return ua
	}
	return strings.ToValidUTF8(ua[:maxUA], "")
}

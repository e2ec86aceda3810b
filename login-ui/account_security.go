package loginui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/audit"
	"tsubasa/provider/risk"
	"tsubasa/storage"
)

// The member's security pages (risk feature):
//
//	GET  /account/history                 recent logins, successful or not  (step-up)
//	GET  /account/devices                 known devices and their sessions   (step-up)
//	POST /account/devices/{id}/signout    sign out one device and forget it  (login)
//	POST /account/signout-all             sign out everywhere                (login)
//	GET  /account/not-me                  "this wasn't me": confirm          (login)
//	POST /account/not-me                  sign out everywhere, forget every device,
//	                                      force a new password at the next login
//
// Viewing shows member information, so it takes a step-up when one-time
// passwords are enabled. The actions only take sessions away; a plain login
// is enough for them, and a member must not be kept from locking an
// intruder out because a code takes time to arrive.
//
// /account/not-me is linked from alert mail and may be opened logged out.
// It then asks for a normal login first, like every account page, rather
// than acting on the link alone: a link in a mail is no proof of who clicks
// it, and an action that signs the member out everywhere and forces a new
// password must not be something anyone holding a forwarded mail can do.
// A member who can no longer log in at all (the intruder changed the
// password) needs support, whose address the error pages show.

type historyPage struct {
	page
	Zone string
	Rows []historyRow
	// Places: some row has a place, so the page says how rough it is.
	Places bool
}

type historyRow struct {
	When, Device, Browser, IP, Method string
	OK                                bool
	Place                             string // where IP was at the time (GeoIP), "" when unknown
}

type devicesPage struct {
	page
	Zone    string
	Notice  string
	Devices []deviceRow
	Others  int // active sessions attributed to no known device
	Places  bool
}

type deviceRow struct {
	ID, Name, Browser, FirstSeen, LastSeen, LastIP string
	Sessions                                       int
	Current                                        bool
	Place                                          string // where LastIP was at the last login
}

// when formats t for lang in the alerts' zone.
func (f *riskFeature) when(lang string, t time.Time) string {
	return f.cat.formatTime(lang, t, f.Location, false)
}

func (u *UI) showHistory(w http.ResponseWriter, r *http.Request) {
	_, m, ok := u.requireStepUp(w, r)
	if !ok {
		return
	}
	f := u.risk
	// Other events sit between logins; read enough to fill the page.
	evs, err := f.Audit.List(r.Context(), m.ID, 10*f.HistoryLimit)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	p := historyPage{page: u.newPage(r, u.memberLang(r, m), "security.history.title"), Zone: f.ZoneLabel}
	for _, e := range evs {
		if e.Type != audit.EventLoginSucceeded && e.Type != audit.EventLoginFailed {
			continue
		}
		d := risk.DescribeDevice(e.UserAgent)
		p.Rows = append(p.Rows, historyRow{
			When: f.when(p.Lang, e.Time), Device: p.deviceName(d), Browser: p.browserName(d),
			IP: e.IP, Method: p.methodName(e.Method), OK: e.Success, Place: p.placeName(e.Place),
		})
		p.Places = p.Places || p.Rows[len(p.Rows)-1].Place != ""
		if len(p.Rows) == f.HistoryLimit {
			break
		}
	}
	u.render(w, r, http.StatusOK, "account_history", p)
}

func (u *UI) showDevices(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.requireStepUp(w, r)
	if !ok {
		return
	}
	ctx, f := r.Context(), u.risk
	devs, err := f.Store.ListDevices(ctx, m.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	active, err := u.activeSessions(ctx, m.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	p := devicesPage{page: u.newPage(r, u.memberLang(r, m), "security.devices.title"), Zone: f.ZoneLabel, Notice: noticeKey(r)}
	current := value(sess, keyDevice)
	slices.SortFunc(devs, func(a, b storage.Device) int { return b.LastSeenAt.Compare(a.LastSeenAt) })
	known := map[string]bool{}
	for _, d := range devs {
		known[d.ID] = true
		p.Devices = append(p.Devices, deviceRow{
			ID: d.ID, Name: p.deviceName(d), Browser: p.browserName(d),
			FirstSeen: f.when(p.Lang, d.FirstSeenAt), LastSeen: f.when(p.Lang, d.LastSeenAt), LastIP: d.LastIP,
			Sessions: active[d.ID], Current: d.ID == current, Place: p.placeName(d.Place),
		})
		p.Places = p.Places || !d.Place.IsZero()
	}
	for id, n := range active {
		if !known[id] {
			p.Others += n
		}
	}
	// The current device first, then by last use.
	slices.SortStableFunc(p.Devices, func(a, b deviceRow) int { return cmp.Compare(boolRank(a.Current), boolRank(b.Current)) })
	u.render(w, r, http.StatusOK, "account_devices", p)
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// activeSessions counts the member's live sessions by device id.
func (u *UI) activeSessions(ctx context.Context, memberID string) (map[string]int, error) {
	all, err := u.store.ListSessions(ctx, storage.SessionFilter{MemberID: memberID})
	if err != nil {
		return nil, err
	}
	now := u.now()
	out := map[string]int{}
	for _, s := range all {
		if s.Expired(now) || (u.opts.IdleTTL > 0 && now.Sub(s.LastSeenAt) > u.opts.IdleTTL) {
			continue
		}
		out[s.DeviceID]++
	}
	return out, nil
}

// signOutDevice ends every session of one device, revokes the tokens that
// descend from them, and forgets the device, so that its next login counts
// as a new environment and sends an alert.
func (u *UI) signOutDevice(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	ctx, f, id := r.Context(), u.risk, r.PathValue("id")
	sessions, err := u.store.ListSessions(ctx, storage.SessionFilter{MemberID: m.ID, DeviceID: id})
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	_, err = f.Store.DeviceByID(ctx, m.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound) && len(sessions) == 0:
		u.renderError(w, r, http.StatusNotFound, "security.error.device_unknown")
		return
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		u.serverError(w, r, err)
		return
	}
	ended, revoked, err := u.revokeSessions(ctx, storage.SessionFilter{MemberID: m.ID, DeviceID: id}, sessions)
	if err == nil {
		if err = f.Store.DeleteDevice(ctx, m.ID, id); errors.Is(err, storage.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	u.recordRevoked(r, m, "device", id, ended, revoked)
	if id == value(sess, keyDevice) {
		u.endBrowserSession(w, r, sess, LogoutURL)
		return
	}
	http.Redirect(w, r, "/account/devices?done=device_signed_out", http.StatusSeeOther)
}

// signOutAll ends every session of the member, this one included, and
// revokes every token issued to the member.
func (u *UI) signOutAll(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	ended, revoked, err := u.revokeAll(r.Context(), m.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	u.recordRevoked(r, m, "all", "", ended, revoked)
	u.endBrowserSession(w, r, sess, LogoutURL)
}

// revokeSessions deletes the sessions f selects, then the tokens of each
// session listed (tokens carry the SessionID they descend from).
func (u *UI) revokeSessions(ctx context.Context, f storage.SessionFilter, listed []storage.Session) (ended, revoked int, err error) {
	u.opts.Logouts.Ending(ctx, listed...) // before they end: a crash loses none
	if ended, err = u.store.DeleteSessions(ctx, f); err != nil {
		return 0, 0, err
	}
	for _, s := range listed {
		n, err := u.risk.Store.DeleteTokens(ctx, storage.TokenFilter{MemberID: f.MemberID, SessionID: s.ID})
		if err != nil {
			return ended, revoked, err
		}
		revoked += n
	}
	return ended, revoked, nil
}

// revokeAll deletes every session and every token of the member.
func (u *UI) revokeAll(ctx context.Context, memberID string) (ended, revoked int, err error) {
	u.opts.Logouts.EndingAll(ctx, storage.SessionFilter{MemberID: memberID})
	if ended, err = u.store.DeleteSessions(ctx, storage.SessionFilter{MemberID: memberID}); err != nil {
		return 0, 0, err
	}
	if revoked, err = u.risk.Store.DeleteTokens(ctx, storage.TokenFilter{MemberID: memberID}); err != nil {
		return ended, 0, err
	}
	return ended, revoked, nil
}

// endBrowserSession drops this browser's session cookie (its record is
// already gone) and sends it to next.
func (u *UI) endBrowserSession(w http.ResponseWriter, r *http.Request, sess *sessions.Session, next string) {
	sess.Options.MaxAge = -1
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.log.ErrorContext(r.Context(), "drop session cookie", "err", err)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// recordRevoked writes sessions.revoked. The revocation already happened,
// so a failure to record it is logged rather than shown.
func (u *UI) recordRevoked(r *http.Request, m storage.Member, scope, deviceID string, ended, revoked int) {
	u.record(r, storage.Event{
		Type: audit.EventSessionsRevoked, MemberID: m.ID, DeviceID: deviceID, Success: true,
		Detail: map[string]string{"scope": scope, "by": "member",
			"sessions": strconv.Itoa(ended), "tokens": strconv.Itoa(revoked)},
	})
}

func (u *UI) record(r *http.Request, e storage.Event) {
	e.IP, e.UserAgent = clientIP(r), truncateUA(r.UserAgent())
	if err := u.risk.Audit.Record(r.Context(), e); err != nil {
		u.log.ErrorContext(r.Context(), "audit event not written", "type", e.Type, "member_id", e.MemberID, "err", err)
	}
}

func truncateUA(ua string) string {
	const limit = 512
	if len(ua) <= limit {
		return ua
	}
	return strings.ToValidUTF8(ua[:limit], "")
}

// methodName is an amr-style method ("pwd+otp") for people.
func (p page) methodName(method string) string {
	if method == "" {
		return "-"
	}
	parts := strings.Split(method, "+")
	for i, m := range parts {
		if t := p.T("security.method." + m); t != "security.method."+m {
			parts[i] = t
		}
	}
	return strings.Join(parts, " + ")
}

// deviceName is a device for people: model or system, version, kind.
func (p page) deviceName(d storage.Device) string {
	var parts []string
	if d.Model != "" {
		parts = append(parts, d.Model)
	}
	if os := strings.TrimSpace(d.OS + " " + d.OSVersion); os != "" {
		parts = append(parts, os)
	}
	if len(parts) == 0 {
		parts = append(parts, p.T("security.device.unknown"))
	}
	typ := d.Type
	if typ == "" {
		typ = "unknown"
	}
	return fmt.Sprintf("%s (%s)", strings.Join(parts, " · "), p.T("security.type."+typ))
}

func (p page) browserName(d storage.Device) string {
	if d.Browser == "" {
		return p.T("security.device.unknown")
	}
	return strings.TrimSpace(d.Browser + " " + d.BrowserVersion)
}

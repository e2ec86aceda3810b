package loginui

import (
	"net/http"

	"tsubasa/provider/audit"
	"tsubasa/storage"
)

type notMePage struct {
	page
	Member storage.Member
}

// showNotMe is the confirmation of "this wasn't me" (see account_security.go
// for why it asks for a login first).
func (u *UI) showNotMe(w http.ResponseWriter, r *http.Request) {
	_, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	u.render(w, r, http.StatusOK, "account_not_me", notMePage{page: u.newPage(r, u.memberLang(r, m), "security.not_me.title"), Member: m})
}

// postNotMe locks an intruder out: the member must set a new password at
// the next login (set first, so that nothing below can leave a revoked
// account whose old password still works), every session and token ends,
// and every known device is forgotten, so the next login from any of them,
// the intruder's included, sends an alert. The browser is then sent through
// a fresh login, which asks for the new password, back to the account page.
func (u *UI) postNotMe(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	err := u.store.UpdateMember(ctx, m.ID, func(old storage.Member) (storage.Member, error) {
		old.MustChangePassword = true
		return old, nil
	})
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	u.record(r, storage.Event{Type: audit.EventNotMeReported, MemberID: m.ID, DeviceID: value(sess, keyDevice), Success: true})
	ended, revoked, err := u.revokeAll(ctx, m.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	u.recordRevoked(r, m, "all", "", ended, revoked)
	devs, err := u.risk.Store.ListDevices(ctx, m.ID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	for _, d := range devs {
		if err := u.risk.Store.DeleteDevice(ctx, m.ID, d.ID); err != nil {
			u.log.ErrorContext(ctx, "forget device", "member_id", m.ID, "err", err)
		}
	}
	u.endBrowserSession(w, r, sess, "/account?done=not_me")
}

package loginui

import (
	"net/http"

	"tsubasa/provider/member"
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

// postNotMe locks an intruder out (member.Service.ReportNotMe): the member
// must set a new password at the next login, which owes a one-time
// password (or a passkey) whatever otp.on_login says, since the intruder
// may know the current password; every session and token ends, this
// browser's included, in the same commit. Then every known device is
// forgotten, so the next login from any of them, the intruder's included,
// sends an alert. The browser is sent through a fresh login, which asks
// for the code and the new password, back to the account page.
func (u *UI) postNotMe(w http.ResponseWriter, r *http.Request) {
	sess, m, ok := u.requireMember(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if _, err := u.opts.Members.ReportNotMe(ctx, m.ID, changeContext(r, sess, member.ChangeNotMe)); err != nil {
		u.serverError(w, r, err)
		return
	}
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

package loginui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/member"
)

// Credential changes on the hosted pages.
//
// Every page that changes a credential (the password at /account/password,
// /login/reset/password and at login, a passkey removed, a contact or the
// one-time-password destination changed, "this wasn't me") goes through
// the member domain's one operation (member.Service.CredentialChanged and
// the setters built on it): every session of the member ends and every
// token is revoked, in the commit that makes the change. The browser the
// change was made in then stays logged in under a new session id carrying
// the member's new security stamp when Options.KeepSessionOnCredentialChange
// says so, and is signed out otherwise; the page it lands on says which
// (?signed_out=others or all).
//
// A login that must set a password (the legacy PIN's migration, a forced
// change after "this wasn't me") checks the new one when the member types
// it and holds its hash in the server-side session; establish stores it
// only once every step before it has passed, second factor included, and
// only if the member's credentials are still the ones the login began
// under. A login that sets a password, or the first one after "this wasn't
// me", owes a second factor whatever otp.on_login says (secondFactorOwed).

const keyStamp = "cred_stamp" // an established session's copy of the member's security stamp

// credentialNotes are what the pages around a credential change say about
// the sessions it ends.
type credentialNotes struct {
	// Effect warns before the change: other devices, or every device, will be signed out.
	Effect string
	// SignedOut confirms it afterwards (from ?signed_out=).
	SignedOut string
}

// credentialEffect is the warning shown before a change.
func (u *UI) credentialEffect() string {
	if u.opts.KeepSessionOnCredentialChange {
		return "credentials.effect.others"
	}
	return "credentials.effect.all"
}

// signedOutKey is the confirmation a redirect after a change asked for,
// limited to the two catalog keys so the URL cannot inject text.
func signedOutKey(r *http.Request) string {
	switch v := r.URL.Query().Get("signed_out"); v {
	case "others", "all":
		return "credentials.signed_out." + v
	}
	return ""
}

// changeContext is a member.Change describing this request.
func changeContext(r *http.Request, sess *sessions.Session, kind string) member.Change {
	c := member.Change{Kind: kind, IP: clientIP(r), UserAgent: truncateUA(r.UserAgent())}
	if sess != nil {
		c.DeviceID = value(sess, keyDevice)
	}
	return c
}

// afterCredentialChange settles this browser after a change made from a
// logged-in page: every session has ended, this one's record included.
// Kept, it gets a new id (nobody else ever saw it) holding the same login
// and the new stamp; otherwise its cookie goes. next is where the page
// sends the browser; the returned URL adds what to confirm there. With
// the browser signed out, next starts a login and comes back to it.
func (u *UI) afterCredentialChange(w http.ResponseWriter, r *http.Request, sess *sessions.Session, ended member.Ended, next string) (string, error) {
	q := url.Values{}
	if u.opts.KeepSessionOnCredentialChange {
		if err := u.sessions.regenerate(r.Context(), sess, value(sess, keyMember)); err != nil {
			return "", err
		}
		sess.Values[keyStamp] = ended.Stamp
		if err := u.sessions.Save(r, w, sess); err != nil {
			return "", err
		}
		q.Set("signed_out", "others")
	} else {
		sess.Options.MaxAge = -1
		if err := u.sessions.Save(r, w, sess); err != nil {
			return "", err
		}
		q.Set("signed_out", "all")
	}
	sep := "?"
	if strings.Contains(next, "?") {
		sep = "&"
	}
	return next + sep + q.Encode(), nil
}

// secondFactorOwed reports whether a login must give a second factor
// whatever otp.on_login says: the first login after "this wasn't me" (the
// intruder may know the password), and a login that sets a password (the
// PIN's migration, a forced change) for a member a code can be sent to,
// since a credential is replaced only after the full authentication. A
// member with nowhere to receive a code migrates from the PIN with the PIN
// alone, as the programme's migration allows; after "this wasn't me" they
// cannot finish on the web without a passkey (the page sends them to the
// membership desk).
func (u *UI) secondFactorOwed(st flowState) bool {
	if st.Member.SecondFactorDue {
		return true
	}
	return st.SetPass && u.otp != nil && len(u.otp.Service.Channels(st.Member)) > 0
}

// secondFactorUnavailable: the login owes a second factor it cannot give
// on the web (nowhere to send a code; a passkey login would have given one
// already). The pages say so at once, rather than after a new password.
func (u *UI) secondFactorUnavailable(st flowState) bool {
	if !st.Member.SecondFactorDue || gaveSecondFactor(st) {
		return false
	}
	return u.otp == nil || len(u.otp.Service.Channels(st.Member)) == 0
}

// gaveSecondFactor: a one-time password, or a passkey (phishing-resistant,
// and above the otp level).
func gaveSecondFactor(st flowState) bool {
	return slices.Contains(st.AMR, acr.AMROTP) || acr.Satisfies(st.ACR, acr.OTP)
}

// settleCredentials runs in establish, once every step before it has
// passed. It refuses a login that owes a second factor it did not give
// (the steps ask for it; nothing may let such a login through), and stores
// the password the login held. That ends every session of the member, so
// it commits before the login's own session is made. It returns the flow
// with the member as stored now.
func (u *UI) settleCredentials(w http.ResponseWriter, r *http.Request, sess *sessions.Session, st flowState) (flowState, bool) {
	ctx := r.Context()
	drop := func(status int, key string) (flowState, bool) {
		clearFlow(sess)
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.serverError(w, r, err)
			return st, false
		}
		u.renderError(w, r, status, key)
		return st, false
	}
	if u.secondFactorOwed(st) && !gaveSecondFactor(st) {
		u.log.WarnContext(ctx, "login refused: a second factor is owed", "member_id", st.MemberID)
		return drop(http.StatusForbidden, "login.error.second_factor_unavailable")
	}
	if !st.SetPass {
		return st, true
	}
	if st.NewHash == "" { // the set-password step would have run
		return drop(http.StatusForbidden, "error.request_foreign")
	}
	c := changeContext(r, sess, member.ChangeAtLogin)
	c.Guard, c.Stamp = true, st.Stamp
	ended, err := u.opts.Members.SetPasswordHash(ctx, st.MemberID, st.NewHash, c)
	switch {
	case errors.Is(err, member.ErrCredentialsChanged):
		return drop(http.StatusConflict, "error.credentials_changed")
	case err != nil:
		u.serverError(w, r, err)
		return st, false
	}
	st.SetPass, st.NewHash = false, ""
	st.Member.SecurityStamp = ended.Stamp
	st.Member.MustChangePassword, st.Member.SecondFactorDue = false, false
	return st, true
}

package loginui

import (
	"context"
	"net/http"
	"slices"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// The login's second step (order 20, after set_password):
//
//	GET  /login/otp?authRequestID=…   send a code to the member's destination, show the entry form
//	POST /login/otp                   check it: amr += otp (+ sms), acr ≥ otp, then advance
//	POST /login/otp/resend            a new code (the same or the other channel); throttled
//	POST /login/otp/cancel            give up: access_denied to the relying party
//
// It is needed when the relying party asks for acr urn:tsubasa:acr:otp
// (also from an SSO session: a step-up, and the login then gets a fresh
// auth_time), when the login owes a second factor (it sets a password, or
// follows "this wasn't me": secondFactorOwed, whatever on_login says), or
// by otp.on_login: always, or new_device when the risk feature sees a new
// environment. A member with nowhere to send a code is never let through
// a request that asks for the otp level: the page explains how to register
// a contact instead; one who owes a second factor is sent to the
// membership desk (or to a passkey), since there is no session to
// register a contact from.

const otpStepPath = "/login/otp"

func (f *otpFeature) step(u *UI) step {
	return step{order: 20, name: "otp", path: otpStepPath, needed: u.otpNeeded}
}

// otpNeeded decides whether a login needs a one-time password.
func (u *UI) otpNeeded(ctx context.Context, r *http.Request, st flowState, req storage.AuthRequest) (bool, error) {
	if slices.Contains(st.AMR, acr.AMROTP) || acr.Satisfies(st.ACR, acr.OTP) {
		return false, nil
	}
	if want := acr.Required(req.ACRValues); want != "" && !acr.Satisfies(st.ACR, want) && acr.Satisfies(acr.OTP, want) {
		return true, nil
	}
	if u.secondFactorOwed(st) {
		return true, nil
	}
	if st.StepUp || len(u.otp.Service.Channels(st.Member)) == 0 {
		return false, nil
	}
	switch u.otp.OnLogin {
	case OTPOnLoginAlways:
		return true, nil
	case OTPOnLoginNewDevice:
		return u.newEnvironment(ctx, r, st.MemberID)
	}
	return false, nil
}

func otpPurpose(st flowState) string {
	if st.StepUp {
		return otp.PurposeStepUp
	}
	return otp.PurposeLogin
}

func (u *UI) loginEntry(r *http.Request, sess *sessions.Session, req storage.AuthRequest, st flowState) otpEntry {
	lead := "otp.login.lead"
	if st.StepUp {
		lead = "otp.login.lead_step_up"
	}
	return otpEntry{
		sess: sess, titleKey: "otp.login.title", leadKey: lead, lang: u.langs.negotiate(r, req.UILocales),
		member: st.Member, purpose: otpPurpose(st), allowed: u.otp.Service.Channels(st.Member),
		action: otpStepPath, resend: otpStepPath + "/resend",
		hidden: []hiddenField{{"authRequestID", req.ID}},
	}
}

// otpFlow loads the request and the login in progress for a step page.
func (u *UI) otpFlow(w http.ResponseWriter, r *http.Request, id string) (*sessions.Session, storage.AuthRequest, flowState, bool) {
	sess := u.session(r)
	req, ok := u.request(w, r, sess, id)
	if !ok {
		return nil, req, flowState{}, false
	}
	st, ok := u.flowOrError(w, r, sess, req)
	if !ok {
		return nil, req, flowState{}, false
	}
	return sess, req, st, true
}

func (u *UI) showOTPStep(w http.ResponseWriter, r *http.Request) {
	sess, req, st, ok := u.otpFlow(w, r, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	need, err := u.otpNeeded(r.Context(), r, st, req)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	if !need {
		u.advance(w, r, sess, req)
		return
	}
	if len(u.otp.Service.Channels(st.Member)) == 0 {
		switch {
		case slices.Contains(req.Prompt, "none"):
			u.opts.Fail(w, r, req.ID, "interaction_required", "the member must register a contact for one-time passwords")
			return
		case u.secondFactorUnavailable(st):
			u.renderError(w, r, http.StatusForbidden, "login.error.second_factor_unavailable")
			return
		}
	}
	u.showEntry(w, r, u.loginEntry(r, sess, req, st))
}

func (u *UI) resendOTPStep(w http.ResponseWriter, r *http.Request) {
	sess, req, st, ok := u.otpFlow(w, r, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	u.resendEntry(w, r, u.loginEntry(r, sess, req, st))
}

func (u *UI) postOTPStep(w http.ResponseWriter, r *http.Request) {
	sess, req, st, ok := u.otpFlow(w, r, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	rec, ok := u.verifyEntry(w, r, u.loginEntry(r, sess, req, st))
	if !ok {
		return
	}
	delete(sess.Values, chKey(otpPurpose(st)))
	st.AMR = acr.AMR(append(st.AMR, otp.AMR(rec)...)...)
	st.ACR = acr.Higher(st.ACR, acr.OTP)
	u.updateFlow(w, r, sess, req, st)
}

// cancelOTPStep ends the login: the relying party hears access_denied; an
// account page's own login goes back to the account home (or the
// logged-out page when there is no session).
func (u *UI) cancelOTPStep(w http.ResponseWriter, r *http.Request) {
	sess, req, _, ok := u.otpFlow(w, r, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	clearFlow(sess)
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	if req.ClientID == AccountClientID {
		_ = u.store.DeleteAuthRequest(r.Context(), req.ID)
		if _, ok := u.ssoMember(r.Context(), sess); ok {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, LogoutURL, http.StatusSeeOther)
		return
	}
	u.opts.Fail(w, r, req.ID, "access_denied", "the member did not complete the one-time password")
}

package loginui

import (
	"context"
	"net/http"
	"slices"

	"tsubasa/provider/acr"
	"tsubasa/storage"
)

// passkeyRequiredPath is the step shown when a relying party asks for the
// phishing-resistant level (acr_values=phr) and the member has proved less:
// the login continues only with a passkey, or is cancelled (access_denied).
// It is never completed at a lower level behind the relying party's back.
const passkeyRequiredPath = "/login/passkey/required"

type passkeyRequiredPage struct {
	page
	AuthRequestID string
	HasPasskeys   bool
	// PasskeyPrimary: here the passkey is the page's one primary action
	// (on the login page the password form is; page.PasskeyPrimary).
	PasskeyPrimary bool
}

func (f *passkeyFeature) requiredStep() step {
	return step{order: 30, name: "passkey", path: passkeyRequiredPath,
		needed: func(_ context.Context, _ *http.Request, st flowState, req storage.AuthRequest) (bool, error) {
			return acr.Required(req.ACRValues) == acr.PhishingResistant && !acr.Satisfies(st.ACR, acr.PhishingResistant), nil
		}}
}

func (f *passkeyFeature) showRequired(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	st, ok := u.flowOrError(w, r, sess, req)
	if !ok {
		return
	}
	keys, err := f.Service.List(r.Context(), st.MemberID)
	if err != nil {
		u.serverError(w, r, err)
		return
	}
	p := passkeyRequiredPage{
		page:           u.newPage(r, u.langs.negotiate(r, req.UILocales), "passkey.required.title"),
		AuthRequestID:  req.ID,
		HasPasskeys:    len(keys) > 0,
		PasskeyPrimary: true,
	}
	u.render(w, r, http.StatusOK, "passkey_required", p)
}

// cancelRequired gives up: the relying party learns the member declined.
func (f *passkeyFeature) cancelRequired(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	clearFlow(sess)
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	if req.ClientID == AccountClientID || slices.Contains(req.Prompt, "none") {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	u.opts.Fail(w, r, req.ID, "access_denied", "the member did not log in with a passkey, which the client requires")
}

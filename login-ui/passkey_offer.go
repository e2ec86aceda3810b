package loginui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/acr"
	"tsubasa/provider/otp"
	"tsubasa/provider/passkey"
	"tsubasa/storage"
)

// The passkey offer after a password login (PasskeyOptions.OfferAfterLogin),
// an after-step (nudge.go) between the login and the app that asked for it:
//
//	GET  /login/passkey/offer?authRequestID=           "create a passkey?": create, or not now
//	POST /login/passkey/offer                          not now: remembered for this browser, on to the app
//	POST /login/passkey/offer/begin?authRequestID=     JSON: creation options, behind the SMS code
//	POST /login/passkey/offer/finish?authRequestID=    JSON: the credential in, {"redirect"} out
//	GET  /login/passkey/offer/continue?authRequestID=  on to the app after the passkey
//
// It is shown when the member just logged in for this request with a
// password (or PIN), the login page's script reported that the browser can
// create a passkey with a platform authenticator (keyOfferCaps; without
// script nothing is reported and the offer never shows, so it is never a
// dead end), the browser is not an app's in-app browser (passkey.InAppBrowser,
// which the script checks too), the member can receive the code a passkey
// takes (or this login already passed it), and this browser's device record
// (the risk feature's) shows no offer and no "not now" in the last 30 days.
// The offer's times live in storage (the device record), so every replica
// sees them.
//
// Creating the passkey follows the programme's rule: a fresh one-time
// password by an allowed channel (SMS), through the same gate as the
// account pages, which comes back here; a code this very login passed
// counts, and with PasskeyOptions.ConditionalCreate the script first asks
// the browser to create the passkey without a prompt (mediation
// "conditional", after the password manager filled the password), which
// only such a login allows. The authorization request stays bound to this
// browser throughout, and every route checks that binding: another
// browser's request is refused, as on every login page.

const (
	offerPath = "/login/passkey/offer"
	// OfferEvery is how long a browser is not offered a passkey again
	// after an offer or a "not now".
	OfferEvery = 30 * 24 * time.Hour
	// keyOfferCaps is "<request id> <capability>…" from the login form.
	keyOfferCaps = "pk_offer_caps"
	// keyOfferReg is the offer's ceremony state, by request.
	keyOfferReg = "pk_offer_reg."
	// keyLoginCodeSpent is the auth time of the login whose own code
	// already added a passkey: one passkey per code, as at the gate.
	keyLoginCodeSpent = "pk_login_code_spent"
)

// Capabilities the login page's script reports (field passkey_capable).
const (
	capPlatform    = "platform"    // a user-verifying platform authenticator
	capConditional = "conditional" // conditional create
)

type passkeyOfferPage struct {
	page
	AuthRequestID string
	ClientName    string
	// GateURL is the one-time-password gate to pass first ("" when passed).
	GateURL     string
	Conditional bool
}

// registerOffer adds the offer to the UI; register calls it.
func (f *passkeyFeature) registerOffer(u *UI) {
	u.pageNames = append(u.pageNames, "passkey_offer")
	u.onForm = append(u.onForm, f.rememberCapabilities)
	u.addStep(true, step{order: 60, name: "passkey_offer", path: offerPath, needed: f.offerNeeded})
	u.handle("GET "+offerPath, f.showOffer)
	u.handle("POST "+offerPath, f.declineOffer)
	u.handle("POST "+offerPath+"/begin", f.beginOffer)
	u.handle("POST "+offerPath+"/finish", f.finishOffer)
	u.handle("GET "+offerPath+"/continue", f.continueOffer)
}

// rememberCapabilities keeps what the login page's script said the
// browser can do, for this request only.
func (f *passkeyFeature) rememberCapabilities(r *http.Request, sess *sessions.Session, req storage.AuthRequest) {
	var caps []string
	for c := range strings.FieldsSeq(r.PostFormValue("passkey_capable")) {
		if (c == capPlatform || c == capConditional) && !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	delete(sess.Values, keyOfferCaps)
	if len(caps) > 0 {
		sess.Values[keyOfferCaps] = req.ID + " " + strings.Join(caps, " ")
	}
}

// capable reports whether the login form of req reported capability c.
func capable(sess *sessions.Session, req storage.AuthRequest, c string) bool {
	f := strings.Fields(value(sess, keyOfferCaps))
	return len(f) > 1 && f[0] == req.ID && slices.Contains(f[1:], c)
}

// offerNeeded is the offer step's test (see the top of the file).
func (f *passkeyFeature) offerNeeded(ctx context.Context, r *http.Request, st flowState, req storage.AuthRequest) (bool, error) {
	sess := st.sess
	if !f.OfferAfterLogin || f.u.risk == nil || !mayNudge(sess, req) || !capable(sess, req, capPlatform) ||
		passkey.InAppBrowser(r.UserAgent()) || !passwordLogin(st.AMR) || !f.canRegister(sess, st.Member) {
		return false, nil
	}
	id := value(sess, keyDevice)
	if id == "" {
		return false, nil // no device to remember the answer by
	}
	// A device this login just recorded may not be readable yet (the
	// request holds its write until it answers: storage.Units): it is new,
	// so it has had no offer.
	dev, err := f.u.risk.Store.DeviceByID(ctx, st.MemberID, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	now := f.u.now()
	return now.Sub(dev.PasskeyOfferedAt) >= OfferEvery && now.Sub(dev.PasskeyDeclinedAt) >= OfferEvery, nil
}

// passwordLogin reports whether the login was by password or PIN, not by
// a passkey.
func passwordLogin(amr []string) bool {
	return (slices.Contains(amr, acr.AMRPassword) || slices.Contains(amr, acr.AMRPIN)) &&
		!slices.Contains(amr, acr.AMRHardware) && !slices.Contains(amr, acr.AMRSoftware)
}

// canRegister reports whether m could pass the code a passkey takes: by a
// channel open to them, or by this login's own code.
func (f *passkeyFeature) canRegister(sess *sessions.Session, m storage.Member) bool {
	open := f.u.otp.Service.Channels(m)
	return slices.ContainsFunc(f.RegistrationChannels, func(c string) bool { return slices.Contains(open, c) }) ||
		f.loginCodeCounts(sess)
}

// loginCodeCounts reports whether the session's login itself passed a
// one-time password by a channel that may add a passkey, recently enough
// to count as the gate: the SMS code of a new device's login, say.
func (f *passkeyFeature) loginCodeCounts(sess *sessions.Session) bool {
	amr := strings.Fields(value(sess, keyAMR))
	sms := slices.Contains(amr, acr.AMRSMS)
	email := slices.Contains(amr, acr.AMROTP) && !sms
	fresh := f.u.now().Sub(authTime(sess)) <= f.u.opts.StepUpMaxAge
	unspent := value(sess, keyLoginCodeSpent) != value(sess, keyAuthTime)
	return fresh && unspent && (sms && slices.Contains(f.RegistrationChannels, otp.ChannelSMS) ||
		email && slices.Contains(f.RegistrationChannels, otp.ChannelEmail))
}

// offerGate reports whether m may create a passkey now in this session.
func (f *passkeyFeature) offerGate(sess *sessions.Session, m storage.Member) bool {
	return f.u.gatePassed(sess, m, otp.PurposePasskey, f.RegistrationChannels) || f.loginCodeCounts(sess)
}

// gateURL is the one-time-password gate that comes back to the offer.
func (f *passkeyFeature) gateURL(req storage.AuthRequest) string {
	q := url.Values{"purpose": {otp.PurposePasskey}, "return": {offerPath + "?authRequestID=" + url.QueryEscape(req.ID)}}
	for _, c := range f.RegistrationChannels {
		q.Add("via", c)
	}
	return gatePath + "?" + q.Encode()
}

// offerMember is the member an offer page is for: the session's, logged in
// for this very request. Anything else goes back to the login page, which
// decides what the request needs.
func (f *passkeyFeature) offerMember(w http.ResponseWriter, r *http.Request, sess *sessions.Session, req storage.AuthRequest) (storage.Member, bool) {
	m, ok := f.u.ssoMember(r.Context(), sess)
	if !ok || !freshLogin(sess, req) {
		http.Redirect(w, r, LoginURL(req.ID), http.StatusSeeOther)
		return storage.Member{}, false
	}
	return m, true
}

// markDevice stores when this browser was offered a passkey or declined
// one. A browser without a device record has nothing to update.
func (f *passkeyFeature) markDevice(ctx context.Context, sess *sessions.Session, memberID string, set func(*storage.Device, time.Time)) error {
	if f.u.risk == nil || value(sess, keyDevice) == "" {
		return nil
	}
	now := f.u.now().UTC()
	err := f.u.risk.Store.UpdateDevice(ctx, memberID, value(sess, keyDevice), func(d storage.Device) (storage.Device, error) {
		set(&d, now)
		return d, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

func (f *passkeyFeature) showOffer(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	m, ok := f.offerMember(w, r, sess, req)
	if !ok {
		return
	}
	if value(sess, keyNudged) != req.ID {
		// First showing for this login: count it, and start the 30 days.
		if err := f.markDevice(r.Context(), sess, m.ID, func(d *storage.Device, now time.Time) { d.PasskeyOfferedAt = now }); err != nil {
			u.serverError(w, r, err)
			return
		}
		nudgeShown(sess, req)
		if err := u.sessions.Save(r, w, sess); err != nil {
			u.serverError(w, r, err)
			return
		}
		u.metrics().PasskeyOffer("shown")
	}
	p := passkeyOfferPage{
		page:          u.newPage(r, u.memberLang(r, m), "passkey.offer.title"),
		AuthRequestID: req.ID,
		ClientName:    u.clientName(r.Context(), req),
		Conditional:   f.ConditionalCreate && capable(sess, req, capConditional) && f.loginCodeCounts(sess),
	}
	if !f.offerGate(sess, m) {
		p.GateURL = f.gateURL(req)
	}
	u.render(w, r, http.StatusOK, "passkey_offer", p)
}

// declineOffer is "not now": remembered for this browser, and the login
// goes on to the app.
func (f *passkeyFeature) declineOffer(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.PostFormValue("authRequestID"))
	if !ok {
		return
	}
	m, ok := f.offerMember(w, r, sess, req)
	if !ok {
		return
	}
	if err := f.markDevice(r.Context(), sess, m.ID, func(d *storage.Device, now time.Time) { d.PasskeyDeclinedAt = now }); err != nil {
		u.serverError(w, r, err)
		return
	}
	nudgeShown(sess, req)
	u.metrics().PasskeyOffer("declined")
	u.finish(w, r, sess, req)
}

// continueOffer takes the login on to the app after the passkey.
func (f *passkeyFeature) continueOffer(w http.ResponseWriter, r *http.Request) {
	u := f.u
	sess := u.session(r)
	req, ok := u.request(w, r, sess, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	if _, ok := f.offerMember(w, r, sess, req); ok {
		u.finish(w, r, sess, req)
	}
}

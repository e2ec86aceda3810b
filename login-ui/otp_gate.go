package loginui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/sessions"

	"tsubasa/provider/otp"
	"tsubasa/storage"
)

// The one-time-password gate puts a fresh code in front of a sensitive
// action on the account pages (registering a passkey needs a code by SMS):
//
//	GET  /account/otp?purpose=P&via=C…&return=R   send a code (or show the open one) and the entry form
//	POST /account/otp                             check the code; on success back to R
//	POST /account/otp/resend                      a new code, by the channel chosen
//
// A passed gate is kept in the session per purpose, with the member, the
// channel and the time, and counts for StepUpMaxAge. R is only ever a local
// /account path (localPath), so the gate cannot be turned into an open
// redirect.

// gatePath is the gate's page.
const gatePath = "/account/otp"

// gatePurposes are the purposes a gate may ask for; the login, the contact
// check and the password reset have their own pages.
var gatePurposes = []string{otp.PurposePasskey, otp.PurposeStepUp}

func gateKey(purpose string) string { return "otp_gate." + purpose }

// requireOTP is true when the session holds a code for purpose, verified
// by one of channels (otp.ChannelEmail, otp.ChannelSMS) no longer than
// StepUpMaxAge ago by member m. Otherwise it sends the browser to the gate,
// which sends a code by an allowed channel (or explains how to get one:
// register and verify a mobile number under Contacts; SMS is only for
// residents of the SMS countries) and, once the code is right, comes back
// to this page (a GET of the same /account path), and it returns false.
//
// Call it after requireMember or requireStepUp. A fetch() or other
// non-navigation request gets 401 with {"error":"otp_required",
// "location":URL} instead of a redirect, for scripts to send the page
// there. Without the one-time-password feature it is true.
func (u *UI) requireOTP(w http.ResponseWriter, r *http.Request, m storage.Member, purpose string, channels []string) bool {
	if u.otp == nil {
		return true
	}
	if !slices.Contains(gatePurposes, purpose) {
		u.log.ErrorContext(r.Context(), "otp gate: purpose not allowed", "purpose", purpose)
		u.renderError(w, r, http.StatusInternalServerError, "error.server")
		return false
	}
	if u.gatePassed(u.session(r), m, purpose, channels) {
		return true
	}
	q := url.Values{"purpose": {purpose}, "return": {localPath(r.URL.RequestURI())}}
	for _, c := range channels {
		q.Add("via", c)
	}
	loc := gatePath + "?" + q.Encode()
	if r.Method != http.MethodGet && r.Header.Get("Sec-Fetch-Mode") != "" && r.Header.Get("Sec-Fetch-Mode") != "navigate" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "otp_required", "location": loc})
		return false
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
	return false
}

// gatePassed reads the session's record of a passed gate, without sending
// anyone anywhere (for JSON calls behind a gated page). Like requireOTP it
// is true without the one-time-password feature.
func (u *UI) gatePassed(sess *sessions.Session, m storage.Member, purpose string, channels []string) bool {
	if u.otp == nil {
		return true
	}
	f := strings.Fields(value(sess, gateKey(purpose)))
	if len(f) != 3 || f[0] != m.ID || !slices.Contains(channels, f[1]) {
		return false
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return false
	}
	age := u.now().Unix() - n
	return age >= 0 && age <= int64(u.opts.StepUpMaxAge.Seconds())
}

// gateRequest is the gate's parameters, from the query or the form.
type gateRequest struct {
	purpose string
	via     []string // channels the action accepts
	back    string   // local /account path to return to
}

func parseGate(v url.Values) (gateRequest, bool) {
	g := gateRequest{purpose: v.Get("purpose"), back: gateBack(v.Get("return"))}
	for _, c := range v["via"] {
		if (c == otp.ChannelEmail || c == otp.ChannelSMS) && !slices.Contains(g.via, c) {
			g.via = append(g.via, c)
		}
	}
	return g, slices.Contains(gatePurposes, g.purpose) && len(g.via) > 0
}

// gateBack is where a passed gate returns: a local /account path
// (localPath), or the passkey offer of an authorization request
// (passkey_offer.go), which the member reached from a login; never
// anywhere else.
func gateBack(p string) string {
	u, err := url.Parse(p)
	if err == nil && !u.IsAbs() && u.Host == "" && u.Path == offerPath && len(u.Query()) == 1 && u.Query().Get("authRequestID") != "" {
		return offerPath + "?authRequestID=" + url.QueryEscape(u.Query().Get("authRequestID"))
	}
	return localPath(p)
}

// cancel is where the gate's cancel goes: back to the offer, which is
// still one click from the app, or to the account pages.
func (g gateRequest) cancel() string {
	if strings.HasPrefix(g.back, offerPath+"?") {
		return g.back
	}
	return "/account"
}

// hidden is what every form of the gate page carries.
func (g gateRequest) hidden() []hiddenField {
	h := []hiddenField{{"purpose", g.purpose}, {"return", g.back}}
	for _, c := range g.via {
		h = append(h, hiddenField{"via", c})
	}
	return h
}

// allowed are the channels both open to the member and accepted by the
// action, the member's preferred first.
func (g gateRequest) allowed(open []string) []string {
	return slices.DeleteFunc(slices.Clone(open), func(c string) bool { return !slices.Contains(g.via, c) })
}

func (u *UI) registerGate() {
	u.handle("GET "+gatePath, u.showGate)
	u.handle("POST "+gatePath, u.postGate)
	u.handle("POST "+gatePath+"/resend", u.resendGate)
}

// gateEntry is the entry page of the gate for g.
func (u *UI) gateEntry(r *http.Request, sess *sessions.Session, m storage.Member, g gateRequest) otpEntry {
	return otpEntry{sess: sess,
		titleKey: "otp.gate.title." + g.purpose, leadKey: "otp.gate.lead." + g.purpose,
		lang: u.memberLang(r, m), member: m, purpose: g.purpose, allowed: g.allowed(u.otp.Service.Channels(m)),
		action: gatePath, resend: gatePath + "/resend", hidden: g.hidden(), cancel: g.cancel(),
		// Channels the action would accept but the member cannot use yet:
		// the page explains how to register them.
		missing: slices.DeleteFunc(slices.Clone(g.via), func(c string) bool { return slices.Contains(u.otp.Service.Channels(m), c) }),
	}
}

// openGate is the member and the gate's parameters of a gate page (from
// the query on GET, from the form on POST); false when it has answered the
// request itself.
func (u *UI) openGate(w http.ResponseWriter, r *http.Request) (*sessions.Session, storage.Member, gateRequest, bool) {
	sess, m, ok := u.requireMember(w, r)
	if !ok {
		return nil, storage.Member{}, gateRequest{}, false
	}
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		v = postForm(r)
	}
	g, ok := parseGate(v)
	if !ok {
		u.renderError(w, r, http.StatusBadRequest, "error.request_missing")
	}
	return sess, m, g, ok
}

func (u *UI) showGate(w http.ResponseWriter, r *http.Request) {
	sess, m, g, ok := u.openGate(w, r)
	if !ok {
		return
	}
	if u.gatePassed(sess, m, g.purpose, g.via) {
		http.Redirect(w, r, g.back, http.StatusSeeOther)
		return
	}
	u.showEntry(w, r, u.gateEntry(r, sess, m, g))
}

func (u *UI) resendGate(w http.ResponseWriter, r *http.Request) {
	if sess, m, g, ok := u.openGate(w, r); ok {
		u.resendEntry(w, r, u.gateEntry(r, sess, m, g))
	}
}

func (u *UI) postGate(w http.ResponseWriter, r *http.Request) {
	sess, m, g, ok := u.openGate(w, r)
	if !ok {
		return
	}
	e := u.gateEntry(r, sess, m, g)
	rec, ok := u.verifyEntry(w, r, e)
	if !ok {
		return
	}
	if !slices.Contains(g.via, rec.Channel) {
		// The code went by a channel this action does not accept (sent
		// for another gate of the same purpose): ask for a new one.
		u.renderEntry(w, r, e, http.StatusConflict, entryState{errKey: "otp.error.channel_not_allowed"})
		return
	}
	delete(sess.Values, chKey(g.purpose))
	sess.Values[gateKey(g.purpose)] = m.ID + " " + rec.Channel + " " + strconv.FormatInt(u.now().Unix(), 10)
	if err := u.sessions.Save(r, w, sess); err != nil {
		u.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, g.back, http.StatusSeeOther)
}

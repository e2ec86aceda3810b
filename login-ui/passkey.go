package loginui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/otp"
	"tsubasa/provider/passkey"
)

// Passkeys (provider/passkey) on the hosted pages:
//
//	POST /login/passkey/begin?authRequestID=     JSON: request options for navigator.credentials.get
//	POST /login/passkey/finish?authRequestID=    JSON: the credential in, {"redirect": URL} out
//	GET  /login/passkey/continue?authRequestID=  the login after the passkey: steps, risk, consent
//	GET  /login/passkey/required?authRequestID=  step: the client asked for acr phr (+ POST …/cancel)
//	GET  /account/passkeys                       the member's passkeys: created, last used, synced
//	GET  /account/passkeys/new                   name and register a passkey (behind a fresh SMS code)
//	POST /account/passkeys/begin                 JSON: {"name"} in, creation options out
//	POST /account/passkeys/finish                JSON: the credential in, {"redirect": URL} out
//	POST /account/passkeys/{id}/rename           form: a new name
//	GET  /account/passkeys/{id}/delete           confirm (step-up)
//	POST /account/passkeys/{id}/delete           delete (step-up)
//	/login/passkey/offer…                        the offer after a password login (passkey_offer.go)
//
// The ceremony state never leaves the server: Begin's state goes into the
// browser's server-side session with the time it was made, and every
// Finish takes it out (and saves the session) before verifying, so a state
// is used at most once whatever the outcome, and dies with the ceremony
// timeout. The login state is kept per authorization request, so two login
// tabs of one browser do not spoil each other's ceremony.
//
// The JSON endpoints are called by static/passkey.js with fetch from our
// own pages; CrossOriginProtection refuses them from other sites like any
// form. They answer errors as {"error": code, "message": text}, where text
// is the catalog message in the page's language: for a login always the one
// generic message, whatever failed.

// PasskeyOptions configure the passkeys feature.
type PasskeyOptions struct {
	Service *passkey.Service
	// RegistrationChannels are the one-time-password channels whose fresh
	// code lets a member add a passkey: [otp.ChannelSMS] (the programme's
	// rule, the default) or both SMS and email (passkeys.registration_requires
	// any_otp).
	RegistrationChannels []string
	// Location and ZoneLabel show the passkeys' times [UTC; the zone's abbreviation].
	Location  *time.Location
	ZoneLabel string
	// OfferAfterLogin offers a passkey after a password login
	// (passkey_offer.go); ConditionalCreate lets the browser create one
	// without a prompt where the login passed the code itself.
	OfferAfterLogin   bool
	ConditionalCreate bool
}

// passkeyFeature is passkey login (button and autofill) and the account
// pages that register, rename and delete passkeys.
type passkeyFeature struct {
	PasskeyOptions
	u *UI
}

// Passkeys enables passkeys. It needs the one-time-password feature, which
// must come before it in Options.Features: adding a passkey takes a fresh code.
func Passkeys(o PasskeyOptions) Feature { return &passkeyFeature{PasskeyOptions: o} }

func (f *passkeyFeature) register(u *UI) error {
	if f.Service == nil {
		return errors.New("loginui: the passkeys feature needs a service")
	}
	if u.otp == nil {
		return errors.New("loginui: the passkeys feature needs the one-time-password feature (adding a passkey takes a code); list it first")
	}
	if len(f.RegistrationChannels) == 0 {
		f.RegistrationChannels = []string{otp.ChannelSMS}
	}
	for _, c := range f.RegistrationChannels {
		if c != otp.ChannelSMS && c != otp.ChannelEmail {
			return errors.New("loginui: passkey registration channels must be sms or email")
		}
	}
	if f.Location == nil {
		f.Location = time.UTC
	}
	if f.ZoneLabel == "" {
		f.ZoneLabel = time.Now().In(f.Location).Format("MST")
	}
	f.u = u
	u.loginExtras = append(u.loginExtras, "passkey")
	u.partials["login"] = append(u.partials["login"], "templates/login_passkey.html")
	u.pageNames = append(u.pageNames, "account_passkeys", "account_passkeys_new", "account_passkeys_delete", "passkey_required")
	u.partials["passkey_required"] = append(u.partials["passkey_required"], "templates/login_passkey.html")
	u.addStep(false, f.requiredStep())
	u.handle("GET "+passkeyRequiredPath, f.showRequired)
	u.handle("POST "+passkeyRequiredPath+"/cancel", f.cancelRequired)
	u.addSection(accountSection{order: 20, titleKey: "passkey.account.title", descKey: "passkey.account.desc", path: "/account/passkeys"})

	u.handle("POST /login/passkey/begin", f.beginLogin)
	u.handle("POST /login/passkey/finish", f.finishLogin)
	u.handle("GET /login/passkey/continue", f.continueLogin)
	u.handle("GET /account/passkeys", f.showPasskeys)
	u.handle("GET /account/passkeys/new", f.showNew)
	u.handle("POST /account/passkeys/begin", f.beginRegistration)
	u.handle("POST /account/passkeys/finish", f.finishRegistration)
	u.handle("POST /account/passkeys/{id}/rename", f.rename)
	u.handle("GET /account/passkeys/{id}/delete", f.showDelete)
	u.handle("POST /account/passkeys/{id}/delete", f.postDelete)
	f.registerOffer(u) // passkey_offer.go
	return nil
}

// Session keys of ceremony states ("<unix seconds> <state>").
const (
	keyPasskeyLogin   = "pk_login." // + authorization request id
	keyPasskeyReg     = "pk_reg"
	keyPasskeyRegName = "pk_reg_name"
)

// maxCredentialJSON bounds what a Finish reads; a real credential is a few KiB.
const maxCredentialJSON = 64 << 10

// putState keeps a ceremony state in the session, and drops login states
// older than the ceremony timeout (left by pages that were closed).
func (f *passkeyFeature) putState(sess *sessions.Session, key, state string) {
	now := f.u.now()
	for k := range sess.Values {
		ks, _ := k.(string)
		if strings.HasPrefix(ks, keyPasskeyLogin) && ks != key {
			if _, ok := f.fresh(value(sess, ks), now); !ok {
				delete(sess.Values, k)
			}
		}
	}
	sess.Values[key] = strconv.FormatInt(now.Unix(), 10) + " " + state
}

// takeState removes a ceremony state from the session and returns it, ""
// when there is none or it is past the timeout. The caller saves the session
// before using the state, so it is spent even if the request dies after.
func (f *passkeyFeature) takeState(sess *sessions.Session, key string) string {
	v := value(sess, key)
	delete(sess.Values, key)
	state, _ := f.fresh(v, f.u.now())
	return state
}

// fresh splits a stored "<unix> <state>" and reports whether it is younger
// than the ceremony timeout.
func (f *passkeyFeature) fresh(v string, now time.Time) (string, bool) {
	at, state, ok := strings.Cut(v, " ")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || state == "" {
		return "", false
	}
	if age := now.Sub(time.Unix(n, 0)); age < 0 || age > passkey.DefaultTimeout {
		return "", false
	}
	return state, true
}

// jsonError is the body of a failed JSON call.
type jsonError struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
	// Location is where the page should go instead (a one-time password
	// to enter first, a session to renew).
	Location string `json:"location,omitempty"`
	// UnknownCredential tells the page the passkey is not (or no longer)
	// registered, so it can ask the browser to hide it.
	UnknownCredential bool `json:"unknownCredential,omitempty"`
}

// writeJSON answers a fetch. The body is never cached (securityHeaders).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeOptions answers a Begin with the options exactly as the service
// encoded them ({"publicKey": …}).
func writeOptions(w http.ResponseWriter, options []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(options)
}

// readCredential reads a Finish body: a JSON object no larger than
// maxCredentialJSON. The service parses it properly; this only keeps
// garbage and oversized bodies from reaching it.
func readCredential(r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxCredentialJSON))
	if err != nil || !json.Valid(body) {
		return nil, false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil || len(probe) == 0 {
		return nil, false
	}
	return body, true
}

// jsonCall reports whether a POST is a script's fetch with a JSON body, as
// passkey.js sends; anything else (a form, a plain link) is refused, so a
// cross-site form can never start a ceremony even where
// CrossOriginProtection has to let a request through (no Origin header).
func jsonCall(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/json") && r.Header.Get("Sec-Fetch-Mode") != "navigate"
}

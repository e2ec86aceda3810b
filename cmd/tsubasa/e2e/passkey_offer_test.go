package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"tsubasa/provider/notify/notifytest"
)

// capableLogin logs in through rp from b as a browser whose script reported
// caps (passkey_capable), entering the SMS code a new device is asked for,
// and returns the page the login lands on.
func capableLogin(t *testing.T, b *Browser, rp *RP, sms *notifytest.SMSWebhook, caps string) Page {
	t.Helper()
	seen := len(sms.Delivered())
	p := b.Get(t, rp.AuthURL(NewFlow()))
	form := url.Values{"authRequestID": {p.AuthRequestID(t)}, "member_number": {offerNumber}, "password": {offerPass}}
	if caps != "" {
		form.Set("passkey_capable", caps)
	}
	p = b.Post(t, p.URL, "/login", form)
	if p.URL.Path == "/login/otp" {
		p = b.Post(t, p.URL, "/login/otp", url.Values{"authRequestID": {p.AuthRequestID(t)}, "otp": {pkSMSCode(t, sms, seen)}})
	}
	return p
}

// TestPasskeyOfferAfterSMSLogin: a login that itself passed the SMS code
// (a new device, otp.on_login) needs no second code for the offer: the
// page goes straight to the ceremony, and with passkeys.conditional_create
// and a browser that reported conditional create, the page asks the
// browser to create the passkey without a prompt (data-conditional). The
// passkey is created through the offer's calls and the login returns to
// the app. The login's code adds one passkey: a second begin for it needs
// the gate's code.
func TestPasskeyOfferAfterSMSLogin(t *testing.T) {
	sms := notifytest.NewSMSWebhook(t)
	s := Start(t, Options{Host: "localhost", SMSURL: sms.URL(),
		Extra: "otp:\n  on_login: new_device\npasskeys:\n  conditional_create: true\n"})
	s.CLI(t, false, "member", "create", "--number", offerNumber, "--password", offerPass, "--family-name", "大空",
		"--phone", "+819012345670", "--country", "JP", "--locale", "en")
	rp := NewRP(t, s, "web", "web-secret-0123456789")

	b := NewBrowser(t, s)
	offer := capableLogin(t, b, rp, sms, "platform conditional")
	if offer.URL.Path != "/login/passkey/offer" {
		t.Fatalf("after the SMS login: %d at %s, want the offer", offer.Status, offer.URL)
	}
	for _, want := range []string{`data-gate=""`, `data-conditional="1"`, `id="passkey-offer-create"`, `id="passkey-offer-later"`} {
		if !strings.Contains(offer.Body, want) {
			t.Errorf("offer page lacks %s", want)
		}
	}
	q := "?authRequestID=" + url.QueryEscape(offer.URL.Query().Get("authRequestID"))
	begin := b.passkeyJSON(t, s, "/login/passkey/offer/begin"+q, `{}`)
	opts, err := virtualwebauthn.ParseAttestationOptions(begin.Body)
	if begin.Status != http.StatusOK || err != nil {
		t.Fatalf("begin: %d %v\n%s", begin.Status, err, begin.Body)
	}
	rpv := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Tsubasa", Origin: s.Issuer}
	auth := virtualwebauthn.NewAuthenticator()
	auth.Options.UserHandle = []byte(opts.UserID)
	// RSA: virtualwebauthn drops an EC key's leading zero bytes, which go-webauthn refuses.
	cred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeRSA)
	fin := b.passkeyJSON(t, s, "/login/passkey/offer/finish"+q, virtualwebauthn.CreateAttestationResponse(rpv, auth, cred, *opts))
	next := decodePasskeyAnswer(t, fin).Redirect
	if fin.Status != http.StatusOK || !strings.HasPrefix(next, "/login/passkey/offer/continue?") {
		t.Fatalf("finish: %d %s", fin.Status, fin.Body)
	}
	// The login's code is spent: another passkey for it takes the gate.
	again := b.passkeyJSON(t, s, "/login/passkey/offer/begin"+q, `{}`)
	if a := decodePasskeyAnswer(t, again); again.Status != http.StatusUnauthorized || a.Error != "otp_required" || !strings.HasPrefix(a.Location, "/account/otp?") {
		t.Errorf("a second passkey on the login's code: %d %+v", again.Status, a)
	}
	if cb := Callback(t, b.Get(t, s.Issuer+next)); cb.Query().Get("code") == "" {
		t.Errorf("after the passkey: %s", cb)
	}

	// A browser that reported no conditional create gets the offer without it.
	other := NewBrowser(t, s)
	if p := capableLogin(t, other, rp, sms, "platform"); p.URL.Path != "/login/passkey/offer" || strings.Contains(p.Body, `data-conditional="1"`) {
		t.Errorf("without conditional create: %s\n%s", p.URL, p.Body)
	}
	// One that reported nothing (no script) goes straight to the app.
	plain := NewBrowser(t, s)
	if p := capableLogin(t, plain, rp, sms, ""); p.Location == "" || !strings.Contains(p.Location, "code=") {
		t.Errorf("without capabilities: %d at %s, want the app", p.Status, p.URL)
	}
}

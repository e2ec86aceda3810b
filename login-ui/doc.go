// Package loginui is Tsubasa's hosted login: server-rendered pages, the
// server-side browser session, and the state machine that takes an
// authorization request from /authorize to its answer (the code).
//
// Core routes (ui.go, flow.go, password.go, account.go):
//
//	/authorize (SSO, sso.go)          in front of op: answer a request the SSO session satisfies
//	                                  at once, as /login would, instead of redirecting there
//	GET  /login?authRequestID=        bind the request to this browser; answer from the SSO
//	                                  session when prompt, max_age, id_token_hint (the
//	                                  session's member) and acr_values allow, step
//	                                  up from it when acr_values asks for more, answer
//	                                  login_required / interaction_required for prompt=none
//	POST /login                       member number + password (or the legacy PIN while open)
//	GET|POST /login/password          choose a policy-compliant password (PIN login, forced change);
//	                                  held, stored only when the login completes (credential.go)
//	EndSession (from /end_session)    RP-initiated logout the provider validated: end this
//	                                  browser's session at once when the hint proves it,
//	                                  else keep the request in the session and ask (logout.go)
//	GET  /logout                      "Log out?", naming the app that asks; changes nothing
//	POST /logout                      log out (session and its tokens), then the validated
//	                                  post_logout_redirect_uri; or stay logged in
//	GET  /logged-out                  the logged-out page; changes nothing
//	GET  /account                     "Manage your account" (its own login through local requests)
//	GET|POST /account/password        change password (current password, lockout applies); a
//	                                  credential change: every other session and token ends
//	POST /account/logout
//	GET  /theme.css, /static/…        brand colour from config; CSS, the passkey script and the
//	                                  forms' (the show-password toggle: form.js)
//
// Features (each in its own files, enabled by cmd through Options.Features):
//
//	otp      /login/otp (+/resend, /cancel)     second step and step-up          otp_login.go
//	         /account/otp (+/resend)           fresh-code gate (passkey registration)  otp_gate.go
//	         /account/contacts (+/email, /phone, /verify, /channel)                 contacts.go
//	contact checks  /account/contacts/test, /account/contacts/received (the test
//	         message's link, no login), /login/contacts-check (after-step reminder)  contact_check.go
//	         /login/reset (+/code, /password, /done)   forgot password            reset.go
//	risk     login hook: device cookie, RecordLogin, alert                        risk.go
//	         /account/history, /account/devices (+/{id}/signout), /account/signout-all,
//	         /account/not-me                                                       account_security*.go
//	device   /device, /device/confirm    the device grant's user codes (RFC 8628): entry
//	         limits, "is this your device?", then the login and consent for a
//	         request made here (DeviceGrant set), answered by approving the grant  device.go
//	consent  /login/consent (+/switch)   after-login step for third-party apps, and    consent.go
//	         always for a device
//	         /account/apps (+/unlink)                                              consent_account.go
//	passkey  /login/passkey/{begin,finish,continue}, login page block             passkey_login.go
//	         /login/passkey/required (+/cancel)  step when acr_values asks for phr  passkey_required.go
//	         /login/passkey/offer (+/begin, /finish, /continue)  after-step: a passkey
//	         offered after a password login, once in 30 days per browser      passkey_offer*.go
//	         /account/passkeys (+/new, /begin, /finish, /{id}/rename, /{id}/delete) passkey_account.go
//
// State machine of one authorization request:
//
//	new ──(first browser opens /login, or SSO at /authorize)──▶ bound
//	bound ──(SSO session satisfies it)──────────────────────────────▶ finish
//	bound ──(SSO session too weak)──▶ step-up flow ─┐
//	bound ──(password, PIN or passkey ok)──▶ flow ──┤
//	flow: before-steps in order: set password (10, hash held) ▶ one-time password (20; owed
//	      whatever otp.on_login says when a password is set or after "this wasn't me")
//	      ──▶ establish: store the held password (if the member's security stamp is the one
//	          the flow began under; it ends every other session), new session id carrying
//	          the stamp, SSO fields, login hooks (risk, alert)
//	any step: the member's security stamp changed since the flow began ──▶ void, log in again
//	finish: after-steps: consent ──▶ nudges (at most one per login, never blocking:
//	        the passkey offer, the contacts check; nudge.go) ──▶ complete ──▶
//	        Options.Answer (code to the client), or for a device request the
//	        grant approved and "return to your device" (device.go)
//	bound ──(prompt=none and a step is needed)──▶ error to the client
//
// Every credential change (password, reset, passkey removed, contact,
// "this wasn't me") goes through the member domain's one operation, which
// ends every session of the member and revokes every token; the browser it
// was made in is kept (under a new session id) or signed out as configured
// (credential.go). A session whose stamp is not the member's is no login.
//
// The package meets the OpenID provider only in storage (the auth request
// record, and within one HTTP request the handoff of storage.WithHandoff:
// the request op created in /authorize, the request complete stored, the
// session read, each passed on instead of read back) and through
// functions cmd passes in (Options.Answer,
// Options.Fail, Options.ClientName) or calls (EndSession, LogoutRefused:
// the provider's validated end-session requests and its refusals). Pages use no inline script or style,
// so the CSP is default-src 'self'; every word on a page comes from the
// catalogs in locales/<lang>/<area>.json (a test enforces it).
//
// Languages (i18n.go): each folder under locales/ is a language, named by
// its canonical BCP 47 tag (ja, en, zh-Hans, zh-Hant, ko) and holding every
// key of the Japanese catalog (start-up and a test refuse less; another
// test checks each message's placeholders). Options.Languages
// (ui.languages) picks those a deployment speaks, the first the fallback.
// A page's language is the request's ui_locales, then the language cookie
// (set by ?lang= on any GET, which redirects back to the same page), then
// Accept-Language read in the browser's order; each tag is matched by
// language and script, so zh-CN and zh-SG read zh-Hans, zh-TW and zh-HK
// zh-Hant, ko-KR ko. <html lang> is the tag served. The language menu in
// the layout is a <details> disclosure of links, each language named in
// itself with lang and hreflang, the current one aria-current: no script,
// usable at 320 px. The footer links the programme's help, privacy and
// terms pages (Brand) in the page's language. Each page is
// parsed from templates/layout.html, templates/partials.html (blocks shared
// by several pages, such as the new-password fields) and its own file.
package loginui

// Package loginui is Tsubasa's hosted login: server-rendered pages, the
// server-side browser session, and the state machine that takes an
// authorization request from /authorize to op's callback.
//
// Routes:
//
//	GET  /login?authRequestID=   bind the request to this browser; answer from the SSO
//	                             session when prompt, max_age and acr_values allow, send
//	                             login_required for prompt=none, else show the form
//	POST /login                  member number + password (or legacy PIN while open)
//	GET  /login/password         set a policy-compliant password after a PIN login
//	POST /login/password
//	GET  /logged-out             end_session's landing page; ends the browser session
//	GET  /static/…               CSS (and, later, the one passkey script)
//
// State machine of one authorization request:
//
//	new ──(first browser opens /login)──▶ bound
//	bound ──(SSO session satisfies it)──────────────▶ done ──▶ callback (code)
//	bound ──(password ok)──────────────────────────▶ done
//	bound ──(PIN ok, migration open)──▶ set password ──▶ done
//	bound ──(prompt=none and no usable session)──▶ login_required to the client
//
// The package meets the OpenID provider only in storage (the auth request
// record) and through functions cmd passes in (Options.Callback, Options.Fail).
// Pages use no inline script or style, so the CSP is default-src 'self'.
package loginui

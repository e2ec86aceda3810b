// Package risk owns device recognition and the alerts that follow a login
// from a new environment or the linking of a third-party app.
//
// # Devices
//
// A browser is recognised by a long-lived random device cookie (32 random
// bytes, base64url; HttpOnly, Secure and __Host- on https, SameSite=Lax, two
// years: see Cookie). The database never holds the cookie, only its HMAC
// (Engine.DeviceID), so a leaked database yields no cookie that passes as a
// known device. Each member has their own device records, keyed by that id,
// describing the device as its User-Agent does (type, model, OS, browser
// family and versions, parsed by github.com/mileusna/useragent) with first
// and last seen and the last IP.
//
// # Recognition
//
// Assess is read-only and runs before a login completes:
//
//	no cookie, or a malformed one             -> new environment (no_cookie)
//	cookie not recorded for this member       -> new environment (unknown_device)
//	  (first login, new phone, cookies deleted, factory reset, or
//	  a cookie recorded only for another member)
//	recorded, but another browser family      -> new environment (browser_changed)
//	recorded, same browser family             -> known
//
// A new environment always gets a fresh cookie, never the one the browser
// brought; a known device keeps its cookie, re-set so its two years start
// again. Browser versions do not count: browsers update themselves.
//
// # Recording
//
// RecordLogin makes one storage.Logins.RecordLogin call: the login.succeeded
// event, the device (with LastSeenAt and LastIP) and, for a new environment
// with alerts enabled and an email address on file, the bilingual alert
// mail (member's language first) as a pending outbox record. The three
// commit together or not at all; notify.OutboxWorker delivers the alert
// with retries and backoff, so a mail server that is down neither slows nor
// fails a login and a crash loses no alert. RecordAppLinked does the same
// for app.linked and the app-linked mail. With Options.Locate (geoip) the
// login's approximate place, from the client address the request resolved
// behind trusted proxies, is stored with the event and the device and
// shown in the alert. A known device keeps its passkey offer's times
// across logins (the login UI's). Alerts hold the masked member
// number, the time in the configured zone (and in the member's own,
// where the country of residence keeps one clock: zone.go), device,
// browser and IP, and links to change the password and to report "this
// wasn't me"; never a secret.
package risk

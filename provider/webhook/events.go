package webhook

import "slices"

// EventTypes are the audit event types a subscription may ask for: the
// issue's list, named as the audit trail names them (provider/audit).
//
//	member created, updated, disabled   member.created, profile.changed, contact.changed, member.status_changed
//	login succeeded, failed, locked     login.succeeded, login.failed (a lockout is its reason), otp.locked
//	a new device                        alert.queued (the login alert of a device not seen before)
//	passkey added, removed              passkey.added, passkey.removed
//	app linked, unlinked                app.linked, app.unlinked
//	"this wasn't me"                    not_me.reported
//	password changed                    password.changed
var EventTypes = []string{
	"member.created", "profile.changed", "contact.changed", "member.status_changed",
	"login.succeeded", "login.failed", "otp.locked",
	"alert.queued",
	"passkey.added", "passkey.removed",
	"app.linked", "app.unlinked",
	"not_me.reported",
	"password.changed",
}

// KnownEventType reports whether a subscription may ask for t.
func KnownEventType(t string) bool { return slices.Contains(EventTypes, t) }

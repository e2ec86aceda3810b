package audit

// Event types. The packages that write events themselves (provider/member,
// provider/otp, provider/passkey) use these same strings, so one log reads
// consistently.
const (
	// Logins: Success and Reason say how it went (see provider/member for
	// the failure reasons).
	EventLoginSucceeded = "login.succeeded"
	EventLoginFailed    = "login.failed"
	// The password or PIN was right (provider/member); login.succeeded
	// follows, with the device, once the login is complete.
	EventPasswordVerified = "login.password_verified"

	// One-time passwords: sent to a channel, verified, a wrong code, or
	// too many wrong codes.
	EventOTPSent     = "otp.sent"
	EventOTPVerified = "otp.verified"
	EventOTPFailed   = "otp.failed"
	EventOTPLocked   = "otp.locked"

	// Credentials.
	EventPasswordChanged      = "password.changed"
	EventPasswordChangeFailed = "password.change_failed"
	EventPINUsed              = "pin.used" // legacy PIN accepted on the web
	EventPasskeyAdded         = "passkey.added"
	EventPasskeyRemoved       = "passkey.removed"

	// Contact details (email or phone) changed after verification.
	EventContactChanged = "contact.changed"

	// Third-party apps linked (first consent) or unlinked.
	EventAppLinked   = "app.linked"
	EventAppUnlinked = "app.unlinked"

	// Alerts: queued in the outbox with the login, delivered by the worker.
	EventAlertQueued = "alert.queued"
	EventAlertSent   = "alert.sent"
	// A back-channel logout the outbox gave up on (its attempts spent, or
	// the client's answer or address refused it): detail client_id, sid.
	EventBackchannelLogoutFailed = "backchannel_logout.failed"
	// A webhook delivery the outbox gave up on (attempts spent, the
	// receiver refused it, or its subscription is gone): detail
	// webhook_id, event_id, attempts. Not itself a webhook event.
	EventWebhookFailed = "webhook.delivery_failed"

	// Sessions revoked (logout everywhere, "this wasn't me", an operator,
	// any credential change: detail reason names it).
	EventSessionsRevoked = "sessions.revoked"
	// The member reported a login or link as not theirs.
	EventNotMeReported = "not_me.reported"

	// Telephone PIN checks by the call centre.
	EventTelephoneVerified = "telephone.verified"
	EventTelephoneFailed   = "telephone.failed"
	EventTelephoneLocked   = "telephone.locked"

	// Account administration.
	EventMemberCreated = "member.created"
	EventStatusChanged = "member.status_changed"
	// A member erased (provider/admin): the one event kept under the
	// member's id, naming the client and agent, no personal data.
	EventMemberErased = "member.erased"

	// The device grant (RFC 8628): the member approved or declined a
	// device (a television, a seat-back screen) at /device.
	EventDeviceApproved = "device.approved"
	EventDeviceDenied   = "device.denied"
)

// Types lists every event type, for filters and checks.
func Types() []string {
	return []string{
		EventLoginSucceeded, EventLoginFailed, EventPasswordVerified,
		EventOTPSent, EventOTPVerified, EventOTPFailed, EventOTPLocked,
		EventPasswordChanged, EventPasswordChangeFailed, EventPINUsed,
		EventPasskeyAdded, EventPasskeyRemoved,
		EventContactChanged,
		EventAppLinked, EventAppUnlinked,
		EventAlertQueued, EventAlertSent, EventBackchannelLogoutFailed, EventWebhookFailed,
		EventSessionsRevoked, EventNotMeReported,
		EventTelephoneVerified, EventTelephoneFailed, EventTelephoneLocked,
		EventMemberCreated, EventStatusChanged,
		EventMemberErased,
		EventDeviceApproved, EventDeviceDenied,
	}
}

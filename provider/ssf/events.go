package ssf

import (
	"slices"

	"tsubasa/storage"
)

// The SET event types a stream may request (CAEP 1.0 §3, RISC 1.0 §2).
const (
	EventSessionRevoked    = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	EventCredentialChange  = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	EventAccountDisabled   = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	EventAccountEnabled    = "https://schemas.openid.net/secevent/risc/event-type/account-enabled"
	EventAccountPurged     = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
	EventIdentifierChanged = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed"
)

// sources are the audit types each SET event is made from (doc.go's table).
var sources = map[string][]string{
	EventSessionRevoked:    {"sessions.revoked"},
	EventCredentialChange:  {"password.changed", "passkey.added", "passkey.removed"},
	EventAccountDisabled:   {"member.status_changed"},
	EventAccountEnabled:    {"member.status_changed"},
	EventAccountPurged:     {"member.erased"},
	EventIdentifierChanged: {"contact.changed"},
}

// EventsSupported are the SET event types this transmitter sends.
var EventsSupported = []string{EventSessionRevoked, EventCredentialChange, EventAccountDisabled,
	EventAccountEnabled, EventAccountPurged, EventIdentifierChanged}

// Supported reports whether a stream may request uri.
func Supported(uri string) bool { return slices.Contains(EventsSupported, uri) }

// AuditTypes are the audit event types that requested SET events map
// from: the subscription's Events, which storage queues deliveries for.
func AuditTypes(requested []string) []string {
	var out []string
	for _, uri := range requested {
		for _, t := range sources[uri] {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Event maps an audit event (as its webhook body) to its SET event type
// and that event's claims; ok is false when it maps to none.
func Event(b storage.WebhookBody) (uri string, claims map[string]any, ok bool) {
	claims = map[string]any{}
	switch b.Type {
	case "password.changed":
		uri, claims["credential_type"], claims["change_type"] = EventCredentialChange, "password", "update"
	case "passkey.added", "passkey.removed":
		change := "create"
		if b.Type == "passkey.removed" {
			change = "delete"
		}
		uri, claims["credential_type"], claims["change_type"] = EventCredentialChange, "fido2-platform", change
	case "sessions.revoked":
		uri = EventSessionRevoked
	case "member.status_changed":
		switch storage.MemberStatus(b.Data.Detail["status"]) {
		case storage.MemberDisabled, storage.MemberLocked:
			uri = EventAccountDisabled
		case storage.MemberActive:
			uri = EventAccountEnabled
		default:
			return "", nil, false
		}
	case "member.erased":
		uri = EventAccountPurged
	case "contact.changed":
		uri = EventIdentifierChanged
	default:
		return "", nil, false
	}
	if uri == EventSessionRevoked || uri == EventCredentialChange {
		// CAEP's common claims (CAEP 1.0 §2).
		claims["event_timestamp"] = b.Timestamp.Unix()
		claims["initiating_entity"] = "user"
		if b.Data.Detail["by"] == "operator" {
			claims["initiating_entity"] = "admin"
		}
	}
	return uri, claims, true
}

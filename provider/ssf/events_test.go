package ssf

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

func body(typ string, detail map[string]string) storage.WebhookBody {
	return storage.WebhookBody{Type: typ, ID: "ev1", Timestamp: time.Unix(1_800_000_000, 0).UTC(),
		Data: storage.WebhookData{MemberID: "m1", Detail: detail}}
}

// TestEventMapsDocTable: each row of doc.go's table, and the audit events
// that map to no SET.
func TestEventMapsDocTable(t *testing.T) {
	cases := []struct {
		typ    string
		detail map[string]string
		uri    string
		claims map[string]any
	}{
		{"password.changed", nil, EventCredentialChange, map[string]any{"credential_type": "password", "change_type": "update",
			"event_timestamp": int64(1_800_000_000), "initiating_entity": "user"}},
		{"password.changed", map[string]string{"by": "operator"}, EventCredentialChange, map[string]any{"credential_type": "password",
			"change_type": "update", "event_timestamp": int64(1_800_000_000), "initiating_entity": "admin"}},
		{"passkey.added", nil, EventCredentialChange, map[string]any{"credential_type": "fido2-platform", "change_type": "create",
			"event_timestamp": int64(1_800_000_000), "initiating_entity": "user"}},
		{"passkey.removed", nil, EventCredentialChange, map[string]any{"credential_type": "fido2-platform", "change_type": "delete",
			"event_timestamp": int64(1_800_000_000), "initiating_entity": "user"}},
		{"sessions.revoked", nil, EventSessionRevoked, map[string]any{"event_timestamp": int64(1_800_000_000), "initiating_entity": "user"}},
		{"member.status_changed", map[string]string{"status": "disabled"}, EventAccountDisabled, map[string]any{}},
		{"member.status_changed", map[string]string{"status": "locked"}, EventAccountDisabled, map[string]any{}},
		{"member.status_changed", map[string]string{"status": "active"}, EventAccountEnabled, map[string]any{}},
		{"member.erased", nil, EventAccountPurged, map[string]any{}},
		{"contact.changed", map[string]string{"field": "email"}, EventIdentifierChanged, map[string]any{}},
	}
	for _, c := range cases {
		uri, claims, ok := Event(body(c.typ, c.detail))
		if !ok || uri != c.uri || !reflect.DeepEqual(claims, c.claims) {
			t.Errorf("%s %v: %q %v %v, want %q %v", c.typ, c.detail, uri, claims, ok, c.uri, c.claims)
		}
	}
	for _, typ := range []string{"login.succeeded", "login.failed", "member.created", "not_me.reported", "app.linked"} {
		if uri, _, ok := Event(body(typ, nil)); ok {
			t.Errorf("%s maps to %s", typ, uri)
		}
	}
	if _, _, ok := Event(body("member.status_changed", map[string]string{"status": "odd"})); ok {
		t.Error("an unknown status maps to a SET")
	}
}

// TestAuditTypesAreWhatRequestedEventsMapFrom: a stream is queued the
// audit types its requested events come from, each once, and every
// supported event comes from at least one.
func TestAuditTypesAreWhatRequestedEventsMapFrom(t *testing.T) {
	got := AuditTypes([]string{EventCredentialChange, EventAccountDisabled, EventAccountEnabled})
	want := []string{"password.changed", "passkey.added", "passkey.removed", "member.status_changed"}
	if !slices.Equal(got, want) {
		t.Errorf("AuditTypes %q, want %q", got, want)
	}
	for _, uri := range EventsSupported {
		if len(AuditTypes([]string{uri})) == 0 {
			t.Errorf("%s maps from no audit type", uri)
		}
	}
	if len(AuditTypes([]string{"https://example.com/unknown"})) != 0 {
		t.Error("an unknown event maps from audit types")
	}
}

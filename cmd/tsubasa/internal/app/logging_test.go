package app

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// TestSIEMLogger: audit events become one JSON line each, with the
// request id of the request that caused them.
func TestSIEMLogger(t *testing.T) {
	var buf bytes.Buffer
	l := audit.New(nil, newSIEMLogger(&buf))
	ctx := context.WithValue(t.Context(), requestIDKey{}, "req-1")
	l.Emit(ctx, storage.Event{ID: "e1", Type: audit.EventLoginSucceeded, MemberID: "m1", Success: true})
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not a JSON line: %q", buf.String())
	}
	for k, want := range map[string]any{"msg": "audit", "event_type": "login.succeeded", "member_id": "m1", "request_id": "req-1", "success": true} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v", k, line[k], want)
		}
	}
}

package loginui

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"tsubasa/provider/passkey"
)

func TestPasskeyCeremonyStateInSession(t *testing.T) {
	now := time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)
	f := &passkeyFeature{u: &UI{now: func() time.Time { return now }}}
	sess := sessions.NewSession(nil, "test")

	f.putState(sess, keyPasskeyLogin+"req1", "s1.old")
	now = now.Add(passkey.DefaultTimeout + time.Second)
	f.putState(sess, keyPasskeyLogin+"req2", "s1.new")
	if _, ok := sess.Values[keyPasskeyLogin+"req1"]; ok {
		t.Error("a login state older than the timeout was kept")
	}
	if got := f.takeState(sess, keyPasskeyLogin+"req2"); got != "s1.new" {
		t.Errorf("takeState = %q, want the stored state", got)
	}
	if got := f.takeState(sess, keyPasskeyLogin+"req2"); got != "" {
		t.Errorf("second takeState = %q: a state must be single use", got)
	}

	f.putState(sess, keyPasskeyReg, "s1.reg")
	now = now.Add(passkey.DefaultTimeout + time.Second)
	if got := f.takeState(sess, keyPasskeyReg); got != "" {
		t.Errorf("expired state taken: %q", got)
	}
	if _, ok := sess.Values[keyPasskeyReg]; ok {
		t.Error("an expired state stays in the session")
	}
	for _, v := range []string{"", "junk", "123", "x s1.abc", "-5 s1.abc"} {
		if s, ok := f.fresh(v, now); ok {
			t.Errorf("fresh(%q) = %q, true", v, s)
		}
	}
}

func TestPasskeyJSONCallAndBody(t *testing.T) {
	tests := []struct {
		name, ct, mode, body string
		call, wantBody       bool
	}{
		{"fetch with a credential", "application/json", "cors", `{"id":"x"}`, true, true},
		{"fetch, charset", "application/json; charset=utf-8", "same-origin", `{"id":"x"}`, true, true},
		{"form post", "application/x-www-form-urlencoded", "navigate", `id=x`, false, false},
		{"text/plain (a cross-site form can send it)", "text/plain", "no-cors", `{"id":"x"}`, false, true},
		{"JSON navigation", "application/json", "navigate", `{"id":"x"}`, false, true},
		{"not an object", "application/json", "cors", `[1,2]`, true, false},
		{"empty object", "application/json", "cors", `{}`, true, false},
		{"truncated", "application/json", "cors", `{"id":`, true, false},
		{"too large", "application/json", "cors", `{"id":"` + strings.Repeat("a", maxCredentialJSON) + `"}`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login/passkey/finish", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ct)
			r.Header.Set("Sec-Fetch-Mode", tt.mode)
			if got := jsonCall(r); got != tt.call {
				t.Errorf("jsonCall = %v, want %v", got, tt.call)
			}
			if _, got := readCredential(r); got != tt.wantBody {
				t.Errorf("readCredential ok = %v, want %v", got, tt.wantBody)
			}
		})
	}
}

package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks specification's own example: a receiver written
// against any of its libraries accepts what Tsubasa signs.
func TestSignatureMatchesTheStandardWebhooksExample(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body := []byte(`{"test": 2432232314}`)
	ts := time.Unix(1614265330, 0)
	got, err := Signature(secret, id, ts, body)
	if err != nil || got != want {
		t.Fatalf("Signature = %q, %v; want %q", got, err, want)
	}
	h := http.Header{}
	if err := Sign(h, secret, id, ts, body); err != nil {
		t.Fatal(err)
	}
	if h.Get(HeaderID) != id || h.Get(HeaderTimestamp) != "1614265330" || h.Get(HeaderSignature) != want {
		t.Fatalf("headers %v", h)
	}
	if err := Verify(h, secret, body, ts.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("Verify of a good delivery: %v", err)
	}
}

// A receiver's check refuses a changed body, id or secret, a stale or
// missing timestamp, and any version but v1; it accepts the good one
// among several signatures (a secret being rotated).
func TestVerifyRefusesTampering(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret, other := SecretFor(key, "sub-1"), SecretFor(key, "sub-2")
	if secret == other || !strings.HasPrefix(secret, "whsec_") || SecretFor(key, "sub-1") != secret {
		t.Fatalf("secrets %q %q: want distinct, stable, whsec_", secret, other)
	}
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"login.succeeded"}`)
	signed := func() http.Header {
		h := http.Header{}
		if err := Sign(h, secret, "evt-1", now, body); err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name   string
		change func(h http.Header) ([]byte, string)
		want   error
	}{
		{"body", func(http.Header) ([]byte, string) { return []byte(`{"type":"login.failed"}`), secret }, ErrNoSignature},
		{"id", func(h http.Header) ([]byte, string) { h.Set(HeaderID, "evt-2"); return body, secret }, ErrNoSignature},
		{"secret", func(http.Header) ([]byte, string) { return body, other }, ErrNoSignature},
		{"stale", func(h http.Header) ([]byte, string) { h.Set(HeaderTimestamp, "1799999000"); return body, secret }, ErrTimestamp},
		{"no timestamp", func(h http.Header) ([]byte, string) { h.Del(HeaderTimestamp); return body, secret }, ErrTimestamp},
		{"v2", func(h http.Header) ([]byte, string) {
			h.Set(HeaderSignature, strings.Replace(h.Get(HeaderSignature), "v1,", "v2,", 1))
			return body, secret
		}, ErrNoSignature},
		{"bad secret", func(http.Header) ([]byte, string) { return body, "not-a-secret" }, ErrBadSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := signed()
			b, s := tt.change(h)
			if err := Verify(h, s, b, now, 5*time.Minute); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	h := signed()
	h.Set(HeaderSignature, "v1,AAAA "+h.Get(HeaderSignature))
	if err := Verify(h, secret, body, now, 5*time.Minute); err != nil {
		t.Fatalf("the good signature among several: %v", err)
	}
}

package provider

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

func TestAccessTokenRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 123456789, time.UTC)
	full := storage.Token{
		ID: "tok-1", Kind: storage.AccessToken, ClientID: "web", MemberID: "mem-1", Subject: "sub-1",
		Audience: []string{"web", "api"}, Scopes: []string{"openid", "profile", "offline_access"},
		AuthTime: now.Add(-time.Minute), ACR: "urn:tsubasa:acr:otp", AMR: []string{"pwd", "otp", "mfa"},
		SessionID: "sid-1", FamilyID: "fam-1", AuthRequestID: "ar-1",
		CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute), JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
	}
	machine := storage.Token{ID: "tok-2", Kind: storage.AccessToken, ClientID: "backend", Subject: "backend",
		Audience: []string{"backend"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, want := range []storage.Token{full, machine} {
		id, err := encodeAccessToken(want)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, accessPrefix) || strings.Contains(id, ":") {
			t.Fatalf("token id %q: op splits the bearer value on ':'", id)
		}
		got, err := decodeAccessToken(id, want.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
		// Every truncation and an extra byte are refused, not misread.
		raw := id[len(accessPrefix):]
		for cut := 0; cut < len(raw); cut += 3 {
			if _, err := decodeAccessToken(accessPrefix+raw[:cut], ""); err == nil {
				t.Errorf("truncated at %d accepted", cut)
			}
		}
	}
	if _, err := encodeAccessToken(storage.Token{ClientID: "web", ExpiresAt: now}); err == nil {
		t.Error("a token without an id was encoded")
	}
}

// TestAccessTokenFormat1: a token minted before DPoP (format 1, no key
// thumbprint) still reads, as bound to no key.
func TestAccessTokenFormat1(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	want := storage.Token{ID: "tok-3", Kind: storage.AccessToken, ClientID: "web", Subject: "web",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	id, err := encodeAccessToken(want)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(id[len(accessPrefix):])
	if raw[len(raw)-1] != 0 {
		t.Fatalf("an unbound token should end with an empty JKT, got %x", raw)
	}
	v1 := append([]byte{accessFormatV1}, raw[1:len(raw)-1]...)
	got, err := decodeAccessToken(accessPrefix+base64.RawURLEncoding.EncodeToString(v1), "web")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("format 1: %v\n got %+v\nwant %+v", err, got, want)
	}
}

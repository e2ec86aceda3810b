package provider

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/provider/outbound"
	"tsubasa/storage"
	"tsubasa/storage/storagetest"
)

// TestJWKSURICache: a jwks_uri's keys are fetched once and kept for
// jwksTTL; a key id the set lacks fetches it again, at most once per
// jwksRefetchEvery; a failed fetch keeps the set until it lapses.
func TestJWKSURICache(t *testing.T) {
	var fetches atomic.Int32
	current := newPartnerKey(t, "k1")
	var serve atomic.Value
	serve.Store(current.jwks)
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(serve.Load().(string)))
	}))
	defer srv.Close()
	clock := storagetest.NewClock(time.Now())
	cache := newClientKeyCache(outbound.New(outbound.Options{AllowPrivateNetworks: true}), clock.Now)
	c := storage.Client{ID: "partner", JWKSURI: srv.URL}
	get := func(kid string) []string {
		t.Helper()
		keys, err := cache.keys(t.Context(), c, kid)
		if err != nil {
			return nil
		}
		var out []string
		for _, k := range keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	want := func(what string, kid string, ids []string, n int32) {
		t.Helper()
		got := get(kid)
		if len(got) != len(ids) || (len(ids) > 0 && got[0] != ids[0]) || fetches.Load() != n {
			t.Errorf("%s: keys %v after %d fetches, want %v after %d", what, got, fetches.Load(), ids, n)
		}
	}
	want("first use", "k1", []string{"k1"}, 1)
	want("cached", "k1", []string{"k1"}, 1)
	want("cached, no kid", "", []string{"k1"}, 1)

	// The client rotates to k2: an unknown kid fetches again, but not
	// more than once per jwksRefetchEvery.
	serve.Store(newPartnerKey(t, "k2").jwks)
	want("unknown kid, just fetched", "k2", []string{"k1"}, 1)
	clock.Advance(jwksRefetchEvery)
	want("unknown kid", "k2", []string{"k2"}, 2)
	want("made-up kid right after", "zz", []string{"k2"}, 2)

	// Down: the set stands until jwksTTL, then nothing verifies.
	failing.Store(true)
	clock.Advance(jwksRefetchEvery)
	want("made-up kid, server down", "zz", []string{"k2"}, 3)
	clock.Advance(jwksTTL)
	want("lapsed, server down", "k2", nil, 4)
	failing.Store(false)
	want("lapsed, refetch waits", "k2", nil, 4)
	clock.Advance(jwksRefetchEvery)
	want("server back", "k2", []string{"k2"}, 5)
}

// TestJWKSURIRefusesSpecialAddresses: with the default outbound client, a
// jwks_uri on loopback is never fetched: no keys, nothing verifies.
func TestJWKSURIRefusesSpecialAddresses(t *testing.T) {
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write([]byte(newPartnerKey(t, "k1").jwks))
	}))
	defer srv.Close()
	cache := newClientKeyCache(outbound.New(outbound.Options{}), time.Now)
	if keys, err := cache.keys(t.Context(), storage.Client{ID: "p", JWKSURI: srv.URL}, "k1"); err == nil || len(keys) > 0 {
		t.Errorf("keys %v, error %v: want none from a loopback jwks_uri", keys, err)
	}
	if fetches.Load() != 0 {
		t.Errorf("the loopback server was reached %d times", fetches.Load())
	}
}

// TestInlineJWKSIsReadAgainWhenChanged: a client whose jwks changed (through
// the registry) is verified with the new set, not a cached one.
func TestInlineJWKSIsReadAgainWhenChanged(t *testing.T) {
	cache := newClientKeyCache(outbound.New(outbound.Options{}), time.Now)
	a, b := newPartnerKey(t, "a"), newPartnerKey(t, "b")
	for _, k := range []partnerKey{a, b, a} {
		keys, err := cache.keys(t.Context(), storage.Client{ID: "p", JWKS: k.jwks}, "")
		if err != nil || len(keys) != 1 || keys[0].KeyID != k.kid {
			t.Errorf("keys %v, %v: want %s", keys, err, k.kid)
		}
	}
	if _, err := cache.keys(t.Context(), storage.Client{ID: "p"}, ""); err == nil {
		t.Error("a client without keys got keys")
	}
}

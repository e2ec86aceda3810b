package ssf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"tsubasa/provider/outbound"
	"tsubasa/storage"
)

// testSigner signs with an ES256 key of its own and names subjects
// "pairwise-" + member, as the provider would for a third party.
type testSigner struct{ key *ecdsa.PrivateKey }

func (s testSigner) SETSubject(_ context.Context, clientID, memberID string) (string, error) {
	if clientID == "gone" {
		return "", ErrUndeliverable
	}
	return "pairwise-" + memberID, nil
}

func (s testSigner) SignSET(claims []byte) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key}, (&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		return "", err
	}
	jws, err := sig.Sign(claims)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// receiver is an RFC 8935 receiver answering the statuses it is given.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []*http.Request
	bodies   []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got, r.bodies = append(r.got, req), append(r.bodies, string(b))
	st := http.StatusAccepted
	if len(r.statuses) > 0 {
		st, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	if st == http.StatusBadRequest {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = w.Write([]byte(`{"err":"invalid_audience","description":"not for us"}`))
		return
	}
	w.WriteHeader(st)
}

func newTransmitter(t *testing.T, allowPrivate bool) (*Transmitter, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seal := bytes.Repeat([]byte{7}, 32)
	c := outbound.New(outbound.Options{Timeout: 5 * time.Second, MaxBytes: 1 << 16, AllowPrivateNetworks: allowPrivate})
	now := func() time.Time { return time.Unix(1_800_000_100, 0) }
	return NewTransmitter("https://id.example", testSigner{k}, c, seal, now), k, seal
}

func stream(t *testing.T, url string, seal []byte, requested ...string) storage.Webhook {
	t.Helper()
	sealed, err := Seal(seal, "ssf_1", "Bearer partner-token")
	if err != nil {
		t.Fatal(err)
	}
	return storage.Webhook{ID: "ssf_1", URL: url, Events: AuditTypes(requested),
		SSF: &storage.SSFStream{ClientID: "partner", Audience: "https://partner.example", EventsRequested: requested,
			AuthorizationSealed: sealed}}
}

// TestDeliverPushesASignedSET: a requested event goes out as one POST of
// application/secevent+jwt with the configured Authorization, a JWS the
// key verifies, typ secevent+jwt, and the claims doc.go names.
func TestDeliverPushesASignedSET(t *testing.T) {
	tr, key, seal := newTransmitter(t, true)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	if err := tr.Deliver(t.Context(), stream(t, srv.URL, seal, EventCredentialChange), body("passkey.added", nil)); err != nil {
		t.Fatal(err)
	}
	if len(rcv.got) != 1 {
		t.Fatalf("%d requests, want 1", len(rcv.got))
	}
	req := rcv.got[0]
	if req.Header.Get("Content-Type") != "application/secevent+jwt" || req.Header.Get("Authorization") != "Bearer partner-token" ||
		req.Header.Get("Accept") != "application/json" {
		t.Errorf("headers: %v", req.Header)
	}
	jws, err := jose.ParseSignedCompact(rcv.bodies[0], []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(&key.PublicKey)
	if err != nil || jws.Signatures[0].Header.ExtraHeaders["typ"] != "secevent+jwt" {
		t.Fatalf("verify: %v, header %v", err, jws.Signatures[0].Header)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	want := Claims{Issuer: "https://id.example", JTI: "ev1", IssuedAt: 1_800_000_100, Audience: "https://partner.example",
		SubID: SubjectID{Format: "iss_sub", Issuer: "https://id.example", Subject: "pairwise-m1"},
		Events: map[string]map[string]any{EventCredentialChange: {"credential_type": "fido2-platform", "change_type": "create",
			"event_timestamp": float64(1_800_000_000), "initiating_entity": "user"}}}
	if got, _ := json.Marshal(c); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("claims %s, want %s", got, must(json.Marshal(want)))
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestDeliverOutcomes: an event the stream did not request sends
// nothing; 400 (with the receiver's err) and 401 are undeliverable; 500
// and 429 are retried; a gone client and a refused private address are
// undeliverable.
func TestDeliverOutcomes(t *testing.T) {
	tr, _, seal := newTransmitter(t, true)
	rcv := &receiver{statuses: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusInternalServerError,
		http.StatusTooManyRequests}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	st := stream(t, srv.URL, seal, EventAccountDisabled)
	if err := tr.Deliver(t.Context(), st, body("member.status_changed", map[string]string{"status": "active"})); err != nil || len(rcv.got) != 0 {
		t.Errorf("an unrequested account-enabled: %v, %d requests", err, len(rcv.got))
	}
	disabled := body("member.status_changed", map[string]string{"status": "disabled"})
	for i, want := range []bool{true, true, false, false} {
		err := tr.Deliver(t.Context(), st, disabled)
		if err == nil || errors.Is(err, ErrUndeliverable) != want {
			t.Errorf("answer %d: %v, undeliverable want %v", i, err, want)
		}
	}
	if len(rcv.got) != 4 {
		t.Errorf("%d requests for 4 deliveries", len(rcv.got))
	}
	gone := st
	gone.SSF = &storage.SSFStream{ClientID: "gone", EventsRequested: st.SSF.EventsRequested}
	if err := tr.Deliver(t.Context(), gone, disabled); !errors.Is(err, ErrUndeliverable) {
		t.Errorf("a gone client: %v", err)
	}
	strict, _, _ := newTransmitter(t, false)
	if err := strict.Deliver(t.Context(), st, disabled); !errors.Is(err, ErrUndeliverable) {
		t.Errorf("a private address: %v, want ErrUndeliverable", err)
	}
}

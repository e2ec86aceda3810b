package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// SETReceiver is a partner's Shared Signals push endpoint (RFC 8935): an
// httptest server that checks every request as a receiver must (a POST
// of application/secevent+jwt with the Authorization it expects; a JWS
// whose kid is in the transmitter's JWKS, found through
// /.well-known/ssf-configuration, that verifies under it; typ
// secevent+jwt), keeps them all, and answers with the statuses it is
// told, then 202.
type SETReceiver struct {
	URL  string
	Auth string // the Authorization header it expects

	issuer string
	answerScript
	mu  sync.Mutex
	got []SET
}

// SET is one request the receiver got.
type SET struct {
	Raw     string
	Payload string // the verified claims' JSON
	Header  jose.Header
	Claims  SETClaims
	Status  int   // what the receiver answered
	Err     error // why it failed the receiver's checks; nil when it passed
}

// SETClaims are the claims a receiver reads (RFC 8417, SSF 1.0, RFC 9493).
type SETClaims struct {
	Issuer   string `json:"iss"`
	JTI      string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	Audience string `json:"aud"`
	SubID    struct {
		Format  string `json:"format"`
		Issuer  string `json:"iss"`
		Subject string `json:"sub"`
	} `json:"sub_id"`
	Events map[string]map[string]any `json:"events"`
}

// NewSETReceiver starts a receiver for the transmitter at s, closed when t ends.
func NewSETReceiver(t *testing.T, s *Server, auth string) *SETReceiver {
	t.Helper()
	r := &SETReceiver{Auth: auth, issuer: s.Issuer}
	r.init()
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() { r.Release(); srv.Close() })
	r.URL = srv.URL + "/ssf/events"
	return r
}

func (r *SETReceiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
	set := SET{Raw: string(raw)}
	set.Status, _ = r.next()
	if set.Status == http.StatusOK {
		set.Status = http.StatusAccepted
	}
	switch {
	case req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/secevent+jwt":
		set.Err = errors.New("not a POST of application/secevent+jwt")
	case req.Header.Get("Authorization") != r.Auth:
		set.Err = fmt.Errorf("authorization %q", req.Header.Get("Authorization"))
	default:
		set.Header, set.Payload, set.Err = r.verify(string(raw), &set.Claims)
	}
	r.mu.Lock()
	r.got = append(r.got, set)
	r.mu.Unlock()
	w.WriteHeader(set.Status)
}

// verify checks the SET's signature against the transmitter's published
// keys and its typ, and reads its claims.
func (r *SETReceiver) verify(raw string, claims *SETClaims) (jose.Header, string, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil {
		return jose.Header{}, "", err
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "secevent+jwt" {
		return h, "", fmt.Errorf("typ %v", h.ExtraHeaders["typ"])
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(r.issuer+"/.well-known/ssf-configuration", &meta); err != nil {
		return h, "", err
	}
	var set jose.JSONWebKeySet
	if err := getJSON(meta.JWKSURI, &set); err != nil {
		return h, "", err
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return h, "", fmt.Errorf("kid %q: %d published keys", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return h, "", err
	}
	return h, string(payload), json.Unmarshal(payload, claims)
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Received returns every request so far, retries included.
func (r *SETReceiver) Received() []SET {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SET(nil), r.got...)
}

// Accepted returns the SETs the receiver processed: verified, answered
// 2xx, each jti once (the first), in arrival order.
func (r *SETReceiver) Accepted() []SET {
	seen := map[string]bool{}
	var out []SET
	for _, s := range r.Received() {
		if s.Err == nil && s.Status/100 == 2 && !seen[s.Claims.JTI] {
			seen[s.Claims.JTI] = true
			out = append(out, s)
		}
	}
	return out
}

// EventType is the SET's one event type ("" unless it has exactly one).
func (s SET) EventType() string {
	if len(s.Claims.Events) != 1 {
		return ""
	}
	for uri := range s.Claims.Events {
		return uri
	}
	return ""
}

// WaitEvents waits until the accepted SETs' event types hold uris (in
// this order, as a subsequence), failing t after timeout, and returns
// the accepted SETs.
func (r *SETReceiver) WaitEvents(t *testing.T, timeout time.Duration, uris ...string) []SET {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		var got []string
		acc := r.Accepted()
		for _, s := range acc {
			got = append(got, s.EventType())
		}
		if subsequence(got, uris) {
			return acc
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver accepted %q in %s, want %q in this order (requests: %d)", got, timeout, uris, len(r.Received()))
		}
	}
}

package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/webhook"
)

// WebhookReceiver is a back office's webhook endpoint: an httptest
// server that verifies every delivery as a receiver must (Standard
// Webhooks, with provider/webhook.Verify and, independently, the spec's
// HMAC-SHA256 over id.timestamp.body written out here), keeps them all,
// answers with the statuses it is told (then 200) and can hold its
// answers, as a slow receiver would.
type WebhookReceiver struct {
	URL    string
	Secret string // set by Subscribe

	answerScript
	mu       sync.Mutex
	got      []Delivery
	inflight int // requests not yet answered nor abandoned
}

// Delivery is one request the receiver got.
type Delivery struct {
	Header http.Header
	Raw    []byte
	Body   WebhookBody
	Status int   // what the receiver answered
	Err    error // the verification's failure, nil when it passed both checks
}

// WebhookBody is the JSON of a delivery as the README documents it.
type WebhookBody struct {
	Type      string    `json:"type"`
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		MemberID string            `json:"member_id"`
		ClientID string            `json:"client_id"`
		DeviceID string            `json:"device_id"`
		Method   string            `json:"method"`
		Success  bool              `json:"success"`
		Reason   string            `json:"reason"`
		IP       string            `json:"ip"`
		Detail   map[string]string `json:"detail"`
	} `json:"data"`
}

// NewWebhookReceiver starts a receiver, closed when t ends.
func NewWebhookReceiver(t *testing.T) *WebhookReceiver {
	t.Helper()
	r := &WebhookReceiver{}
	r.init()
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() { r.Release(); srv.Close() })
	r.URL = srv.URL + "/hooks"
	return r
}

func (r *WebhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
	d := Delivery{Header: req.Header.Clone(), Raw: raw}
	var hold <-chan struct{}
	d.Status, hold = r.next()
	r.mu.Lock()
	d.Err = VerifyDelivery(d.Header, r.Secret, raw, time.Now())
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		d.Err = errNotJSONPost
	}
	if err := json.Unmarshal(raw, &d.Body); err != nil && d.Err == nil {
		d.Err = err
	}
	r.got = append(r.got, d)
	r.inflight++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inflight--
		r.mu.Unlock()
	}()
	select {
	case <-hold:
	case <-req.Context().Done():
		return
	}
	w.WriteHeader(d.Status)
}

type receiverError string

func (e receiverError) Error() string { return string(e) }

const (
	errNotJSONPost  = receiverError("not a JSON POST")
	errIndependent  = receiverError("the independent HMAC-SHA256 check failed")
	errIDMismatched = receiverError("webhook-id is not the body's id")
)

// VerifyDelivery is a receiver's check: provider/webhook.Verify (five
// minutes' tolerance), then the same signature computed here from the
// Standard Webhooks specification alone, and webhook-id equal to the
// body's id (what a receiver de-duplicates on).
func VerifyDelivery(h http.Header, secret string, body []byte, now time.Time) error {
	if err := webhook.Verify(h, secret, body, now, 5*time.Minute); err != nil {
		return err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	found := false
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		found = found || hmac.Equal([]byte(s), []byte(want))
	}
	if !found {
		return errIndependent
	}
	var b struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &b) != nil || b.ID != h.Get("webhook-id") {
		return errIDMismatched
	}
	return nil
}

// Subscribe subscribes the receiver to events through the admin API and
// keeps the secret it answers with.
func (r *WebhookReceiver) Subscribe(t *testing.T, s *Server, events ...string) adminapi.WebhookOutput {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": r.URL, "events": events})
	a := AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/webhooks", OpsToken(t, s), string(body))
	var out adminapi.WebhookOutput
	if a.JSON(t, &out); a.Status != http.StatusCreated || out.Secret == "" {
		t.Fatalf("subscribing %s: %d %s", r.URL, a.Status, a.Body)
	}
	r.mu.Lock()
	r.Secret = out.Secret
	r.mu.Unlock()
	return out
}

// InFlight is the number of requests the receiver holds: arrived, not
// yet answered, their sender still waiting.
func (r *WebhookReceiver) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight
}

// Received returns every request so far, retries and duplicates included.
func (r *WebhookReceiver) Received() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Accepted returns the deliveries the receiver processed: verified,
// answered 2xx, and each webhook-id once (the first), in arrival order:
// what a receiver that de-duplicates sees.
func (r *WebhookReceiver) Accepted() []Delivery {
	seen := map[string]bool{}
	var out []Delivery
	for _, d := range r.Received() {
		id := d.Header.Get("webhook-id")
		if d.Err != nil || d.Status/100 != 2 || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, d)
	}
	return out
}

// WaitTypes waits until the accepted deliveries about member hold types
// (in this order, as a subsequence), failing t after timeout, and returns
// the accepted deliveries about the member.
func (r *WebhookReceiver) WaitTypes(t *testing.T, member string, timeout time.Duration, types ...string) []Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var mine []Delivery
		var got []string
		for _, d := range r.Accepted() {
			if d.Body.Data.MemberID == member {
				mine = append(mine, d)
				got = append(got, d.Body.Type)
			}
		}
		if subsequence(got, types) {
			return mine
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver accepted %v about member %s in %s, want %v in this order (all requests: %d)",
				got, member, timeout, types, len(r.Received()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitCreated waits for the first accepted member.created delivery (the
// test creates one member after subscribing) and returns its member id.
func (r *WebhookReceiver) WaitCreated(t *testing.T, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, d := range r.Accepted() {
			if d.Body.Type == "member.created" && d.Body.Data.MemberID != "" {
				return d.Body.Data.MemberID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no member.created delivery accepted in %s (requests: %d)", timeout, len(r.Received()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

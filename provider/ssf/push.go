package ssf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"tsubasa/provider/outbound"
	"tsubasa/storage"
)

// ErrUndeliverable marks a SET no retry can deliver: the receiver refused
// it (400 per RFC 8935 §2.3, or another 4xx but 408 and 429), its address
// is one the server may not call, or the stream cannot name the member
// (its client is gone: Signer wraps that in ErrUndeliverable). Other
// errors are temporary.
var ErrUndeliverable = errors.New("ssf: undeliverable")

// Signer is what the provider does for a SET: the subject a client sees
// for a member, and the signature.
type Signer interface {
	SETSubject(ctx context.Context, clientID, memberID string) (string, error)
	SignSET(claims []byte) (string, error)
}

// Transmitter builds, signs and pushes a stream's SETs.
type Transmitter struct {
	issuer string
	signer Signer
	client *outbound.Client
	key    []byte
	now    func() time.Time
}

// NewTransmitter returns a Transmitter for issuer; key opens the streams'
// sealed Authorization headers; now is the clock of iat (nil: time.Now).
func NewTransmitter(issuer string, signer Signer, client *outbound.Client, key []byte, now func() time.Time) *Transmitter {
	if now == nil {
		now = time.Now
	}
	return &Transmitter{issuer: issuer, signer: signer, client: client, key: key, now: now}
}

// Deliver sends stream sub the SET of the audit event b, when b maps to
// an event the stream requested (doc.go); otherwise there is nothing to
// send and it returns nil.
func (t *Transmitter) Deliver(ctx context.Context, sub storage.Webhook, b storage.WebhookBody) error {
	st := sub.SSF
	if st == nil {
		return fmt.Errorf("%w: %s is not a stream", ErrUndeliverable, sub.ID)
	}
	uri, event, ok := Event(b)
	if !ok || !slices.Contains(st.EventsRequested, uri) || b.Data.MemberID == "" {
		return nil
	}
	subject, err := t.signer.SETSubject(ctx, st.ClientID, b.Data.MemberID)
	if err != nil {
		return err
	}
	claims, err := NewClaims(t.issuer, st.Audience, b.ID, subject, uri, event, t.now()).JSON()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUndeliverable, err)
	}
	set, err := t.signer.SignSET(claims)
	if err != nil {
		return err
	}
	auth, err := Open(t.key, sub.ID, st.AuthorizationSealed)
	if err != nil {
		return fmt.Errorf("%w: stream %s: %w", ErrUndeliverable, sub.ID, err)
	}
	return t.push(ctx, sub.ID, sub.URL, auth, set)
}

// push POSTs one SET (RFC 8935 §2).
func (t *Transmitter) push(ctx context.Context, id, url, auth, set string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(set))
	if err != nil {
		return fmt.Errorf("%w: stream %s: %w", ErrUndeliverable, id, err)
	}
	req.Header.Set("Content-Type", "application/secevent+jwt")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Tsubasa-SSF/1")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	ans, err := t.client.Do(req)
	switch {
	case err == nil && ans.Delivered():
		return nil
	case err != nil && outbound.FailsForGood(ctx, ans, err):
		return fmt.Errorf("%w: stream %s: %w", ErrUndeliverable, id, err)
	case err != nil:
		return fmt.Errorf("ssf: stream %s: %w", id, err)
	case outbound.FailsForGood(ctx, ans, nil):
		return fmt.Errorf("%w: stream %s: the receiver answered %d%s", ErrUndeliverable, id, ans.Status, setError(ans.Body))
	default:
		return fmt.Errorf("ssf: stream %s: the receiver answered %d", id, ans.Status)
	}
}

// setError is the error code a receiver's 400 names (RFC 8935 §2.4: err,
// one of the registered codes), for the log; the description is the
// receiver's free text and stays out.
func setError(body []byte) string {
	var e struct {
		Err string `json:"err"`
	}
	if json.Unmarshal(body, &e) != nil || e.Err == "" || len(e.Err) > 40 || strings.ContainsFunc(e.Err, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z')
	}) {
		return ""
	}
	return " (" + e.Err + ")"
}

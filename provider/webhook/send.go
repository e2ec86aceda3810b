package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"tsubasa/provider/outbound"
)

// ErrUndeliverable marks a delivery that no retry can make succeed: the
// receiver refused it (a 4xx other than 408 and 429), or its address is
// one the server may not call. Other errors are temporary.
var ErrUndeliverable = errors.New("webhook: undeliverable")

// Sender POSTs signed deliveries through an SSRF-safe client
// (provider/outbound: special-use addresses refused unless allowed,
// timeouts, a bounded answer).
type Sender struct {
	client *outbound.Client
	key    []byte
	now    func() time.Time
}

// NewSender returns a Sender over client; key is the server's webhook key
// (SecretFor derives each subscription's secret from it); now is the
// clock of the signatures' timestamps (nil: time.Now).
func NewSender(client *outbound.Client, key []byte, now func() time.Time) *Sender {
	if now == nil {
		now = time.Now
	}
	return &Sender{client: client, key: key, now: now}
}

// Send POSTs body (application/json) to url for subscription subID, as
// message id, signed now: each try carries a fresh timestamp, so a retry
// hours later is not refused as a replay. A 2xx is delivered.
func (s *Sender) Send(ctx context.Context, subID, url, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: subscription %s: %w", ErrUndeliverable, subID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tsubasa-Webhooks/1")
	if err := Sign(req.Header, SecretFor(s.key, subID), id, s.now(), body); err != nil {
		return err
	}
	ans, err := s.client.Do(req)
	switch {
	case err == nil && ans.Delivered():
		return nil
	case err != nil && outbound.FailsForGood(ctx, ans, err):
		return fmt.Errorf("%w: subscription %s: %w", ErrUndeliverable, subID, err)
	case err != nil:
		return fmt.Errorf("webhook: subscription %s: %w", subID, err)
	case outbound.FailsForGood(ctx, ans, nil):
		return fmt.Errorf("%w: subscription %s: the receiver answered %d", ErrUndeliverable, subID, ans.Status)
	default:
		return fmt.Errorf("webhook: subscription %s: the receiver answered %d", subID, ans.Status)
	}
}

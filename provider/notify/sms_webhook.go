package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// WebhookSender posts each SMS as JSON to a gateway the operator runs:
//
//	POST <url>
//	Authorization: Bearer <token>
//	Idempotency-Key: <same value on every retry of one SMS>
//	{"to":"+819012345678","body":"...","purpose":"otp","locale":"ja"}
//
// Any 2xx means sent.
type WebhookSender struct {
	url   string
	token string
	http  httpPoster
}

var _ SMSSender = (*WebhookSender)(nil)

// NewWebhookSender returns a sender for url. A nil client gets one with
// DefaultHTTPTimeout; an empty bearerToken sends no Authorization header.
func NewWebhookSender(url, bearerToken string, client *http.Client) (*WebhookSender, error) {
	if err := checkBaseURL(url); err != nil {
		return nil, fmt.Errorf("notify: sms webhook: %w", err)
	}
	return &WebhookSender{url: url, token: bearerToken, http: newHTTPPoster("sms webhook", client)}, nil
}

type webhookBody struct {
	To      string `json:"to"`
	Body    string `json:"body"`
	Purpose string `json:"purpose"`
	Locale  string `json:"locale"`
}

// SendSMS posts s, retrying 5xx answers and transport errors up to three
// tries in all while ctx allows. A 4xx other than 408/429 is permanent.
func (w *WebhookSender) SendSMS(ctx context.Context, s SMS) error {
	payload, err := json.Marshal(webhookBody(s))
	if err != nil {
		return Permanent(fmt.Errorf("notify: sms webhook: %w", err))
	}
	// Lets the gateway drop a retry of a post it did receive.
	key := rand.Text()
	return w.http.post(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "tsubasa-notify")
		req.Header.Set("Idempotency-Key", key)
		if w.token != "" {
			req.Header.Set("Authorization", "Bearer "+w.token)
		}
		return req, nil
	})
}

package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Webhook is a back office's subscription to member events (the admin API's
// admin:webhooks): deliveries of the audit events whose types it names go
// to URL, signed with a secret derived from the server's key and ID
// (provider/webhook), so that nothing secret is stored.
type Webhook struct {
	ID  string
	URL string
	// Events are the audit event types delivered (login.succeeded,
	// member.created …), in the order given; never empty.
	Events    []string
	CreatedAt time.Time
	// SSF, when set, makes the subscription an OpenID Shared Signals
	// stream (provider/ssf): its deliveries go out as Security Event
	// Tokens pushed to URL (RFC 8935) rather than as Standard Webhooks,
	// and Events are the audit types its requested SET events map from.
	// The outbox messages are the same (WebhookMessages).
	SSF *SSFStream `json:",omitempty"`
}

// SSFStream is what a Shared Signals stream adds to a subscription.
type SSFStream struct {
	// ClientID is the partner client the stream belongs to: each SET
	// names the member by the subject that client sees (pairwise for a
	// third party).
	ClientID string
	// Audience is the SETs' aud.
	Audience string
	// EventsRequested are the SET event type URIs the partner asked for,
	// in the order given.
	EventsRequested []string
	Description     string `json:",omitempty"`
	// AuthorizationSealed is the Authorization header the receiver wants,
	// encrypted under a key derived from the server's key (provider/ssf):
	// empty when none.
	AuthorizationSealed string `json:",omitempty"`
}

// Webhooks stores the subscriptions.
type Webhooks interface {
	// CreateWebhook stores a new subscription; ErrAlreadyExists when its
	// id is taken.
	CreateWebhook(ctx context.Context, w Webhook) error
	WebhookByID(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns every subscription, by id.
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook deletes one; ErrNotFound when there is none.
	DeleteWebhook(ctx context.Context, id string) error
}

// ChannelWebhook is the outbox channel of webhook deliveries: To is the
// subscription's id, Text the JSON body (WebhookBody), OrderKey the
// subscription and the member, so that a member's events reach each
// receiver in order (see OutboxMessage.OrderKey).
const ChannelWebhook = "webhook"

// WebhookBody is the JSON a receiver gets: the event's type, its id (the
// same as the webhook-id header, for de-duplication) and time, and the
// data a back office acts on.
type WebhookBody struct {
	Type      string      `json:"type"`
	ID        string      `json:"id"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what goes out about an event. It holds no secret (the
// audit trail stores none) and, of personal data, only the member's id
// and where the request came from (address and country), which the
// programme's fraud desk needs to act on a "this wasn't me" or a lockout:
// no name, mail address or telephone number, not even a changed one.
type WebhookData struct {
	MemberID string            `json:"member_id,omitempty"`
	ClientID string            `json:"client_id,omitempty"`
	DeviceID string            `json:"device_id,omitempty"`
	Method   string            `json:"method,omitempty"`
	Success  bool              `json:"success"`
	Reason   string            `json:"reason,omitempty"`
	IP       string            `json:"ip,omitempty"`
	Country  string            `json:"country,omitempty"`
	Detail   map[string]string `json:"detail,omitempty"`
}

// webhookDetail are the Detail names that go out: what changed (field,
// status, scope, reason), who changed it (by) and, for alert.queued, which
// alert (kind: a new device's login alert or a newly linked app's), so a
// receiver can tell a new device from an app link; never a value a
// member typed, such as a new address ("to").
var webhookDetail = []string{"field", "status", "scope", "reason", "by", "kind"}

// WebhookMessages returns the outbox messages of e, one per subscription
// in subs that asks for its type: what a backend writes in the commit
// that appends e (in one place per backend), so that a crash loses none
// and a rolled-back event queues nothing.
func WebhookMessages(subs []Webhook, e Event) ([]OutboxMessage, error) {
	var out []OutboxMessage
	var body []byte
	for _, w := range subs {
		if !slices.Contains(w.Events, e.Type) {
			continue
		}
		if body == nil {
			var err error
			if body, err = json.Marshal(webhookBody(e)); err != nil {
				return nil, fmt.Errorf("storage: webhook body of %s: %w", e.ID, err)
			}
		}
		m := OutboxMessage{
			ID: e.ID + "." + w.ID, Channel: ChannelWebhook, To: w.ID, Text: string(body),
			Purpose: e.Type, State: OutboxPending,
			NextAttemptAt: e.Time.UTC(), CreatedAt: e.Time.UTC(),
		}
		if e.MemberID != "" {
			m.OrderKey = w.ID + "/" + e.MemberID
		}
		out = append(out, m)
	}
	return out, nil
}

func webhookBody(e Event) WebhookBody {
	d := WebhookData{MemberID: e.MemberID, ClientID: e.ClientID, DeviceID: e.DeviceID,
		Method: e.Method, Success: e.Success, Reason: e.Reason, IP: e.IP, Country: e.Place.Country}
	for _, k := range webhookDetail {
		if v, ok := e.Detail[k]; ok {
			if d.Detail == nil {
				d.Detail = map[string]string{}
			}
			d.Detail[k] = v
		}
	}
	return WebhookBody{Type: e.Type, ID: e.ID, Timestamp: e.Time.UTC(), Data: d}
}

// ParseWebhookBody reads the body of a ChannelWebhook message.
func ParseWebhookBody(m OutboxMessage) (WebhookBody, error) {
	var b WebhookBody
	if err := json.Unmarshal([]byte(m.Text), &b); err != nil || b.ID == "" {
		return b, fmt.Errorf("storage: outbox message %s: not a webhook body", m.ID)
	}
	return b, nil
}

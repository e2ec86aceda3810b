// Package webhook owns how Tsubasa signs the webhooks it sends to the
// back office's receivers (the admin:webhooks subscriptions): the
// Standard Webhooks convention (https://www.standardwebhooks.com/),
// version 1, which Svix and others follow and which is close to Stripe's.
//
// Every delivery carries three headers:
//
//	webhook-id:        the event's id, the same on every retry: a
//	                   receiver de-duplicates on it (delivery is at
//	                   least once)
//	webhook-timestamp: when this try was signed, in Unix seconds: a
//	                   receiver refuses one too far from its clock
//	                   (replays)
//	webhook-signature: "v1," and the base64 HMAC-SHA256, under the
//	                   subscription's secret, of id "." timestamp "." body
//
// A subscription's secret is "whsec_" and the base64 of 32 bytes derived
// from the server's key and the subscription's id (SecretFor), so nothing
// secret is stored: it is shown once, when the subscription is made, and
// derived again at each delivery.
//
// Sender delivers: a POST of the JSON body through provider/outbound
// (special-use addresses refused unless outbound.allow_private_networks,
// a timeout, a bounded answer), signed at each try. A 2xx is delivered;
// a 4xx other than 408 and 429, or a refused address, is ErrUndeliverable
// (no retry helps); anything else is temporary, and the outbox retries it
// with backoff. Which events are queued, and their order, are storage's
// (storage.WebhookMessages, OutboxMessage.OrderKey); the outbox worker
// calls the sender (cmd wires it).
package webhook

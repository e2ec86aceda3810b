// Package ssf owns Tsubasa's OpenID Shared Signals Framework 1.0
// transmitter: the member events a partner's stream asks for, sent as
// Security Event Tokens (RFC 8417) by push delivery (RFC 8935), written
// from those specifications, CAEP 1.0, RISC 1.0 and RFC 9493.
//
// A stream is a webhook subscription with stream settings
// (storage.Webhook.SSF): the admin API creates, reads and deletes it
// (scope admin:webhooks, the same trust as a webhook: where member
// events flow), for one partner client. Storage queues its deliveries
// exactly as a webhook's, in the commit that stores the audit event
// (storage.WebhookMessages: Events are the audit types the requested
// SET events map from), so a stream inherits the outbox's guarantees:
// durable, retried with backoff, in order per member, at least once.
//
// At delivery (Deliver, called by the outbox worker through cmd) the
// audit event becomes one SET, or none when it maps to no event the
// stream requested (an account enabled, for a stream that asked only for
// account-disabled: the message is done):
//
//	audit event                         SET event (events claim)
//	password.changed                    CAEP credential-change  credential_type password, change_type update
//	passkey.added                       CAEP credential-change  credential_type fido2-platform, change_type create
//	passkey.removed                     CAEP credential-change  credential_type fido2-platform, change_type delete
//	sessions.revoked                    CAEP session-revoked
//	member.status_changed disabled      RISC account-disabled
//	member.status_changed locked        RISC account-disabled
//	member.status_changed active        RISC account-enabled
//	member.erased                       RISC account-purged
//	contact.changed                     RISC identifier-changed (never the new value)
//
// Passkeys are named fido2-platform: most are synced platform
// credentials, and the audit trail does not record the attachment. CAEP
// events carry event_timestamp (the audit event's time) and
// initiating_entity (admin when the back office made the change, else
// user).
//
// Each SET: iss the issuer, aud the stream's audience, jti the audit
// event's id (the same on every retry, for de-duplication), iat when it
// was signed, sub_id an RFC 9493 iss_sub pair (the issuer and the
// subject the stream's client sees: pairwise for a third party, as in
// its ID tokens), and events. It names no contact and holds no secret:
// the audit trail holds none, and the webhook body it is made from
// carries no contact. It is signed by the provider's signing keys (the
// JWKS), typ secevent+jwt.
//
// Push (RFC 8935): POST application/secevent+jwt to the stream's
// endpoint through provider/outbound (special-use addresses refused
// unless outbound.allow_private_networks), with the Authorization header
// the partner configured, stored sealed (AES-256-GCM under a key derived
// from the server's key, bound to the stream's id) and shown never
// again. A 2xx is delivered (202 is RFC 8935's); 400 (the receiver's
// SET error, RFC 8935 §2.3) and other 4xx but 408 and 429 are
// ErrUndeliverable; anything else is retried.
//
// Configuration serves /.well-known/ssf-configuration: only what is
// built (push delivery, the configuration endpoint, every subject).
package ssf

package storage

import (
	"context"
	"time"
)

// Event is an entry of the append-only audit log.
type Event struct {
	ID        string // unique and ordered by time (audit.NewID)
	Time      time.Time
	Type      string // e.g. login.succeeded, otp.sent, password.changed
	MemberID  string
	ClientID  string
	DeviceID  string
	IP        string
	UserAgent string
	Method    string // pwd, pin, otp, passkey …
	Success   bool
	Reason    string
	Detail    map[string]string
	// Place is where IP was, roughly, at the time (GeoIP); zero when unknown.
	Place Place
}

// Events is the append-only audit log.
type Events interface {
	// AppendEvent adds an event. A unit holds it (see Units).
	AppendEvent(ctx context.Context, e Event) error
	// ListEvents returns a member's events, newest first, at most limit.
	ListEvents(ctx context.Context, memberID string, limit int) ([]Event, error)
}

// EventRetention deletes events past the audit log's retention.
type EventRetention interface {
	// DeleteEventsBefore deletes events whose Time is before cutoff,
	// except those whose Type is in keep, oldest first, at most limit of
	// them (limit must be positive: one call is one bounded commit), and
	// returns how many. A caller deletes the rest by calling again until
	// it gets less than limit. The backend walks the log in its time
	// order without reading what is younger than cutoff: bbolt by event
	// ID, which audit.NewID makes the time order (an event whose ID sorts
	// after a younger one's may then be deleted a run late, never one
	// inside the retention early), PostgreSQL by an index on the time.
	// What is left of a member's log reads as before: ListEvents, and
	// ListEventsBefore from a position that names a deleted event.
	DeleteEventsBefore(ctx context.Context, cutoff time.Time, keep []string, limit int) (int, error)
}

// Outbox message states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// ChannelBackchannelLogout is the outbox channel of back-channel logout
// tokens (OpenID Connect Back-Channel Logout 1.0): To is the client's id,
// Text the JSON of BackchannelLogout; the token itself is signed when it
// is sent, so that a retry carries a fresh one.
const ChannelBackchannelLogout = "backchannel_logout"

// BackchannelLogout is what an outbox message of ChannelBackchannelLogout
// holds: the member and the session that ended.
type BackchannelLogout struct {
	MemberID  string `json:"member_id"`
	SessionID string `json:"sid"`
}

// OutboxMessage is a mail or SMS waiting for (or done with) delivery by the
// background worker.
type OutboxMessage struct {
	ID            string
	Channel       string // ChannelEmail, ChannelSMS, ChannelBackchannelLogout or ChannelWebhook
	To            string
	Subject       string
	Text          string
	HTML          string
	Purpose       string
	Locale        string
	State         string
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	CreatedAt     time.Time
	SentAt        time.Time
	ExpiresAt     time.Time // when a sent or failed message may be deleted; zero = keep
	// OrderKey, when set, orders delivery: ClaimDueMessages does not
	// hand out a message while an earlier one (by CreatedAt, then ID)
	// with the same key is pending, on any process. A message that
	// fails for good stops being pending and so unblocks the next.
	// Webhooks use the subscription and the member.
	OrderKey string
}

// Outbox is the durable queue of notifications.
type Outbox interface {
	EnqueueMessage(ctx context.Context, m OutboxMessage) error
	// DueMessages returns pending messages whose NextAttemptAt is not after
	// now, oldest first (by NextAttemptAt, then CreatedAt), at most limit.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]OutboxMessage, error)
	// ClaimDueMessages is DueMessages for one worker among several (in
	// any number of processes): it returns what DueMessages would and, in
	// the same step, moves each message's NextAttemptAt to leaseUntil, so
	// that no caller gets it again before then. Concurrent callers get
	// disjoint messages. A worker records the outcome with
	// UpdateOutboxMessage before leaseUntil; one that stops half-way
	// leaves its messages due again at leaseUntil. The messages are
	// returned as stored after the claim. leaseUntil must be after now.
	// A message with an OrderKey is claimed only when no earlier pending
	// message has the same key (see OutboxMessage.OrderKey).
	ClaimDueMessages(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]OutboxMessage, error)
	OutboxMessageByID(ctx context.Context, id string) (OutboxMessage, error)
	UpdateOutboxMessage(ctx context.Context, id string, fn func(OutboxMessage) (OutboxMessage, error)) error
}

// LoginRecord is everything a login writes, committed together so that an
// alert can never be lost nor sent for a login that was not recorded.
type LoginRecord struct {
	Event  Event
	Device *Device        // inserted or replaced when set
	Alert  *OutboxMessage // enqueued when set
}

// Logins records logins atomically across roles.
type Logins interface {
	// RecordLogin stores the record in one commit. A unit holds it when
	// it has no Alert (see Units).
	RecordLogin(ctx context.Context, rec LoginRecord) error
}

// MemberEvents updates a member and appends audit events about the update
// in one commit: both or neither. A successful login clears the failure
// count and records that the password was right with one commit (and one
// fsync) instead of two.
type MemberEvents interface {
	// UpdateMemberWithEvents is UpdateMember, and appends events (as
	// AppendEvent) when fn succeeds. An event id already taken aborts the
	// whole call with ErrAlreadyExists.
	UpdateMemberWithEvents(ctx context.Context, id string, fn func(Member) (Member, error), events ...Event) error
}

// Janitor removes expired records.
type Janitor interface {
	// DeleteExpired deletes every record whose ExpiresAt is not after now
	// (auth requests, codes, tokens, sessions, OTPs, finished outbox
	// messages, pushed authorization requests, used jtis, throttles,
	// single-use claims, lapsed counts of login attempts, idempotency
	// records, jobs) and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

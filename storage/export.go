package storage

import (
	"context"
	"time"
)

// Kind names a kind of record that Exporter and Importer move between
// backends (tsubasa migrate-storage: a programme that outgrows one box
// copies its bolt file into PostgreSQL).
type Kind string

// The kinds that move, in the order a copy takes them. Authorization
// requests and their codes do not move: they are logins in progress,
// minutes long, and a member whose login is cut by the move starts it
// again.
const (
	KindSecrets     Kind = "secrets"      // NamedSecret
	KindKeys        Kind = "keys"         // SigningKey
	KindClients     Kind = "clients"      // Client
	KindMembers     Kind = "members"      // Member (password and PIN hashes included)
	KindPasskeys    Kind = "passkeys"     // Passkey
	KindDevices     Kind = "devices"      // Device
	KindConsents    Kind = "consents"     // Consent
	KindSessions    Kind = "sessions"     // Session
	KindTokens      Kind = "tokens"       // Token
	KindRevocations Kind = "revocations"  // Revocation
	KindOTPs        Kind = "otps"         // OTP
	KindEvents      Kind = "events"       // Event
	KindOutbox      Kind = "outbox"       // OutboxMessage
	KindSMSCounts   Kind = "sms_counters" // SMSCount
)

// Kinds are every Kind, in copy order.
var Kinds = []Kind{
	KindSecrets, KindKeys, KindClients, KindMembers, KindPasskeys, KindDevices, KindConsents,
	KindSessions, KindTokens, KindRevocations, KindOTPs, KindEvents, KindOutbox, KindSMSCounts,
}

// NamedSecret is a server secret as Secrets keeps it.
type NamedSecret struct {
	Name  string
	Value []byte
}

// Revocation is a recorded revocation of the tokens that are not stored
// (see Tokens.DeleteTokens), in a form every backend can read back: the
// filter it was made with, when, and until when it is kept.
type Revocation struct {
	Filter    TokenFilter
	RevokedAt time.Time
	ExpiresAt time.Time // kept to the microsecond (PostgreSQL's)
}

// SMSCount is one minute's counter of the SMS budget.
type SMSCount struct {
	Minute time.Time // UTC, truncated to SMSMinute
	Count  int
}

// Exporter reads every record of a kind, for a copy of the whole store.
type Exporter interface {
	// Export calls fn with every stored record of kind, one at a time and
	// in no particular order, each as the type its Kind names (a value,
	// not a pointer). A consumed refresh token is exported consumed, an
	// expired record that the janitor has not deleted yet is exported.
	// An error from fn stops the export and is returned.
	Export(ctx context.Context, kind Kind, fn func(record any) error) error
	// Count returns how many records of kind are stored.
	Count(ctx context.Context, kind Kind) (int, error)
}

// Importer writes records exactly as another backend exported them.
type Importer interface {
	// Import stores records, all of kind and of the type it names, in one
	// commit: all of them, or none. Nothing is derived or changed: ids,
	// hashes, times, consumed flags and counters are stored as given, and
	// a revocation is enforced by TokenRevoked as if DeleteTokens had
	// recorded it. A key (or unique index) already taken fails the whole
	// call with ErrAlreadyExists; a record of another type is an error.
	// Import is for a store that no server uses yet.
	Import(ctx context.Context, kind Kind, records []any) error
}

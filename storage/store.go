package storage

// Store is a complete backend: every role, plus Close. Consumers take the
// narrowest role they need.
type Store interface {
	Members
	Clients
	AuthRequests
	Tokens
	Keys
	Secrets
	Sessions
	OTPs
	Devices
	Passkeys
	Consents
	Events
	EventRetention
	Outbox
	Logins
	MemberEvents
	CredentialChanges
	Units
	Janitor
	SMSBudget
	Exporter
	Importer
	PushedRequests
	JTIs
	Throttles
	LoginAttempts
	SingleUse
	ChangeNotifier
	Idempotency
	Jobs
	EventPages
	SupportSessions
	DeviceGrants
	Webhooks
	Erasure
	MemberContacts
	Close() error
}

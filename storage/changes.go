package storage

// Kinds of record whose changes ChangeNotifier reports.
const (
	ChangeClients = "clients" // storage.Client, by id
	ChangeKeys    = "keys"    // storage.SigningKey, by id
)

// ChangeNotifier tells the caches above storage (the provider's client
// registry and key ring) about changes made in any process that shares
// the backend, so that a removed client or a rotated secret fails on every
// replica, not only on the one that made the change.
type ChangeNotifier interface {
	// OnChange calls fn with the id of each record of kind (ChangeClients,
	// ChangeKeys) created, updated or deleted, once the change is
	// committed, whichever process made it (this one included); and with
	// "" when changes may have been missed, meaning any record of the kind
	// may have changed. fn runs on a goroutine of the backend: it must
	// return quickly and must not call the store. stop ends the
	// subscription.
	OnChange(kind string, fn func(id string)) (stop func())
	// ChangesCurrent reports whether every change committed more than the
	// backend's bound ago (storage/postgres: Options.RevocationDelay;
	// storage/bolt, one process: always) has been passed to the
	// subscribers. A cache kept by OnChange answers only while it holds,
	// and reads the store otherwise.
	ChangesCurrent() bool
}

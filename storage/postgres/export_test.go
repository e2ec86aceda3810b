package postgres

import "tsubasa/storage"

// Fresh reports whether the store answers from its caches.
func (s *Store) Fresh() bool { return s.feed.fresh() }

// ListenerName is the application_name of the store's listener.
func (s *Store) ListenerName() string { return s.feed.cfg.RuntimeParams["application_name"] }

// Remembers reports whether the in-memory revocations revoke t.
func (s *Store) Remembers(t storage.Token) bool { return s.revoked.revoked(&t) }

// Cached reports whether the member cache holds id.
func (s *Store) Cached(id string) bool {
	_, ok := s.members.get(id)
	return ok
}

// StopFeed stops the store's listener as a hung one would stop: no
// notification and no ping arrives any more.
func (s *Store) StopFeed() { s.feed.stop() }

// SessionCached reports whether the session cache holds id.
func (s *Store) SessionCached(id string) bool {
	_, ok := s.sessCache.get(id)
	return ok
}

// SessionCachedCopy is the session cache's copy of id.
func (s *Store) SessionCachedCopy(id string) (storage.Session, bool) { return s.sessCache.get(id) }

package postgres

import (
	"sync"

	"tsubasa/storage"
)

// subscribers are the callers of OnChange: the caches above storage that
// must forget a client or a signing key when any replica changes it
// (storage.ChangeNotifier). Writes of clients and keys notify every
// process in their transaction ("c<id>", "k<id>"), the feed hands each
// notification here, and a listener that reconnects tells every
// subscriber that anything may have changed (""). ChangesCurrent is the
// feed's freshness: what was committed more than RevocationDelay ago has
// been handed over.
type subscribers struct {
	mu   sync.Mutex
	next int
	m    map[string]map[int]func(string)
}

var _ storage.ChangeNotifier = (*Store)(nil)

func newSubscribers() *subscribers { return &subscribers{m: map[string]map[int]func(string){}} }

// OnChange subscribes fn to the changes of kind made by any replica.
func (s *Store) OnChange(kind string, fn func(id string)) (stop func()) {
	c := s.subs
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.next
	c.next++
	if c.m[kind] == nil {
		c.m[kind] = map[int]func(string){}
	}
	c.m[kind][id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.m[kind], id)
	}
}

// ChangesCurrent reports whether the feed is fresh: every change committed
// more than Options.RevocationDelay ago has reached the subscribers.
func (s *Store) ChangesCurrent() bool { return s.feed.fresh() }

// notify calls the subscribers of kind with id ("" for all).
func (c *subscribers) notify(kind, id string) {
	c.mu.Lock()
	fns := make([]func(string), 0, len(c.m[kind]))
	for _, fn := range c.m[kind] {
		fns = append(fns, fn)
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(id)
	}
}

// everything tells every subscriber that anything may have changed.
func (c *subscribers) everything() {
	for _, kind := range []string{storage.ChangeClients, storage.ChangeKeys} {
		c.notify(kind, "")
	}
}

// maxNotifiedID bounds the id a notification carries (PostgreSQL's limit
// is 8000 bytes a payload); a longer one is sent as "any of the kind".
const maxNotifiedID = 3500

// clientChanged and keyChanged are the notification payloads of a change
// to a client or a signing key.
func clientChanged(id string) string { return changePayload("c", "C", id) }
func keyChanged(id string) string    { return changePayload("k", "K", id) }

func changePayload(one, all, id string) string {
	if len(id) > maxNotifiedID || id == "" {
		return all
	}
	return one + id
}

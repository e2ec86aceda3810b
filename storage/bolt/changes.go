package bolt

import (
	"sync"

	"tsubasa/storage"
)

var _ storage.ChangeNotifier = (*Store)(nil)

// changes is storage.ChangeNotifier for one process: every change of a
// client or a signing key is made through this Store, which calls the
// subscribers once it has committed, before the write returns. So a cache
// kept by them is never stale, and ChangesCurrent always holds.
type changes struct {
	mu   sync.Mutex
	next int
	subs map[string]map[int]func(string)
}

func newChanges() *changes { return &changes{subs: map[string]map[int]func(string){}} }

// OnChange subscribes fn to the changes of kind.
func (s *Store) OnChange(kind string, fn func(id string)) (stop func()) {
	c := s.changes
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.next
	c.next++
	if c.subs[kind] == nil {
		c.subs[kind] = map[int]func(string){}
	}
	c.subs[kind][id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.subs[kind], id)
	}
}

// ChangesCurrent holds always: subscribers hear of a change before the
// write that made it returns.
func (s *Store) ChangesCurrent() bool { return true }

// notify tells the subscribers of kind that id changed. Writers call it
// after their commit, and after a failure too (the subscribers drop a
// cache entry: always safe).
func (c *changes) notify(kind, id string) {
	c.mu.Lock()
	fns := make([]func(string), 0, len(c.subs[kind]))
	for _, fn := range c.subs[kind] {
		fns = append(fns, fn)
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(id)
	}
}

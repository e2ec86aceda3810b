package bolt

import (
	"context"
	"sync"
	"time"

	"tsubasa/storage"
)

// maxPending bounds the authorization requests held in memory (about a
// kilobyte each, abandoned ones included until they expire). Beyond it, new
// requests go to the file as before: slower, never refused. Ten thousand
// covers a few minutes of logins at the rates one server reaches, and keeps
// a flood of /authorize calls, or of logins refused while the hash limiter
// is full, from growing the heap by more than about ten megabytes.
const maxPending = 10_000

// pendingRequests holds authorization requests that have no code yet.
//
// Until a code is saved for it, a request is worth nothing after a crash:
// nothing was answered to the relying party, and the member simply starts
// the login again. So creating, binding and completing a request costs no
// commit; SaveAuthCode writes the request together with its code in one
// commit, and from then on it lives in the file like any other record. A
// login in progress is therefore lost on a crash or restart (the member
// sees "the request has expired"), and backups do not contain it.
type pendingRequests struct {
	mu  sync.Mutex
	m   map[string]*pendingRequest
	max int // maxPending; smaller in tests
}

// pendingRequest is one request in memory. Its own lock serialises
// updates to it (and the commit that moves it to the file) without
// holding up other requests.
// It keeps its own copy, normalised as the file would store it (times in
// UTC, no monotonic reading), and hands out copies, so that neither a
// caller nor an update function can change what is held.
type pendingRequest struct {
	mu   sync.Mutex
	r    storage.AuthRequest
	gone bool // moved to the file or deleted: look in the file instead
}

func (e *pendingRequest) request() storage.AuthRequest { return e.r.Clone() }

func (e *pendingRequest) set(r storage.AuthRequest) {
	e.r = r.Clone()
	utcTimes(&e.r)
}

func newPendingRequests() *pendingRequests {
	return &pendingRequests{m: map[string]*pendingRequest{}, max: maxPending}
}

// get returns the entry for id, if one is pending.
func (p *pendingRequests) get(id string) *pendingRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}

// with runs fn on the entry for id, under the entry's lock, and reports
// whether the request was pending: when it was not (or no longer is), fn
// does not run and the caller looks in the file instead.
func (p *pendingRequests) with(ctx context.Context, id string, fn func(e *pendingRequest) error) (bool, error) {
	e := p.get(id)
	if e == nil {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return false, nil
	}
	return true, fn(e)
}

// remove forgets id; the caller holds e.mu and has set e.gone.
func (p *pendingRequests) remove(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
}

// deleteExpired drops every pending request whose ExpiresAt is not after
// now and returns how many.
func (p *pendingRequests) deleteExpired(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for id, e := range p.m {
		// An entry whose lock is held is in use, and its holder may be
		// about to call remove, which takes p.mu after e.mu: waiting for
		// e.mu here, holding p.mu, deadlocked every later request for
		// the file under load. Skipped, it is dropped by its holder or
		// by the next sweep.
		if !e.mu.TryLock() {
			continue
		}
		if !now.Before(e.r.ExpiresAt) {
			e.gone = true
			delete(p.m, id)
			n++
		}
		e.mu.Unlock()
	}
	return n
}

func (p *pendingRequests) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

package storage

import (
	"context"
	"log/slog"
	"time"
)

// What the HTTP admin API keeps (provider/admin/adminhttp): the answers
// of requests made with an idempotency key, the jobs it runs (a member
// import), and a member's audit log read a page at a time. Each is stored
// rather than kept in a process's memory, so that any replica answers a
// retry, a job's progress or the next page the same way.

// IdempotencyRecord is a request made with an Idempotency-Key, and once it
// is answered, its answer.
type IdempotencyRecord struct {
	// Key is the caller's key for the request: an HMAC of the calling
	// client and its Idempotency-Key, so keys of different clients never
	// collide and the header's value never reaches storage.
	Key string
	// Fingerprint identifies the request (method, path, query, body): a
	// retry must carry the same one.
	Fingerprint string
	// Done is set with the answer; until then the request is running and
	// the record is its reservation.
	Done        bool
	Status      int
	ContentType string
	Location    string
	ETag        string
	// Body is the answer's body as the caller stored it (sealed: it may
	// hold a secret shown once, such as a new client's).
	Body      []byte
	CreatedAt time.Time
	// ExpiresAt ends the record: a reservation's short lease, so that a
	// request that died frees its key, or the answer's lifetime.
	ExpiresAt time.Time
}

// Expired reports whether the record no longer counts at now.
func (r IdempotencyRecord) Expired(now time.Time) bool { return !now.Before(r.ExpiresAt) }

// LogValue keeps the answer out of logs.
func (r IdempotencyRecord) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("done", r.Done), slog.Int("status", r.Status))
}

// Idempotency keeps the answers of requests made with an idempotency key,
// so that a retry gets the first answer instead of a second effect.
type Idempotency interface {
	// ReserveIdempotencyKey stores r (not Done) as the reservation of its
	// key, unless a record of the key exists that has not expired at now:
	// then nothing is written and that record is returned with an error
	// wrapping ErrAlreadyExists. Of concurrent reservations of a key, in
	// any number of processes, exactly one wins. An expired record is
	// replaced.
	ReserveIdempotencyKey(ctx context.Context, r IdempotencyRecord, now time.Time) (IdempotencyRecord, error)
	// CompleteIdempotencyKey replaces the reservation of r.Key with r, its
	// answer (Done set). ErrNotFound when there is no record of the key,
	// ErrConsumed when the record is done already.
	CompleteIdempotencyKey(ctx context.Context, r IdempotencyRecord) error
	// ReleaseIdempotencyKey deletes the reservation of key, so that the
	// request may be tried again (its attempt failed without an answer
	// worth keeping). A record that is done, or none, is left as it is.
	ReleaseIdempotencyKey(ctx context.Context, key string) error
}

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is a long task the admin API runs for a client, such as a member
// import: any replica answers its progress from the record.
type Job struct {
	ID       string
	Kind     string // e.g. member_import
	ClientID string // the client that started it
	Agent    string // the agent the client named, if any
	State    string // JobRunning, JobDone or JobFailed
	// Progress is the job's progress, and once it is done its result,
	// as a JSON document whose shape its Kind decides.
	Progress []byte
	// Error says why a failed job stopped, worded for the operator.
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time // when the record may be deleted
}

// Jobs stores the admin API's jobs.
type Jobs interface {
	// CreateJob stores a new job; ErrAlreadyExists when its id is taken.
	CreateJob(ctx context.Context, j Job) error
	// JobByID returns a job, even one past its ExpiresAt.
	JobByID(ctx context.Context, id string) (Job, error)
	// UpdateJob applies fn to the job, atomically; ErrNotFound when there
	// is none.
	UpdateJob(ctx context.Context, id string, fn func(Job) (Job, error)) error
	// ListJobs returns the newest jobs first, by CreatedAt then id, at
	// most limit (all when limit <= 0).
	ListJobs(ctx context.Context, limit int) ([]Job, error)
}

// EventPages reads a member's audit log a page at a time.
type EventPages interface {
	// ListEventsBefore returns the member's events that come before the
	// position (before, beforeID) in the log's order, newest first, at
	// most limit (all when limit <= 0). The order is the one ListEvents
	// returns: Time, then ID, both descending. A zero before starts at the
	// newest event. Events appended later never shift a page: a position
	// names an event's time and id, not an offset.
	ListEventsBefore(ctx context.Context, memberID string, before time.Time, beforeID string, limit int) ([]Event, error)
}

package storagetest

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
)

func idemRecord(key, fingerprint string, exp time.Duration) storage.IdempotencyRecord {
	return storage.IdempotencyRecord{Key: key, Fingerprint: fingerprint, CreatedAt: at(0), ExpiresAt: at(exp)}
}

func answered(r storage.IdempotencyRecord, status int, body string) storage.IdempotencyRecord {
	r.Done, r.Status, r.ContentType, r.Location, r.ETag, r.Body = true, status, "application/json", "/admin/v1/members/m1", `"v1"`, []byte(body)
	r.ExpiresAt = at(24 * time.Hour)
	return r
}

var idempotencyTests = []test{
	{"ReserveIdempotencyKey/the first reservation wins; a second returns the record with ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		first := idemRecord("k1", "fp1", time.Minute)
		_, err := s.ReserveIdempotencyKey(ctx, first, at(0))
		ok(t, err)
		held, err := s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp2", time.Minute), at(time.Second))
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, held, first)
	}},
	{"ReserveIdempotencyKey/a completed answer is returned whole, body and headers as stored", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		r := idemRecord("k1", "fp1", time.Minute)
		must(s.ReserveIdempotencyKey(ctx, r, at(0)))(t)
		done := answered(r, 201, `{"number":"1234567"}`)
		ok(t, s.CompleteIdempotencyKey(ctx, done))
		held, err := s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp1", time.Minute), at(time.Hour))
		isErr(t, err, storage.ErrAlreadyExists)
		utcOnly(t, held)
		equal(t, held, done)
	}},
	{"ReserveIdempotencyKey/keys are independent", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		must(s.ReserveIdempotencyKey(ctx, idemRecord("client-a/k", "fp", time.Minute), at(0)))(t)
		must(s.ReserveIdempotencyKey(ctx, idemRecord("client-b/k", "fp", time.Minute), at(0)))(t)
	}},
	{"ReserveIdempotencyKey/an expired reservation or answer is replaced", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		must(s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp1", time.Minute), at(0)))(t)
		// The lease of a request that died has run out: the key is free.
		must(s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp2", 2*time.Minute), at(time.Minute)))(t)
		ok(t, s.CompleteIdempotencyKey(ctx, answered(idemRecord("k1", "fp2", 0), 200, "{}")))
		next := idemRecord("k1", "fp3", 25*time.Hour)
		must(s.ReserveIdempotencyKey(ctx, next, at(24*time.Hour)))(t)
		held, err := s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp4", 26*time.Hour), at(24*time.Hour))
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, held, next)
	}},
	{"ReserveIdempotencyKey/50 concurrent reservations of one key have exactly one winner", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		errs := race(50, func(int) error {
			_, err := s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp", time.Minute), at(0))
			if errors.Is(err, storage.ErrAlreadyExists) {
				return storage.ErrConsumed // oneWinner's loser
			}
			return err
		})
		oneWinner(t, errs)
	}},
	{"CompleteIdempotencyKey/once only; an unknown key returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		isErr(t, s.CompleteIdempotencyKey(ctx, answered(idemRecord("nope", "fp", 0), 200, "{}")), storage.ErrNotFound)
		must(s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp", time.Minute), at(0)))(t)
		first := answered(idemRecord("k1", "fp", 0), 201, `{"a":1}`)
		ok(t, s.CompleteIdempotencyKey(ctx, first))
		isErr(t, s.CompleteIdempotencyKey(ctx, answered(idemRecord("k1", "fp", 0), 500, `{"b":2}`)), storage.ErrConsumed)
		held, _ := s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp", time.Minute), at(time.Second))
		equal(t, held, first)
	}},
	{"ReleaseIdempotencyKey/frees a reservation, leaves an answer and ignores an unknown key", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.ReleaseIdempotencyKey(ctx, "nope"))
		must(s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp", time.Minute), at(0)))(t)
		ok(t, s.ReleaseIdempotencyKey(ctx, "k1"))
		must(s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp", time.Minute), at(0)))(t)
		done := answered(idemRecord("k1", "fp", 0), 200, "{}")
		ok(t, s.CompleteIdempotencyKey(ctx, done))
		ok(t, s.ReleaseIdempotencyKey(ctx, "k1"))
		held, err := s.ReserveIdempotencyKey(ctx, idemRecord("k1", "fp", time.Minute), at(time.Second))
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, held, done)
	}},
}

func job(id string, created time.Duration) storage.Job {
	return storage.Job{
		ID: id, Kind: "member_import", ClientID: "ops", Agent: "agent-7", State: storage.JobRunning,
		Progress: []byte(`{"rows":0}`), CreatedAt: at(created), UpdatedAt: at(created), ExpiresAt: at(created + 7*24*time.Hour),
	}
}

func jobIDs(js []storage.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.ID)
	}
	return out
}

var jobTests = []test{
	{"CreateJob/round-trips exactly; a taken id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		j := job("j1", 0)
		j.CreatedAt, j.UpdatedAt = j.CreatedAt.In(tokyo()), j.UpdatedAt.In(tokyo())
		ok(t, s.CreateJob(ctx, j))
		got := must(s.JobByID(ctx, "j1"))(t)
		utcOnly(t, got)
		equal(t, got, job("j1", 0))
		isErr(t, s.CreateJob(ctx, job("j1", time.Minute)), storage.ErrAlreadyExists)
		_, err := s.JobByID(ctx, "nope")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"UpdateJob/applies the function; an error from it changes nothing; an unknown job returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateJob(ctx, job("j1", 0)))
		ok(t, s.UpdateJob(ctx, "j1", func(j storage.Job) (storage.Job, error) {
			j.State, j.Progress, j.Error, j.UpdatedAt = storage.JobFailed, []byte(`{"rows":7}`), "the upload was cut", at(time.Minute)
			return j, nil
		}))
		isErr(t, s.UpdateJob(ctx, "j1", func(j storage.Job) (storage.Job, error) {
			j.State = storage.JobDone
			return j, errBoom
		}), errBoom)
		want := job("j1", 0)
		want.State, want.Progress, want.Error, want.UpdatedAt = storage.JobFailed, []byte(`{"rows":7}`), "the upload was cut", at(time.Minute)
		equal(t, must(s.JobByID(ctx, "j1"))(t), want)
		isErr(t, s.UpdateJob(ctx, "nope", func(j storage.Job) (storage.Job, error) { return j, nil }), storage.ErrNotFound)
	}},
	{"ListJobs/the newest first, at most limit", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for _, j := range []storage.Job{job("b", time.Minute), job("c", 3*time.Minute), job("a", 2*time.Minute), job("d", time.Minute)} {
			ok(t, s.CreateJob(ctx, j))
		}
		// Same CreatedAt: by id, descending.
		equal(t, jobIDs(must(s.ListJobs(ctx, 0))(t)), []string{"c", "a", "d", "b"})
		equal(t, jobIDs(must(s.ListJobs(ctx, 2))(t)), []string{"c", "a"})
	}},
	{"DeleteExpired/deletes expired idempotency records and jobs and leaves the live ones", func(t *testing.T, s storage.Store) {
		ctx, now := t.Context(), at(time.Hour)
		must(s.ReserveIdempotencyKey(ctx, idemRecord("dead", "fp", time.Hour), at(0)))(t)
		must(s.ReserveIdempotencyKey(ctx, idemRecord("live", "fp", time.Hour+time.Second), at(0)))(t)
		dead, live := job("dead", 0), job("live", 0)
		dead.ExpiresAt, live.ExpiresAt = now, now.Add(time.Nanosecond)
		ok(t, s.CreateJob(ctx, dead))
		ok(t, s.CreateJob(ctx, live))
		equal(t, must(s.DeleteExpired(ctx, now))(t), 2)
		_, err := s.JobByID(ctx, "dead")
		isErr(t, err, storage.ErrNotFound)
		must(s.JobByID(ctx, "live"))(t)
		equal(t, jobIDs(must(s.ListJobs(ctx, 0))(t)), []string{"live"})
		// The dead key is free again, the live one still held.
		must(s.ReserveIdempotencyKey(ctx, idemRecord("dead", "fp", 2*time.Hour), now))(t)
		_, err = s.ReserveIdempotencyKey(ctx, idemRecord("live", "fp", 2*time.Hour), now)
		isErr(t, err, storage.ErrAlreadyExists)
	}},
}

var eventPageTests = []test{
	{"ListEventsBefore/pages through the member's events newest first, each page after the last, other members' apart", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		// Two events share a time: the id orders them.
		for _, e := range []storage.Event{
			event("e3", "m1", at(3*time.Minute)), event("e1", "m1", at(time.Minute)), event("x1", "m2", at(2*time.Minute)),
			event("e5", "m1", at(5*time.Minute)), event("e4b", "m1", at(4*time.Minute)), event("e2", "m1", at(2*time.Minute)),
			event("e4a", "m1", at(4*time.Minute)), event("x2", "m10", at(6*time.Minute)), event("x3", "", at(7*time.Minute)),
		} {
			ok(t, s.AppendEvent(ctx, e))
		}
		first := must(s.ListEventsBefore(ctx, "m1", time.Time{}, "", 2))(t)
		equal(t, eventIDs(first), []string{"e5", "e4b"})
		last := first[len(first)-1]
		second := must(s.ListEventsBefore(ctx, "m1", last.Time, last.ID, 2))(t)
		equal(t, eventIDs(second), []string{"e4a", "e3"})
		last = second[len(second)-1]
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m1", last.Time, last.ID, 10))(t)), []string{"e2", "e1"})
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m1", at(time.Minute), "e1", 10))(t)), []string(nil))
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m1", time.Time{}, "", 0))(t)), []string{"e5", "e4b", "e4a", "e3", "e2", "e1"})
		// A position between events (not an event's own) works as well.
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m1", at(3*time.Minute+time.Second), "", 10))(t)), []string{"e3", "e2", "e1"})
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m2", time.Time{}, "", 10))(t)), []string{"x1"})
	}},
	{"ListEventsBefore/events appended after a page was read do not shift the next page", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for i, id := range []string{"e1", "e2", "e3", "e4"} {
			ok(t, s.AppendEvent(ctx, event(id, "m1", at(time.Duration(i)*time.Minute))))
		}
		first := must(s.ListEventsBefore(ctx, "m1", time.Time{}, "", 2))(t)
		ok(t, s.AppendEvent(ctx, event("e5", "m1", at(10*time.Minute))))
		last := first[len(first)-1]
		equal(t, eventIDs(must(s.ListEventsBefore(ctx, "m1", last.Time, last.ID, 2))(t)), []string{"e2", "e1"})
	}},
	{"ListEventsBefore/events round-trip as ListEvents returns them", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.AppendEvent(ctx, event("e1", "m1", at(0).In(tokyo()))))
		got := must(s.ListEventsBefore(ctx, "m1", time.Time{}, "", 1))(t)
		equal(t, got, must(s.ListEvents(ctx, "m1", 1))(t))
		equal(t, got, []storage.Event{event("e1", "m1", at(0))})
	}},
}

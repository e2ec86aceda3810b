package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// Jobs: a member import over HTTP streams for as long as the upload takes,
// so it runs as a job, stored from the start and updated as it goes,
// which any replica reads back (GET /admin/v1/jobs/{id}). The job's
// progress is its ImportResult so far, its refused rows bounded by
// adminapi.MaxImportErrors.

const (
	jobKindImport = "member_import"
	// jobHeartbeat is how often a running job's record is updated, at
	// most; a job not updated for jobAbandoned is reported abandoned (its
	// process died, or its upload stalled).
	jobHeartbeat = time.Second
	jobAbandoned = 2 * time.Minute
	maxJobsLimit = 100
)

// RunJob runs op as a job for ctx's caller and returns the job as it
// ended. Only member/import runs as a job. started gets the job once it
// is stored, before the operation starts: the transport tells the caller
// its id then; an error from started fails the job before it does
// anything, and is returned. Otherwise an error is returned only when the
// job could not be stored; an operation that fails makes a failed job.
func (s *Service) RunJob(ctx context.Context, op string, req adminapi.Request, started func(adminapi.JobView) error) (adminapi.JobView, error) {
	if op != adminapi.MemberImport.Name {
		return adminapi.JobView{}, adminapi.NotFound("operation %q does not run as a job", op)
	}
	in := adminapi.ImportInputFrom(req.Query)
	format, err := importFormat(req.ContentType)
	if err != nil {
		return adminapi.JobView{}, err
	}
	if format == member.FormatCSV {
		// A bad header is the request's fault: refuse it before any job.
		if req.Body, err = checkHeader(req.Body); err != nil {
			return adminapi.JobView{}, err
		}
	}
	c, now := callerOf(ctx), s.now().UTC()
	j := storage.Job{ID: newJobID(), Kind: jobKindImport, ClientID: c.ClientID, Agent: c.Agent, State: storage.JobRunning,
		Progress:  []byte(`{"rows":0,"created":0,"skipped":0,"refused":0,"errors":[]}`),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.jobTTL)}
	if err := s.store.CreateJob(ctx, j); err != nil {
		return adminapi.JobView{}, fmt.Errorf("storing the job: %w", err)
	}
	if err := started(s.viewJob(j)); err != nil {
		s.saveJob(context.WithoutCancel(ctx), j.ID, storage.JobFailed, adminapi.ImportResult{Errors: []adminapi.ImportRowError{}},
			"the job could not start on the server; nothing was imported")
		return adminapi.JobView{}, err
	}
	last := now
	report := func(rows int, rep member.ImportReport) {
		if t := s.now(); t.Sub(last) >= jobHeartbeat {
			last = t
			s.saveJob(ctx, j.ID, storage.JobRunning, importResult(rows, rep, adminapi.MaxImportErrors), "")
		}
	}
	res, err := s.importMembers(ctx, in, req.Body, format, report)
	state, why := storage.JobDone, ""
	if err != nil {
		state, why = storage.JobFailed, jobError(err)
	}
	final := s.saveJob(context.WithoutCancel(ctx), j.ID, state, capErrors(res), why)
	return s.viewJob(final), nil
}

// saveJob stores the job's progress and state, and returns it as stored.
// A failure is logged: the import itself is not undone by it.
func (s *Service) saveJob(ctx context.Context, id, state string, res adminapi.ImportResult, why string) storage.Job {
	b, _ := json.Marshal(res)
	var out storage.Job
	err := s.store.UpdateJob(ctx, id, func(j storage.Job) (storage.Job, error) {
		j.State, j.Progress, j.Error, j.UpdatedAt = state, b, why, s.now().UTC()
		out = j
		return j, nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "job progress not stored", "job_id", id, "state", state, "error", err)
	}
	return out
}

// jobError words why an import stopped, for the operator.
func jobError(err error) string {
	var ae *adminapi.Error
	switch {
	case errors.As(err, &ae):
		return ae.Message
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "the upload ended before the file did (the connection closed or timed out); rows read until then are imported: run the import again to do the rest"
	}
	return "the import stopped on a server error; rows read until then are imported: run the import again to do the rest"
}

func capErrors(r adminapi.ImportResult) adminapi.ImportResult {
	if len(r.Errors) > adminapi.MaxImportErrors {
		r.Errors = r.Errors[:adminapi.MaxImportErrors]
	}
	return r
}

func newJobID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Service) viewJob(j storage.Job) adminapi.JobView {
	v := adminapi.JobView{ID: j.ID, Kind: j.Kind, State: j.State, ClientID: j.ClientID, Agent: j.Agent, Error: j.Error,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, ExpiresAt: j.ExpiresAt}
	_ = json.Unmarshal(j.Progress, &v.Progress)
	if v.Progress.Errors == nil {
		v.Progress.Errors = []adminapi.ImportRowError{}
	}
	if v.State == storage.JobRunning && s.now().Sub(j.UpdatedAt) > jobAbandoned {
		v.State = adminapi.JobAbandoned
	}
	return v
}

func (s *Service) showJob(ctx context.Context, in adminapi.JobIDInput) (adminapi.JobView, error) {
	j, err := s.store.JobByID(ctx, in.ID)
	if errors.Is(err, storage.ErrNotFound) || in.ID == "" {
		return adminapi.JobView{}, adminapi.NotFound("no job %q", in.ID)
	}
	if err != nil {
		return adminapi.JobView{}, err
	}
	return s.viewJob(j), nil
}

func (s *Service) listJobs(ctx context.Context, in adminapi.JobsInput) (adminapi.JobsOutput, error) {
	switch {
	case in.Limit < 0 || in.Limit > maxJobsLimit:
		return adminapi.JobsOutput{}, adminapi.Invalid("limit", "limit must be from 1 to %d", maxJobsLimit)
	case in.Limit == 0:
		in.Limit = 20
	}
	js, err := s.store.ListJobs(ctx, in.Limit)
	if err != nil {
		return adminapi.JobsOutput{}, err
	}
	out := adminapi.JobsOutput{Jobs: make([]adminapi.JobView, len(js))}
	for i, j := range js {
		out.Jobs[i] = s.viewJob(j)
	}
	return out, nil
}

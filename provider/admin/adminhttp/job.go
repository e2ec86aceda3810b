package adminhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"mime"

	"tsubasa/provider/admin/adminapi"
)

// A member import streams its file in the request's body for as long as
// the upload takes, so it runs as a job (admin.Service.RunJob). Once the
// job is stored (and its call audited) the answer starts at once: 202 with
// Location naming the job, which any replica then reports at GET
// /admin/v1/jobs/{id}; the request goes on reading the file (full duplex),
// and the answer's body, written when the file ends, is the job as it
// ended. Nothing of the file is held in memory beyond a batch of rows.

// importIdle is how long an upload may send nothing before it is cut;
// the server's own read timeout does not apply to a stream this long.
const importIdle = time.Minute

// serveJob runs the route's operation as a job.
func (c *call) serveJob() {
	if len(c.r.Header.Values("Idempotency-Key")) > 0 {
		c.finish(operationProblem(c.r, c.id, invalid("Idempotency-Key",
			"an import takes no Idempotency-Key: run it again instead, which skips the members it created")))
		return
	}
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(c.rt.Upload, mt) {
		c.finish(problem(adminapi.ProblemUnsupportedMedia, c.r, c.id, "an import's body is one of %v (got %q)",
			c.rt.Upload, c.r.Header.Get("Content-Type")))
		return
	}
	in, e := c.b.request(c.r, nil) // the query's options, checked
	if e != nil {
		c.finish(operationProblem(c.r, c.id, e))
		return
	}
	var opts adminapi.ImportInput
	_ = json.Unmarshal(in, &opts)
	rc := http.NewResponseController(c.w)
	_ = rc.SetWriteDeadline(time.Time{})
	body := &idleReader{r: http.MaxBytesReader(c.w, c.r.Body, c.h.o.MaxImportBytes), rc: rc}
	started := false
	job, err := c.h.o.Service.RunJob(c.ctx, c.rt.Op, adminapi.Request{Body: body, ContentType: mt, Query: opts.Query()},
		func(j adminapi.JobView) error {
			c.job = j.ID
			if err := c.audit(http.StatusAccepted, ""); err != nil {
				return fmt.Errorf("auditing the call: %w", err)
			}
			started = true
			// The file may be read after the answer starts (HTTP/2 always
			// allows it; HTTP/1.1 needs to be told).
			_ = rc.EnableFullDuplex()
			c.w.Header().Set("Location", adminapi.Prefix+"/jobs/"+j.ID)
			c.w.Header().Set("Content-Type", "application/json")
			c.w.WriteHeader(http.StatusAccepted)
			_ = rc.Flush()
			return nil
		})
	if !started {
		if err == nil {
			err = errors.New("the job did not start")
		}
		c.finish(c.opError(err))
		return
	}
	if err != nil {
		c.h.log.ErrorContext(c.ctx, "admin job failed", "op", c.rt.Op, "job_id", c.job, "error", err)
	}
	_ = rc.SetWriteDeadline(c.h.o.Now().Add(30 * time.Second))
	_ = json.NewEncoder(c.w).Encode(job)
	c.h.log.InfoContext(c.ctx, "admin job", "client_id", c.caller.ClientID, "op", c.rt.Op, "job_id", c.job,
		"state", job.State, "rows", job.Progress.Rows, "duration_ms", c.h.o.Now().Sub(c.start).Milliseconds())
}

// idleReader reads the upload, allowing importIdle for each read.
type idleReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func (r *idleReader) Read(p []byte) (int, error) {
	_ = r.rc.SetReadDeadline(time.Now().Add(importIdle))
	n, err := r.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = &adminapi.Error{Status: http.StatusRequestEntityTooLarge, Problem: adminapi.ProblemBodyTooLarge,
			Message: fmt.Sprintf("the file is larger than %d bytes (admin.api.max_import_bytes); rows before that point are imported", mbe.Limit)}
	}
	return n, err
}

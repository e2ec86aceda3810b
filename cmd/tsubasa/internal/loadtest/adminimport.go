package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// DefaultImportBatch is the rows per import body unless --batch says
// otherwise.
const DefaultImportBatch = 10_000

// adminImportScope is what the admin-import scenario's token asks for
// unless --scope names admin scopes: the import and the job's read.
const adminImportScope = "admin:members:write"

// errScenarioDone ends a worker's loop: a scenario with a fixed amount of
// work (admin-import) has none left.
var errScenarioDone = errors.New("loadtest: no work left")

// adminImport imports --members pre-hashed members numbered from --member
// through POST /admin/v1/members:import, --batch rows per body, the
// workers taking the next body until none is left; each follows its job
// to its end. The rate is members per second from the first byte sent to
// the last job's end (the run's wall clock, which --duration caps).
var adminImport = scenario{
	help:         "POST /admin/v1/members:import of --members pre-hashed members from --member on, --batch rows per body, each job followed to its end",
	needs:        needsClient,
	setup:        setupImport,
	prepare:      prepareAdminToken,
	prepareSlots: 4,
	run:          runImportBody,
}

// importRun is the shared state of an admin-import run.
type importRun struct {
	hash     string // one argon2id PHC string every row carries
	width    int    // digits of a member number
	first    int
	total    int
	batch    int
	next     atomic.Int64 // the next body's index
	mu       sync.Mutex
	rep      importReport
	bodies   int
	failures int
}

// importReport is the admin-import scenario's part of the report.
type importReport struct {
	Members          int     `json:"members"`
	Batch            int     `json:"batch"`
	Bodies           int     `json:"bodies"`
	Rows             int     `json:"rows"`
	Created          int     `json:"created"`
	Skipped          int     `json:"skipped"`
	RowErrors        int     `json:"row_errors"` // refused rows: must be 0
	FailedBodies     int     `json:"failed_bodies"`
	MembersPerSecond float64 `json:"members_per_second"` // created per second of the run's wall clock
}

// setupImport checks the range and computes the one password hash the
// rows share: hashing each would measure the load command, not the
// import, and an import of real members carries hashes made elsewhere.
func setupImport(_ context.Context, l *loader) error {
	o := l.o
	if o.Member == "" || o.Members < 1 {
		return usage("loadtest: admin-import needs --member (the first new number) and --members (how many to import)")
	}
	width := len(o.Member)
	if last := l.firstMember + o.Members - 1; len(strconv.Itoa(last)) > width {
		return usage("loadtest: admin-import: --member %s and --members %d run past %d digits", o.Member, o.Members, width)
	}
	batch := o.Batch
	if batch <= 0 {
		batch = DefaultImportBatch
	}
	l.imp = &importRun{hash: phcHash("Tsubame-Import-2026"), width: width, first: l.firstMember, total: o.Members, batch: batch}
	return nil
}

// phcHash hashes password with argon2id at the server's default
// parameters and a random salt, as a PHC string.
func phcHash(password string) string {
	const m, t, p = 19 * 1024, 2, 1
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, p, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// body is the CSV of the i-th body, or nil past the last.
func (r *importRun) body(i int) []byte {
	from := i * r.batch
	if from >= r.total {
		return nil
	}
	to := min(from+r.batch, r.total)
	var b bytes.Buffer
	b.Grow((to-from)*(len(r.hash)+60) + 64)
	b.WriteString("number,family_name_latin,given_name_latin,country,locale,password_hash\n")
	for n := r.first + from; n < r.first+to; n++ {
		fmt.Fprintf(&b, "%0*d,Import,Member,JP,ja,\"%s\"\n", r.width, n, r.hash)
	}
	return b.Bytes()
}

// jobAnswer is what the import's answer and the job's read say.
type jobAnswer struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Error    string `json:"error"`
	Progress struct {
		Rows, Created, Skipped, Refused int
	} `json:"progress"`
}

// runImportBody sends the next body and follows its job to the end.
func runImportBody(ctx context.Context, w *worker) error {
	r := w.l.imp
	body := r.body(int(r.next.Add(1) - 1))
	if body == nil {
		return errScenarioDone
	}
	j, err := w.importBody(ctx, body)
	if err == nil {
		j, err = w.followJob(ctx, j.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies++
	if err != nil {
		r.failures++
		return err
	}
	r.rep.Rows += j.Progress.Rows
	r.rep.Created += j.Progress.Created
	r.rep.Skipped += j.Progress.Skipped
	r.rep.RowErrors += j.Progress.Refused
	if j.Progress.Refused > 0 {
		return invalidAnswer("job %s refused %d rows", j.ID, j.Progress.Refused)
	}
	return nil
}

// importBody posts one body; the answer (202) ends when the server has
// read it all, with the job as it ended.
func (w *worker) importBody(ctx context.Context, body []byte) (jobAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.l.o.Issuer+"/admin/v1/members:import", bytes.NewReader(body))
	if err != nil {
		return jobAnswer{}, err
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", w.bearer)
	var j jobAnswer
	status, err := w.doJSON(req, &j)
	switch {
	case err != nil:
		return j, err
	case status != http.StatusAccepted || j.ID == "":
		return j, invalidAnswer("import answered %d: %+v", status, j)
	}
	return j, nil
}

// followJob reads the job until it ends (it has by the time the import's
// answer ends; any replica may be asked).
func (w *worker) followJob(ctx context.Context, id string) (jobAnswer, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.l.o.Issuer+"/admin/v1/jobs/"+id, nil)
		if err != nil {
			return jobAnswer{}, err
		}
		req.Header.Set("Authorization", w.bearer)
		var j jobAnswer
		status, err := w.doJSON(req, &j)
		switch {
		case err != nil:
			return j, err
		case status != http.StatusOK:
			return j, invalidAnswer("job %s read: %d", id, status)
		case j.State == "done":
			return j, nil
		case j.State != "running":
			return j, invalidAnswer("job %s ended %s: %s", id, j.State, j.Error)
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// doJSON sends req on the worker's client (the body may be large: not
// the lean path) and decodes a JSON answer into v.
func (w *worker) doJSON(req *http.Request, v any) (int, error) {
	start := time.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	w.req.record(time.Since(start))
	w.requests++
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusAccepted {
		return resp.StatusCode, invalidAnswer("%s %s: %d %.200s", req.Method, req.URL.Path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return resp.StatusCode, invalidAnswer("%s %s: not JSON: %.200s", req.Method, req.URL.Path, b)
	}
	return resp.StatusCode, nil
}

// finish is the scenario's report over the run's wall clock.
func (r *importRun) finish(elapsed time.Duration) *importReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.rep
	rep.Members, rep.Batch, rep.Bodies, rep.FailedBodies = r.total, r.batch, r.bodies, r.failures
	if s := elapsed.Seconds(); s > 0 {
		rep.MembersPerSecond = round1(float64(rep.Created) / s)
	}
	return &rep
}

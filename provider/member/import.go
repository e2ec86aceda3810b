package member

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"tsubasa/storage"
)

// ImportColumns are the columns an import CSV may have, in any order, named
// in a header row. number is required, and at least one of password_hash
// (argon2id or bcrypt PHC string) and pin (6 digits); other columns may be
// left out. Values follow NewMember (an argon2id hash holds commas, so the
// field must be quoted, as any CSV writer does); contacts are imported unverified
// unless ImportOptions.ContactsVerified.
var ImportColumns = []string{
	"number", "family_name", "given_name", "family_name_latin", "given_name_latin",
	"email", "phone", "country", "locale", "password_hash", "pin",
}

// DefaultImportBatch is the number of members written per commit.
const DefaultImportBatch = 1000

// progressEvery is how many rows pass between plain progress lines (a
// variable so a test can see several lines without 10,000-row files).
var progressEvery = 10_000

// ImportOptions configures Import.
type ImportOptions struct {
	BatchSize int       // members per commit [DefaultImportBatch]
	Progress  io.Writer // where progress goes; nil = nowhere
	Total     int64     // input size in bytes, for the progress bar; 0 = unknown
	// Terminal draws a progress bar on Progress; otherwise a plain line
	// "imported N rows" is written every 10,000 rows.
	Terminal         bool
	ContactsVerified bool // mark imported email and phone as verified
	// Format is FormatCSV (the default) or FormatJSONLines.
	Format string
	// Report, when set, is called after each batch is written with the
	// rows read so far and the report as it stands (its Errors grow; the
	// callee must not keep or change the slice).
	Report func(rows int, rep ImportReport)
}

// RowError is a row that was not imported. Line is the line where the
// row starts (a CSV file's header is line 1).
type RowError struct {
	Line   int
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ImportReport sums up an import.
type ImportReport struct {
	Created int
	Skipped int // numbers already taken by a member: re-running an import creates nothing twice
	Errors  []RowError
}

type importRow struct {
	line int
	v    validated
}

// Import reads members from CSV or JSON lines (see ImportColumns,
// ImportOptions.Format) and creates those whose number is new. Every row
// is validated first and a bad row is reported in Errors, never partly
// written. Legacy PINs are hashed with argon2id on the Hasher's slots (all
// of them: run imports while the server is stopped). That dominates the
// time: about members × hash time ÷ MaxConcurrent, e.g. 100,000 PINs at
// 30 ms on 8 cores take about 6 minutes (BenchmarkAuthenticate reports the
// hash time of a machine). Members are written BatchSize at a time, one
// commit per batch. The error is a failure of the whole import
// (unreadable input, bad header, storage); the report then holds what was
// done before it.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportReport, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultImportBatch
	}
	var rep ImportReport
	counter := &countingReader{r: r}
	src, err := newRowSource(counter, opts.Format)
	if err != nil {
		return rep, err
	}
	prog := newImportProgress(opts)
	seen := map[string]int{} // number → first line, to catch duplicates within the file
	var batch []importRow
	rows := 0
	flush := func() error {
		if err := s.importBatch(ctx, batch, &rep); err != nil {
			return err
		}
		batch = batch[:0]
		if opts.Report != nil {
			opts.Report(rows, rep)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		get, line, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			rep.Errors = append(rep.Errors, *re)
			rows++
			prog.update(rows, counter.n.Load())
			continue
		}
		if err != nil {
			return rep, err
		}
		rows++
		if err := s.importRow(ctx, get, line, opts.ContactsVerified, seen, &batch, &rep); err != nil {
			return rep, err
		}
		if len(batch) >= opts.BatchSize {
			if err := flush(); err != nil {
				return rep, err
			}
		}
		prog.update(rows, counter.n.Load())
	}
	if err := flush(); err != nil {
		return rep, err
	}
	prog.finish(rows, rep)
	return rep, nil
}

// importRow validates one row and queues it on batch, or reports it: a
// bad row, a number the file repeats, a number already a member's.
func (s *Service) importRow(ctx context.Context, get func(string) string, line int, verified bool,
	seen map[string]int, batch *[]importRow, rep *ImportReport) error {
	v, err := parseImportRow(ctx, get, verified)
	switch {
	case err != nil:
		rep.Errors = append(rep.Errors, RowError{Line: line, Reason: err.Error()})
	case seen[v.m.Number] != 0:
		rep.Errors = append(rep.Errors, RowError{Line: line,
			Reason: fmt.Sprintf("number %s repeats line %d", v.m.Number, seen[v.m.Number])})
	case v.pin == "" && v.password == "":
		// Nothing to hash: CreateMembers refuses a taken number itself
		// (counted as skipped in importBatch), so a read per row first
		// would only cost time.
		seen[v.m.Number] = line
		*batch = append(*batch, importRow{line: line, v: v})
	default:
		seen[v.m.Number] = line
		// Skip existing members before hashing: a re-run must not spend
		// an argon2id hash on every row.
		_, err := s.store.MemberByNumber(ctx, v.m.Number)
		switch {
		case err == nil:
			rep.Skipped++
		case errors.Is(err, storage.ErrNotFound):
			*batch = append(*batch, importRow{line: line, v: v})
		default:
			return fmt.Errorf("member: import: line %d: %w", line, err)
		}
	}
	return nil
}

// importHeader maps column names to record indexes, refusing unknown,
// repeated and missing columns, all named in one error.
func importHeader(header []string) (map[string]int, error) {
	known := map[string]bool{}
	for _, c := range ImportColumns {
		known[c] = true
	}
	cols := map[string]int{}
	var unknown, repeated []string
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // byte order mark from spreadsheet exports
		}
		h = strings.ToLower(strings.TrimSpace(h))
		switch _, dup := cols[h]; {
		case !known[h]:
			unknown = append(unknown, fmt.Sprintf("%q", h))
		case dup:
			repeated = append(repeated, h)
		default:
			cols[h] = i
		}
	}
	var problems []string
	if len(unknown) > 0 {
		problems = append(problems, "unknown columns "+strings.Join(unknown, ", "))
	}
	if len(repeated) > 0 {
		problems = append(problems, "repeated columns "+strings.Join(repeated, ", "))
	}
	if _, ok := cols["number"]; !ok {
		problems = append(problems, "missing column number")
	}
	_, hasHash := cols["password_hash"]
	if _, hasPIN := cols["pin"]; !hasHash && !hasPIN {
		problems = append(problems, "missing column password_hash or pin")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("member: import header: %s (known columns: %s)",
			strings.Join(problems, "; "), strings.Join(ImportColumns, ", "))
	}
	return cols, nil
}

// parseImportRow validates one row, its fields by column name; it
// touches no store.
func parseImportRow(ctx context.Context, get func(string) string, verified bool) (validated, error) {
	nm := NewMember{
		Number: get("number"), FamilyName: get("family_name"), GivenName: get("given_name"),
		FamilyNameLatin: get("family_name_latin"), GivenNameLatin: get("given_name_latin"),
		Email: get("email"), Phone: get("phone"), Country: get("country"), Locale: get("locale"),
		PasswordHash: strings.TrimSpace(get("password_hash")), PIN: get("pin"), Verified: verified,
	}
	v, fe := validateNew(ctx, nm, nil)
	if fe != nil {
		return v, errors.New(fe.describe())
	}
	if v.passwordHash == "" && v.pin == "" {
		return v, errors.New("no password_hash and no pin: the member could never log in")
	}
	return v, nil
}

// importBatch hashes the PINs of a batch on every hasher slot and writes
// the batch in one CreateMembers call.
func (s *Service) importBatch(ctx context.Context, batch []importRow, rep *ImportReport) error {
	if len(batch) == 0 {
		return nil
	}
	ms := make([]storage.Member, len(batch))
	errs := make([]error, len(batch))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cap(s.hasher.slots), len(batch)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(batch); i = int(next.Add(1) - 1) {
				ms[i], errs[i] = s.complete(ctx, batch[i].v, true)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("member: import: hashing: %w", err)
		}
	}
	res, err := s.store.CreateMembers(ctx, ms)
	if err != nil {
		return fmt.Errorf("member: import: writing batch from line %d: %w", batch[0].line, err)
	}
	for i, err := range res {
		switch {
		case err == nil:
			rep.Created++
		case errors.Is(err, storage.ErrAlreadyExists):
			rep.Skipped++ // created since we looked (another import)
		default:
			rep.Errors = append(rep.Errors, RowError{Line: batch[i].line, Reason: err.Error()})
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// importProgress shows a bar on a terminal and plain lines elsewhere.
type importProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newImportProgress(o ImportOptions) *importProgress {
	p := &importProgress{w: o.Progress}
	if o.Progress != nil && o.Terminal {
		total := o.Total
		if total <= 0 {
			total = -1 // unknown size: a spinner
		}
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(o.Progress),
			progressbar.OptionSetDescription("importing members"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
		)
	}
	return p
}

func (p *importProgress) update(rows int, bytes int64) {
	switch {
	case p.bar != nil:
		_ = p.bar.Set64(bytes)
	case p.w != nil && rows%progressEvery == 0:
		fmt.Fprintf(p.w, "imported %d rows\n", rows)
	}
}

func (p *importProgress) finish(rows int, rep ImportReport) {
	if p.w == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "imported %d rows: %d created, %d skipped, %d errors\n",
		rows, rep.Created, rep.Skipped, len(rep.Errors))
}

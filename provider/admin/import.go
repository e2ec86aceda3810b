package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"golang.org/x/term"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
)

// importFile is the member/import operation: the file is the request's
// body, CSV unless its content type says JSON lines.
func (s *Service) importFile(ctx context.Context, in adminapi.ImportInput, req adminapi.Request) (adminapi.ImportResult, error) {
	format, err := importFormat(req.ContentType)
	if err != nil {
		return adminapi.ImportResult{}, err
	}
	return s.importMembers(ctx, in, req.Body, format, nil)
}

// importFormat is the member import format of a content type: CSV when
// none is given.
func importFormat(contentType string) (string, error) {
	if contentType == "" {
		return member.FormatCSV, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
	case mt == adminapi.MediaCSV:
		return member.FormatCSV, nil
	case mt == adminapi.MediaJSONLines || mt == adminapi.MediaNDJSON:
		return member.FormatJSONLines, nil
	}
	return "", &adminapi.Error{Status: http.StatusUnsupportedMediaType, Problem: adminapi.ProblemUnsupportedMedia,
		Message: fmt.Sprintf("a member import is %s or %s (JSON lines), not %q", adminapi.MediaCSV, adminapi.MediaJSONLines, contentType)}
}

// checkHeader reads the first line of a CSV import and checks it as the
// header, returning the whole stream again.
func checkHeader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := br.ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, adminapi.Invalid("file", "the first line, the header, is longer than 64 KiB")
		}
		var ae *adminapi.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, adminapi.Invalid("file", "the file could not be read")
	}
	line = bytes.Clone(line)
	if err := member.CheckImportHeader(line); err != nil {
		return nil, headerError(err)
	}
	return io.MultiReader(bytes.NewReader(line), br), nil
}

// headerError words a refused header (or an empty file) for the operator.
func headerError(err error) *adminapi.Error {
	if errors.Is(err, io.EOF) {
		return adminapi.Invalid("file", "the file is empty: the first line must name the columns (%s)",
			strings.Join(member.ImportColumns, ", "))
	}
	return adminapi.Invalid("file", "%s", strings.TrimPrefix(err.Error(), "member: "))
}

// importMembers creates members from CSV or JSON lines (columns:
// member.ImportColumns). Rows that fail are listed in the result; only a
// failure of the whole import (bad header, unreadable input, storage) is
// an error. report, when set, sees the progress after each batch.
func (s *Service) importMembers(ctx context.Context, in adminapi.ImportInput, r io.Reader, format string,
	report func(rows int, rep member.ImportReport)) (adminapi.ImportResult, error) {
	opts := member.ImportOptions{Progress: s.progress, ContactsVerified: in.ContactsVerified, Format: format, Report: report}
	if f, ok := s.progress.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.Terminal = true
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			opts.Total = fi.Size()
		}
	}
	rows := 0
	opts.Report = func(n int, rep member.ImportReport) {
		rows = n
		if report != nil {
			report(n, rep)
		}
	}
	rep, err := s.members.Import(ctx, r, opts)
	out := importResult(rows, rep, -1)
	if err != nil {
		var pe *csv.ParseError
		var ae *adminapi.Error
		switch {
		case errors.Is(err, io.EOF), errors.As(err, &pe), strings.HasPrefix(err.Error(), "member: import header"):
			return out, headerError(err)
		case errors.As(err, &ae):
			return out, ae // the transport's (a stream over its bound)
		}
		return out, fmt.Errorf("import stopped after creating %d members (%d skipped): %w", rep.Created, rep.Skipped, err)
	}
	return out, nil
}

// importResult is the API's view of an import report; maxErrors >= 0
// bounds the refused rows listed.
func importResult(rows int, rep member.ImportReport, maxErrors int) adminapi.ImportResult {
	out := adminapi.ImportResult{Rows: rows, Created: rep.Created, Skipped: rep.Skipped, Refused: len(rep.Errors),
		Errors: []adminapi.ImportRowError{}}
	for i, e := range rep.Errors {
		if maxErrors >= 0 && i >= maxErrors {
			break
		}
		out.Errors = append(out.Errors, adminapi.ImportRowError{Line: e.Line, Reason: e.Reason})
	}
	return out
}

package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
)

// importMembers creates members from CSV (columns: member.ImportColumns).
// Rows that fail are listed in the result; only a failure of the whole
// import (bad header, unreadable input, storage) is an error.
func (s *Service) importMembers(ctx context.Context, in adminapi.ImportInput, r io.Reader) (adminapi.ImportResult, error) {
	opts := member.ImportOptions{Progress: s.progress, ContactsVerified: in.ContactsVerified}
	if f, ok := s.progress.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.Terminal = true
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			opts.Total = fi.Size()
		}
	}
	rep, err := s.members.Import(ctx, r, opts)
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return adminapi.ImportResult{}, adminapi.Invalid("file", "the file is empty: the first line must name the columns (%s)",
				strings.Join(member.ImportColumns, ", "))
		case errors.As(err, &pe), strings.HasPrefix(err.Error(), "member: import header"):
			return adminapi.ImportResult{}, adminapi.Invalid("file", "%s", strings.TrimPrefix(err.Error(), "member: "))
		}
		return adminapi.ImportResult{}, fmt.Errorf("import stopped after creating %d members (%d skipped): %w",
			rep.Created, rep.Skipped, err)
	}
	out := adminapi.ImportResult{Created: rep.Created, Skipped: rep.Skipped, Errors: []adminapi.ImportRowError{}}
	for _, e := range rep.Errors {
		out.Errors = append(out.Errors, adminapi.ImportRowError{Line: e.Line, Reason: e.Reason})
	}
	return out, nil
}

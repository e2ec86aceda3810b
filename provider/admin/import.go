package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"tsubasa/provider/member"
)

// importResult sums up a member import.
type importResult struct {
	Created int              `json:"created"`
	Skipped int              `json:"skipped"` // numbers already taken: a re-run creates nothing twice
	Errors  []importRowError `json:"errors"`
}

type importRowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// importMembers creates members from CSV (columns: member.ImportColumns).
// Rows that fail are listed in the result; only a failure of the whole
// import (bad header, unreadable input, storage) is an error.
func (o *adminOps) importMembers(ctx context.Context, r io.Reader, contactsVerified bool) (importResult, error) {
	opts := member.ImportOptions{Progress: o.progress, ContactsVerified: contactsVerified}
	if f, ok := o.progress.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.Terminal = true
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			opts.Total = fi.Size()
		}
	}
	rep, err := o.members.Import(ctx, r, opts)
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return importResult{}, invalid("file", "the file is empty: the first line must name the columns (%s)",
				strings.Join(member.ImportColumns, ", "))
		case errors.As(err, &pe), strings.HasPrefix(err.Error(), "member: import header"):
			return importResult{}, invalid("file", "%s", strings.TrimPrefix(err.Error(), "member: "))
		}
		return importResult{}, fmt.Errorf("import stopped after creating %d members (%d skipped): %w",
			rep.Created, rep.Skipped, err)
	}
	out := importResult{Created: rep.Created, Skipped: rep.Skipped, Errors: []importRowError{}}
	for _, e := range rep.Errors {
		out.Errors = append(out.Errors, importRowError{Line: e.Line, Reason: e.Reason})
	}
	return out, nil
}
